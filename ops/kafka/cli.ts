/**
 * npm run stack -- up [--nodes N] [--partitions N] | down [--purge] | status [--nodes N]
 *
 * Brings the local Kafka cluster and schema registry up or down, creates the topics,
 * and says what runs where. Settings come from STREAMING_* variables (README table);
 * the flags are shortcuts for STREAMING_STACK__NODES and STREAMING_TOPICS__PARTITIONS.
 */
import { loadConfigOrExit } from '../../src/config';
import { StreamingError, isStreamingError } from '../../src/errors';
import { stackDown, stackStatus, stackUp } from './stack';

const USAGE = 'usage: npm run stack -- up [--nodes N] [--partitions N] | down [--purge] | status [--nodes N]';

interface Args {
  command: 'up' | 'down' | 'status';
  env: NodeJS.ProcessEnv;
  purge: boolean;
}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'down' && command !== 'status') {
    throw new StreamingError('SA_ERR_USAGE', command ? `unknown command "${command}"` : 'no command given', { hint: USAGE });
  }
  const env = { ...process.env };
  let purge = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--purge' && command === 'down') purge = true;
    else if (arg === '--nodes' || arg === '--partitions') {
      const value = rest[++i];
      if (value === undefined) throw new StreamingError('SA_ERR_USAGE', `${arg} needs a value`, { hint: USAGE });
      env[arg === '--nodes' ? 'STREAMING_STACK__NODES' : 'STREAMING_TOPICS__PARTITIONS'] = value;
    } else throw new StreamingError('SA_ERR_USAGE', `unknown option "${arg}" for ${command}`, { hint: USAGE });
  }
  return { command, env, purge };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfigOrExit(args.env);
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  if (args.command === 'up') await stackUp(config, args.env, say);
  else if (args.command === 'down') await stackDown(config, say, { purge: args.purge });
  else await stackStatus(config, args.env, say);
}

let settled = false;
// If the event loop ever runs dry mid-await, say so and fail rather than exit 0 silently.
process.on('beforeExit', () => {
  if (settled) return;
  process.stderr.write('internal error: the stack command stopped before it finished\n');
  process.exit(70);
});

main().then(
  () => {
    settled = true;
    process.exit(0);
  },
  (err: unknown) => {
    settled = true;
    if (isStreamingError(err)) process.stderr.write(`${err.toUserText()}\n`);
    else process.stderr.write(`unexpected failure: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
