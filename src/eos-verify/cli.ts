/**
 * npm run eos-verify [-- --records N --partitions N --keys N --rate N --kills N --bounces N --repartition 0|1 --checkpoint-fault delete|garbage]
 * Prints ALL-RECORDS-DELIVERED and exits 0, or what was lost/duplicated and exits 1.
 */
import { kafkaClientConfig, loadConfigOrExit } from '../config';
import { isStreamingError, StreamingError } from '../errors';
import { runEosVerification } from './runner';

const DEFAULTS = { records: 100_000, partitions: 3, keys: 100, rate: 20_000, kills: 3, bounces: 0, repartition: 0 };
const FAULTS = ['delete', 'garbage'] as const;
const USAGE = 'usage: npm run eos-verify -- [--records N] [--partitions N] [--keys N] [--rate N] [--kills N] [--bounces N] [--repartition 0|1] [--checkpoint-fault delete|garbage]';

function parse(argv: string[]): typeof DEFAULTS & { checkpointFault?: (typeof FAULTS)[number] } {
  const out: typeof DEFAULTS & { checkpointFault?: (typeof FAULTS)[number] } = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--checkpoint-fault') {
      const fault = FAULTS.find((f) => f === argv[i + 1]);
      if (!fault) throw new StreamingError('SA_ERR_USAGE', `bad option --checkpoint-fault ${argv[i + 1] ?? ''}`.trim(), { hint: USAGE });
      out.checkpointFault = fault;
      continue;
    }
    const name = argv[i]!.replace(/^--/, '') as keyof typeof DEFAULTS;
    const value = Number(argv[i + 1]);
    if (!(name in DEFAULTS) || !Number.isInteger(value) || value < 0) throw new StreamingError('SA_ERR_USAGE', `bad option ${argv[i]} ${argv[i + 1] ?? ''}`.trim(), { hint: USAGE });
    out[name] = value;
  }
  return out;
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  const config = loadConfigOrExit();
  const result = await runEosVerification({ ...options, repartition: options.repartition === 1, client: kafkaClientConfig(config.kafka), appEnv: { ...process.env, STREAMING_LOG__LEVEL: process.env.STREAMING_LOG__LEVEL ?? 'warn' }, say: (l) => process.stdout.write(`${l}\n`) });
  for (const line of result.report) process.stdout.write(`${line}\n`);
  return result.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `eos-verify failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
    process.exit(1);
  },
);
