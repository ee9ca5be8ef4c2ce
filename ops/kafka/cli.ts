/**
 * npm run stack -- up [--nodes N] [--partitions N] | down [--purge] | status [--nodes N] | prune
 *
 * Brings the local Kafka cluster and schema registry up or down, creates the topics,
 * and says what runs where. Settings come from STREAMING_* variables (README table);
 * the flags are shortcuts for STREAMING_STACK__NODES and STREAMING_TOPICS__PARTITIONS.
 */
import { loadConfigOrExit } from '../../src/config';
import { parseCli, usageError, wholeNumber } from '../../src/cli-args';
import { isStreamingError } from '../../src/errors';
import { stackDown, stackPrune, stackStatus, stackUp } from './stack';

const CLI = {
  usage: 'usage: npm run stack -- up [--nodes N] [--partitions N] | down [--purge] | status [--nodes N] | prune',
  help: `The local Kafka cluster (KRaft, from Maven Central jars) and schema registry.

  up       start what is not running, create the topics, and say what runs where
  down     stop them (--purge also deletes their data)
  status   say what runs
  prune    delete the topics earlier test and benchmark runs left on the local broker
           (all but the seed's, the processor's own and internal ones)

  --nodes N        Kafka nodes (STREAMING_STACK__NODES)
  --partitions N   partitions of created topics (STREAMING_TOPICS__PARTITIONS)
  --purge          with down: delete the data too`,
  options: { nodes: { type: 'string' }, partitions: { type: 'string' }, purge: { type: 'boolean' } },
  commands: ['up', 'down', 'status', 'prune'],
} as const;

interface Args {
  command: 'up' | 'down' | 'status' | 'prune';
  env: NodeJS.ProcessEnv;
  purge: boolean;
}

function parse(): Args {
  const { command, values } = parseCli(CLI);
  if (command !== 'up' && command !== 'down' && command !== 'status' && command !== 'prune') throw usageError(CLI, 'no command given');
  if (values.nodes !== undefined && command === 'prune') throw usageError(CLI, '--nodes does not go with prune');
  if (values.purge && command !== 'down') throw usageError(CLI, `--purge goes with down, not ${command}`);
  if (values.partitions !== undefined && command !== 'up') throw usageError(CLI, `--partitions goes with up, not ${command}`);
  const env = { ...process.env };
  const nodes = wholeNumber(CLI, 'nodes', values.nodes, 1);
  const partitions = wholeNumber(CLI, 'partitions', values.partitions, 1);
  if (nodes !== undefined) env.STREAMING_STACK__NODES = String(nodes);
  if (partitions !== undefined) env.STREAMING_TOPICS__PARTITIONS = String(partitions);
  return { command, env, purge: values.purge === true };
}

async function main(): Promise<void> {
  const args = parse();
  const config = loadConfigOrExit(args.env);
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  if (args.command === 'up') await stackUp(config, args.env, say);
  else if (args.command === 'down') await stackDown(config, say, { purge: args.purge });
  else if (args.command === 'prune') await stackPrune(config, args.env, say);
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
    process.exit(isStreamingError(err) && err.code === 'SA_ERR_USAGE' ? 2 : 1);
  },
);
