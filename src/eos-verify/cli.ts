/**
 * npm run eos-verify [-- --records N --partitions N --keys N --rate N --kills N --bounces N --repartition 0|1 --threads N --checkpoint-fault delete|garbage]
 * Prints ALL-RECORDS-DELIVERED and exits 0, or what was lost/duplicated and exits 1.
 */
import { kafkaClientConfig, loadConfigOrExit } from '../config';
import { finishCli, parseCli, usageError, wholeNumber } from '../cli-args';
import { runEosVerification } from './runner';

const DEFAULTS = { records: 100_000, partitions: 3, keys: 100, rate: 20_000, kills: 3, bounces: 0, repartition: 0, threads: 1 };
const FAULTS = ['delete', 'garbage'] as const;
const CLI = {
  usage:
    'usage: npm run eos-verify -- [--records N] [--partitions N] [--keys N] [--rate N] [--kills N] [--bounces N] [--repartition 0|1] [--threads N] [--checkpoint-fault delete|garbage]',
  help: `Proves exactly-once on the configured Kafka: a driver produces numbered records while two
instances of a test application process them under exactly_once_v2 and one is SIGKILLed and
restarted; then every output is checked against the input (nothing lost, nothing twice).
Prints ALL-RECORDS-DELIVERED and exits 0, or what was lost or duplicated and exits 1.

  --records N            input records (default 100000)
  --partitions N         input partitions (default 3)
  --keys N               distinct keys (default 100)
  --rate N               records per second the driver produces (default 20000)
  --kills N              SIGKILL-and-restart rounds (default 3)
  --bounces N            rounds in which a second instance joins and leaves (default 0)
  --repartition 0|1      route through a repartition topic (default 0)
  --threads N            stream threads per instance (default 1); a kill takes all of them
  --checkpoint-fault F   before each restart: delete the checkpoints, or write garbage in them`,
  options: Object.fromEntries([...Object.keys(DEFAULTS), 'checkpoint-fault'].map((k) => [k, { type: 'string' as const }])),
};

function parse(): typeof DEFAULTS & { checkpointFault?: (typeof FAULTS)[number] } {
  const { values } = parseCli(CLI);
  const out: typeof DEFAULTS & { checkpointFault?: (typeof FAULTS)[number] } = { ...DEFAULTS };
  for (const name of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = wholeNumber(CLI, name, values[name], name === 'threads' ? 1 : 0);
    if (value !== undefined) out[name] = value;
  }
  const fault = values['checkpoint-fault'];
  if (fault !== undefined) {
    const known = FAULTS.find((f) => f === fault);
    if (!known) throw usageError(CLI, `--checkpoint-fault takes delete or garbage, not ${String(fault)}`);
    out.checkpointFault = known;
  }
  if (out.repartition > 1) throw usageError(CLI, `--repartition takes 0 or 1, not ${out.repartition}`);
  if (out.threads > 16) throw usageError(CLI, `--threads takes 1 to 16 (one process each), not ${out.threads}`);
  return out;
}

async function main(): Promise<number> {
  const options = parse();
  const config = loadConfigOrExit();
  const result = await runEosVerification({
    ...options,
    repartition: options.repartition === 1,
    client: kafkaClientConfig(config.kafka),
    appEnv: { ...process.env, STREAMING_LOG__LEVEL: process.env.STREAMING_LOG__LEVEL ?? 'warn' },
    say: (l) => process.stdout.write(`${l}\n`),
  });
  for (const line of result.report) process.stdout.write(`${line}\n`);
  return result.passed ? 0 : 1;
}

finishCli('eos-verify', main());
