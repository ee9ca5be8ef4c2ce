/**
 * npm run generate -- [--rate N] [--duration S] [--seed N]
 * Produces realistic analytics events (src/generator/events.ts) to the events topic, in
 * Avro, at about N events/s (default STREAMING_GENERATOR__RATE) for S seconds (default:
 * until Ctrl-C), with a progress line every 5 s.
 */
import { loadConfigOrExit } from '../config';
import { isStreamingError, StreamingError } from '../errors';
import { runGenerator } from '../generator/run';

const USAGE = 'usage: npm run generate -- [--rate N] [--duration S] [--seed N]';

function options(argv: string[]): { rate?: number; duration?: number; seed?: number } {
  const out: Record<string, number> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (!['rate', 'duration', 'seed'].includes(name) || !argv[i]!.startsWith('--')) throw new StreamingError('SA_ERR_USAGE', `unknown option ${argv[i]}`, { hint: USAGE });
    if (!Number.isInteger(value) || value < (name === 'seed' ? 0 : 1)) throw new StreamingError('SA_ERR_USAGE', `--${name} needs a whole number${name === 'seed' ? '' : ' ≥ 1'}, not ${argv[i + 1] ?? 'nothing'}`, { hint: USAGE });
    out[name] = value;
  }
  return out;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const config = loadConfigOrExit();
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  await runGenerator({ config, rate: o.rate ?? config.generator.rate, ...(o.duration ? { durationS: o.duration } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}), say: (l) => void process.stdout.write(`${l}\n`), signal: stop.signal });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `generate failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
    process.exit(isStreamingError(err) && err.code === 'SA_ERR_USAGE' ? 2 : 1);
  },
);
