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
import { isStreamingError, StreamingError } from '../../src/errors';
import { benchEngine, type EngineBenchOptions } from './engine';
import { benchPipeline } from './pipeline';
import { benchRestore, benchWindowed } from './stateful';
import { benchWs } from './ws';

const USAGE = 'usage: npm run bench -- engine|windowed|restore|pipeline|ws [--records N] [--keys N] [--clients N] [--partitions N] [--rate N] [--seconds N] [--commit-interval MS] [--profile]';
const NAMES = ['engine', 'windowed', 'restore', 'pipeline', 'ws'] as const;
type Options = EngineBenchOptions & { keys: number; clients: number };

function parse(argv: string[]): { name: (typeof NAMES)[number]; options: Options } {
  const [given, ...rest] = argv;
  const name = NAMES.find((n) => n === given);
  if (!name) throw new StreamingError('SA_ERR_USAGE', given ? `unknown benchmark "${given}"` : 'no benchmark named', { hint: USAGE });
  const options: Options = { records: 200_000, partitions: 6, rate: 20_000, seconds: 10, commitInterval: 100, profile: false, keys: name === 'restore' ? 1_000_000 : 100_000, clients: 10_000 };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!.replace(/^--/, '').replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
    if (flag === 'profile') {
      options.profile = true;
      continue;
    }
    const value = Number(rest[++i]);
    if (!['records', 'partitions', 'rate', 'seconds', 'commitInterval', 'keys', 'clients'].includes(flag) || !Number.isInteger(value) || value <= 0) {
      throw new StreamingError('SA_ERR_USAGE', `bad option --${flag} ${rest[i] ?? ''}`.trim(), { hint: USAGE });
    }
    (options as unknown as Record<string, number>)[flag] = value;
  }
  return { name, options };
}

async function main(): Promise<void> {
  const { name, options } = parse(process.argv.slice(2));
  const rateGiven = process.argv.includes('--rate');
  const config = loadConfigOrExit();
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  if (name === 'engine') await benchEngine(config, options, say);
  else if (name === 'windowed') await benchWindowed(config, options, say);
  else if (name === 'pipeline') await benchPipeline(config, { ...options, rate: rateGiven ? options.rate : 0 }, say);
  else if (name === 'ws') await benchWs(config, { clients: options.clients, rate: options.rate, seconds: rateGiven || process.argv.includes('--seconds') ? options.seconds : 20 }, say);
  else await benchRestore(config, options, say);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `bench failed: ${err instanceof Error ? err.stack : String(err)}`}\n`);
    process.exit(1);
  },
);
