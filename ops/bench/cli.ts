/**
 * npm run bench -- compare engine|windowed|pipeline [options]   this project against the Kafka Streams peer
 * npm run bench -- engine|windowed|pipeline [options]           this project alone, through the same harness
 * npm run bench -- restore [--keys N] [--partitions N]
 * npm run bench -- e2e [--seconds N]
 * npm run bench -- ws [--clients N] [--rate DELIVERIES_PER_S] [--seconds N] [--shape dashboard|broadcast] [--ramp N] [--processes N]
 *
 * Benchmarks print figures; they assert nothing. They share the machine with the local
 * broker, which the report says.
 */
import { loadConfigOrExit, localStackParts, type Config } from '../../src/config';
import { deleteNewTopics, topicNames } from '../kafka/prune';
import { finishCli, parseCli, usageError, wholeNumber } from '../../src/cli-args';
import { compare, type CompareOptions } from './harness/compare';
import { COMPARED, type ScenarioName } from './harness/scenarios';
import { writeSweepChart } from './harness/sweep';
import { benchRestore } from './harness/restore';
import { benchE2e } from './e2e';
import { benchWs, type WsShape } from './ws';

const NUMBERS = [
  'records',
  'warmup',
  'repeat',
  'partitions',
  'rate',
  'seconds',
  'threads',
  'commit-interval',
  'keys',
  'clients',
  'check-records',
  'peer-batch',
  'ramp',
  'processes',
] as const;
const CLI = {
  usage:
    'usage: npm run bench -- [compare] engine|windowed|pipeline|restore|ws|e2e [--repeat N] [--records N] [--warmup N] [--rate N] [--seconds N] [--threads N] [--sweep] [--json] …',
  help: `Benchmarks print figures; they assert nothing. They share the machine with the local broker.

  compare S  this project and the Kafka Streams peer (ops/bench/kafka-streams-peer, built by
             Maven on first use) on the same broker and input, alternating, after checking
             that both compute the same (S: engine, windowed or pipeline)
  engine     Avro → mapValues → Avro under exactly-once
  windowed   count + sum in 1-minute windows over --keys keys (RocksDB)
  pipeline   the analytics topology with inference; latency at half the maximum rate
  restore    restoration of a --keys changelog, against kcat reading the same changelog
  e2e        npm start with its defaults and one outside WebSocket client: event → client
             latency of every prediction for --seconds (default 60) after a 15 s warm-up
  ws         fan-out: --clients WebSocket clients, --rate deliveries per second; --shape
             dashboard (each client its own key prefix, the default) or broadcast (every
             client every record); --ramp new connections per second (default 2,000,
             clients retry failures); --processes fan-out processes sharing the port (default 1)

  --repeat N          runs per side (default 3 for compare, 1 alone); when the latency rate
                      depends on the maximum (pipeline, --sweep), one more round first finds it
  --records N         timed input records (default engine 1,000,000, windowed and pipeline 500,000)
  --warmup N          input records processed before timing starts (default a fifth of --records)
  --rate N            offered events/s of the latency phase (default engine/windowed 20,000;
                      pipeline half the slowest side's first run)
  --seconds N         length of each latency phase (default 10)
  --sweep             latency at 10–110 % of the slowest side's maximum; an SVG chart under bench/results/
  --threads N         stream threads per application (default 1)
  --commit-interval MS  both sides' commit interval (default: each side's own, 100 ms)
  --peer-batch N      records per model call on the Kafka Streams side (default 1: exactly-once;
                      above 1 it holds records across a commit, see kafka-streams-peer/README.md)
  --partitions N  --keys N  --clients N  --check-records N (the correctness check's input; 0: none)
  --check-only        compare: only check that both sides compute the same, then stop
  --reader records    the Node side consumes through node-rdkafka, one object per record (the
                      before of the native batch readers; default batch)
  --json              also write the report under bench/results/
  --profile           a V8 CPU profile of the Node side per run (bench/results/profiles/), its top functions printed`,
  options: {
    ...Object.fromEntries(NUMBERS.map((n) => [n, { type: 'string' as const }])),
    json: { type: 'boolean' as const },
    sweep: { type: 'boolean' as const },
    profile: { type: 'boolean' as const },
    'check-only': { type: 'boolean' as const },
    shape: { type: 'string' as const },
    reader: { type: 'string' as const },
  },
  commands: ['compare', ...COMPARED, 'restore', 'ws', 'e2e'],
};

type Numbers = Partial<Record<(typeof NUMBERS)[number], number>>;

/** Upper bounds: a benchmark's counts are as large as a 2-core machine can take in a session, not as large as a number can be. */
const MAX: Record<(typeof NUMBERS)[number], number> = {
  records: 100_000_000,
  warmup: 100_000_000,
  repeat: 100,
  partitions: 1_000,
  rate: 10_000_000,
  seconds: 3_600,
  threads: 16,
  'commit-interval': 600_000,
  keys: 100_000_000,
  clients: 100_000,
  'check-records': 10_000_000,
  'peer-batch': 100_000,
  ramp: 100_000,
  processes: 16,
};

