/**
 * npm run bench -- engine [--records N] [--partitions N] [--rate N] [--seconds N] [--commit-interval MS] [--profile]
 *
 * Benchmarks print figures; they assert nothing. They share the machine with the local
 * broker, which the report says.
 */
import { loadConfigOrExit } from '../../src/config';
import { isStreamingError, StreamingError } from '../../src/errors';
import { benchEngine, type EngineBenchOptions } from './engine';

const USAGE = 'usage: npm run bench -- engine [--records N] [--partitions N] [--rate N] [--seconds N] [--commit-interval MS] [--profile]';

function parse(argv: string[]): { name: string; options: EngineBenchOptions } {
  const [name, ...rest] = argv;
  if (name !== 'engine') throw new StreamingError('SA_ERR_USAGE', name ? `unknown benchmark "${name}"` : 'no benchmark named', { hint: USAGE });
  const options: EngineBenchOptions = { records: 200_000, partitions: 6, rate: 20_000, seconds: 10, commitInterval: 100, profile: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!.replace(/^--/, '').replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
    if (flag === 'profile') {
      options.profile = true;
      continue;
    }
    const value = Number(rest[++i]);
    if (!['records', 'partitions', 'rate', 'seconds', 'commitInterval'].includes(flag) || !Number.isInteger(value) || value <= 0) {
      throw new StreamingError('SA_ERR_USAGE', `bad option --${flag} ${rest[i] ?? ''}`.trim(), { hint: USAGE });
    }
    (options as unknown as Record<string, number>)[flag] = value;
  }
  return { name, options };
}

async function main(): Promise<void> {
  const { options } = parse(process.argv.slice(2));
  const config = loadConfigOrExit();
  await benchEngine(config, options, (line) => process.stdout.write(`${line}\n`));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `bench failed: ${err instanceof Error ? err.stack : String(err)}`}\n`);
    process.exit(1);
  },
);
