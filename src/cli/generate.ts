/**
 * npm run generate -- [--rate N] [--duration S] [--seed N]
 * Produces realistic analytics events (src/generator/events.ts) to the events topic, in
 * Avro, at about N events/s (default STREAMING_GENERATOR__RATE) for S seconds (default:
 * until Ctrl-C), with a progress line every 5 s.
 */
import { loadConfigOrExit } from '../config';
import { isStreamingError } from '../errors';
import { runGenerator } from '../generator/run';
import { parseCli, wholeNumber } from '../cli-args';

const CLI = {
  usage: 'usage: npm run generate -- [--rate N] [--duration S] [--seed N]',
  help: `Produces realistic analytics events to the events topic (STREAMING_TOPICS__EVENTS), in Avro
through the schema registry, with a progress line every 5 s.

  --rate N       events per second (default STREAMING_GENERATOR__RATE)
  --duration S   stop after S seconds (default: until Ctrl-C)
  --seed N       seed of the event stream (the same seed gives the same events)`,
  options: { rate: { type: 'string' }, duration: { type: 'string' }, seed: { type: 'string' } },
} as const;

async function main(): Promise<void> {
  const { values } = parseCli(CLI);
  const o = {
    rate: wholeNumber(CLI, 'rate', values.rate, 1),
    duration: wholeNumber(CLI, 'duration', values.duration, 1),
    seed: wholeNumber(CLI, 'seed', values.seed),
  };
  const config = loadConfigOrExit();
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  await runGenerator({
    config,
    rate: o.rate ?? config.generator.rate,
    ...(o.duration ? { durationS: o.duration } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    say: (l) => void process.stdout.write(`${l}\n`),
    signal: stop.signal,
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `generate failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
    process.exit(isStreamingError(err) && err.code === 'SA_ERR_USAGE' ? 2 : 1);
  },
);
