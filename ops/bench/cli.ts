/**
 * npm run bench -- engine [--records N] [--partitions N] [--rate N] [--seconds N] [--commit-interval MS] [--profile]
 * npm run bench -- windowed [--records N] [--keys N] [--partitions N] [--rate N] [--seconds N]
 * npm run bench -- restore [--keys N] [--partitions N]
 * npm run bench -- pipeline [--records N] [--partitions N] [--rate N] [--seconds N] [--commit-interval MS]
 * npm run bench -- ws [--clients N] [--rate DELIVERIES_PER_S] [--seconds N]
 *
 * Benchmarks print figures; they assert nothing. They share the machine with the local
 * broker, which the report says.
 */
import { loadConfigOrExit } from '../../src/config';
import { parseCli, usageError, wholeNumber } from '../../src/cli-args';
import { isStreamingError } from '../../src/errors';
import { benchEngine, type EngineBenchOptions } from './engine';
import { benchPipeline } from './pipeline';
import { benchRestore, benchWindowed } from './stateful';
import { benchWs } from './ws';

const NAMES = ['engine', 'windowed', 'restore', 'pipeline', 'ws'] as const;
type Options = EngineBenchOptions & { keys: number; clients: number };
const NUMBERS = ['records', 'partitions', 'rate', 'seconds', 'commit-interval', 'keys', 'clients'] as const;
const CLI = {
  usage:
    'usage: npm run bench -- engine|windowed|restore|pipeline|ws [--records N] [--keys N] [--clients N] [--partitions N] [--rate N] [--seconds N] [--commit-interval MS] [--profile]',
  help: `Benchmarks print figures; they assert nothing. They share the machine with the local broker.

  engine     Avro → mapValues → Avro under exactly-once: a backlog, then a live rate
  windowed   count + sum in 1-minute windows over --keys keys
  restore    restoration of a --keys changelog
  pipeline   the analytics topology with inference, backlog and end-to-end latency
  ws         fan-out: --clients WebSocket clients, --rate deliveries per second

  --records N  --keys N  --clients N  --partitions N  --rate N  --seconds N
  --commit-interval MS   --profile (engine: write a CPU profile)`,
  options: { ...Object.fromEntries(NUMBERS.map((n) => [n, { type: 'string' as const }])), profile: { type: 'boolean' as const } },
  commands: NAMES,
};

function parse(): { name: (typeof NAMES)[number]; options: Options; given: Set<string> } {
  const { command, values } = parseCli(CLI);
  const name = NAMES.find((n) => n === command);
  if (!name) throw usageError(CLI, 'no benchmark named');
  const options: Options = {
    records: 200_000,
    partitions: 6,
    rate: 20_000,
    seconds: 10,
    commitInterval: 100,
    profile: values.profile === true,
    keys: name === 'restore' ? 1_000_000 : 100_000,
    clients: 10_000,
  };
  const given = new Set<string>();
  for (const flag of NUMBERS) {
    const value = wholeNumber(CLI, flag, (values as Record<string, string | boolean | undefined>)[flag], 1);
    if (value === undefined) continue;
    given.add(flag);
    (options as unknown as Record<string, number>)[flag.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())] = value;
  }
  return { name, options, given };
}

async function main(): Promise<void> {
  const { name, options, given } = parse();
  const rateGiven = given.has('rate');
  const config = loadConfigOrExit();
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  if (name === 'engine') await benchEngine(config, options, say);
  else if (name === 'windowed') await benchWindowed(config, options, say);
  else if (name === 'pipeline') await benchPipeline(config, { ...options, rate: rateGiven ? options.rate : 0 }, say);
  else if (name === 'ws')
    await benchWs(config, { clients: options.clients, rate: options.rate, seconds: rateGiven || given.has('seconds') ? options.seconds : 20 }, say);
  else await benchRestore(config, options, say);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `bench failed: ${err instanceof Error ? err.stack : String(err)}`}\n`);
    process.exit(isStreamingError(err) && err.code === 'SA_ERR_USAGE' ? 2 : 1);
  },
);