function numbers(values: Record<string, string | boolean | undefined>): Numbers {
  const out: Numbers = {};
  for (const flag of NUMBERS) {
    const v = wholeNumber(CLI, flag, values[flag], flag === 'check-records' ? 0 : 1);
    if (v === undefined) continue;
    if (v > MAX[flag]) throw usageError(CLI, `--${flag} must be at most ${MAX[flag].toLocaleString('en-US')}, not ${v}`);
    out[flag] = v;
  }
  return out;
}

function readerOf(v: unknown): 'batch' | 'records' {
  if (v === undefined || v === 'batch' || v === 'records') return (v as 'batch' | 'records' | undefined) ?? 'batch';
  throw usageError(CLI, `--reader is batch or records, not ${String(v)}`);
}

function shapeOf(v: unknown): WsShape {
  if (v === undefined || v === 'dashboard' || v === 'broadcast') return (v as WsShape | undefined) ?? 'dashboard';
  throw usageError(CLI, `--shape is dashboard or broadcast, not ${String(v)}`);
}

function compareOptions(name: ScenarioName, both: boolean, x: Numbers, values: Record<string, unknown>): CompareOptions {
  const records = x.records ?? (name === 'engine' ? 1_000_000 : 500_000);
  return {
    scenario: name,
    sides: both ? ['node', 'peer'] : ['node'],
    repeat: x.repeat ?? (both ? 3 : 1),
    records,
    warmup: x.warmup ?? Math.round(records / 5),
    partitions: x.partitions ?? 6,
    keys: x.keys ?? 100_000,
    rates: x.rate !== undefined ? [x.rate] : [],
    sweep: values.sweep === true ? [0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.1] : undefined,
    seconds: x.seconds ?? 10,
    threads: x.threads ?? 1,
    commitInterval: x['commit-interval'],
    checkRecords: x['check-records'] ?? 20_000,
    peerBatch: x['peer-batch'] ?? 1,
    reader: readerOf(values.reader),
    json: values.json === true,
    profile: values.profile === true,
    checkOnly: values['check-only'] === true,
  };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const both = argv[0] === 'compare';
  const { command, values } = parseCli(CLI, both ? argv.slice(1) : argv);
  if (!command || command === 'compare') throw usageError(CLI, both ? 'compare needs a scenario: engine, windowed or pipeline' : 'no benchmark named');
  const x = numbers(values as Record<string, string | boolean | undefined>);
  const scenario = COMPARED.find((s) => s === command);
  if (both && !scenario) throw usageError(CLI, `compare takes engine, windowed or pipeline, not ${command}`);
  if (!both && values['check-only']) throw usageError(CLI, '--check-only goes with compare: it checks that both sides compute the same');
  if (values.sweep === true && x.rate !== undefined) throw usageError(CLI, '--sweep chooses its own rates: leave out --rate');
  const config = loadConfigOrExit();
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  return withOwnTopicsDeleted(config, say, () => run(command, scenario, both, x, values, config, say));
}

/**
 * Every topic a benchmark creates is named bench-…; those that appear while it runs are
 * deleted at its end (on the local broker, thousands left behind slow its start). Two
 * benchmarks at once would delete each other's: they are not run together (the cores).
 */
async function withOwnTopicsDeleted(config: Config, say: (line: string) => void, bench: () => Promise<number>): Promise<number> {
  const before = localStackParts().kafka ? await topicNames(config, 5_000).catch(() => undefined) : undefined;
  try {
    return await bench();
  } finally {
    if (before)
      await deleteNewTopics(config, before, say, 'bench', (n) => n.startsWith('bench-')).catch((err: Error) =>
        say(`bench: could not delete its topics: ${err.message}`),
      );
  }
}

async function run(
  command: string,
  scenario: ScenarioName | undefined,
  both: boolean,
  x: Numbers,
  values: Record<string, unknown>,
  config: Config,
  say: (line: string) => void,
): Promise<number> {
  if (scenario) {
    const o = compareOptions(scenario, both, x, values);
    const results = await compare(config, o, say);
    if (o.sweep) writeSweepChart(o, results, say);
    return 0;
  }
  if (command === 'e2e') await benchE2e(config, { seconds: x.seconds ?? 60, warmupSeconds: 15 }, say);
  else if (command === 'ws')
    await benchWs(
      config,
      {
        clients: x.clients ?? 10_000,
        rate: x.rate ?? 20_000,
        seconds: x.seconds ?? 20,
        shape: shapeOf(values.shape),
        ramp: x.ramp ?? 2_000,
        processes: x.processes ?? 1,
      },
      say,
    );
  else await benchRestore(config, { keys: x.keys ?? 1_000_000, partitions: x.partitions ?? 6, repeat: x.repeat ?? 3, json: values.json === true }, say);
  return 0;
}

finishCli('bench', main());
