/**
 * npm start — the main job. With no STREAMING_KAFKA__BOOTSTRAP_SERVERS set it brings up
 * the local stack (Kafka, the schema registry, the topics), registers the schemas, starts
 * the processor with the analytics topology and a built-in event generator at
 * STREAMING_GENERATOR__RATE events/s, the fan-out tier with the live dashboard (its own
 * process, development tokens on), and prints where to look. With Kafka configured it
 * runs only the processor. Ctrl-C (or SIGTERM) stops the generator and closes the
 * processor gracefully; a local stack keeps running for the next start
 * (`npm run stack -- down` stops it).
 */
import { stackUp } from '../kafka/stack';
import { registerSchemas } from '../../schemas/registration';
import { startProcessor } from '../../src/app/processor';
import { KafkaStreams } from '../../src/runtime/kafka-streams';
import { loadConfigOrExit } from '../../src/config';
import { isStreamingError, StreamingError } from '../../src/errors';
import { runGenerator } from '../../src/generator/run';
import { createLogger } from '../../src/logger';
import { parseCli } from '../../src/cli-args';
import { checkLocalFanoutHost, startLocalFanout, type LocalFanout } from './start-fanout';

const CLI = {
  usage: 'usage: npm start',
  help: `The whole system on this machine, for development. With no STREAMING_KAFKA__BOOTSTRAP_SERVERS
set: starts the local Kafka and schema registry (npm run stack), registers the schemas, and runs
the processor, a generator of events and the fan-out tier with the live dashboard, all on
127.0.0.1; prints where to look. With Kafka configured: only the processor.
Ctrl-C stops everything but the local stack (\`npm run stack -- down\` stops that).
Runs from source only (it needs the development tools): a deployment runs
\`streaming-analytics processor\` and \`streaming-analytics fanout\`.`,
  options: {},
};

const say = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  parseCli(CLI);
  const local = !process.env.STREAMING_KAFKA__BOOTSTRAP_SERVERS;
  // Everything local stays on loopback, where the query API may stay open (development).
  if (local) process.env.STREAMING_PROCESSOR__QUERY_HOST ??= '127.0.0.1';
  const config = loadConfigOrExit();
  // With STREAMING_PROCESSOR__NUM_STREAM_THREADS above 1 this program runs again in each stream thread's
  // process: there it is only the processor's thread (the main process owns the stack, the fan-out and the generator).
  if (KafkaStreams.isStreamThread) {
    await startProcessor(config, createLogger(config.log, 'processor'), { handleSignals: false });
    return;
  }
  if (local) {
    checkLocalFanoutHost();
    say('start: no STREAMING_KAFKA__BOOTSTRAP_SERVERS set: running everything locally');
    await stackUp(config, process.env, say);
    if ((await registerSchemas(config, say, say)) > 0)
      throw new StreamingError('SA_ERR_SCHEMA_REGISTRATION', 'some schemas could not be registered (see above)');
  }
  const log = createLogger(config.log, 'processor');
  say(`start: starting the processor (model ${config.realtimeMl.modelName} from ${config.realtimeMl.modelsDir}/)…`);
  const app = await startProcessor(config, log, { handleSignals: false });
  let fanout: LocalFanout | undefined;
  if (local) {
    say('start: starting the fan-out tier and the dashboard…');
    fanout = await startLocalFanout(config).catch(async (err: unknown) => {
      await app.close();
      throw err;
    });
  }
  const stop = new AbortController();
  const generating = local ? runGenerator({ config, rate: config.generator.rate, say, signal: stop.signal }) : Promise.resolve({ sent: 0 });
  say(
    [
      '',
      `  processor       ${config.processor.applicationId}, model ${app.models.current().name} v${app.models.current().version}`,
      `  query API       ${app.url}/stores   (OpenAPI: ${app.url}/openapi.json; ${config.processor.queryAuth === 'off' ? 'open: loopback only' : 'bearer tokens'})`,
      `  health          ${app.adminUrl}/healthz  ${app.adminUrl}/readyz`,
      `  metrics         ${app.adminUrl}/metrics`,
      `  topics          ${config.topics.events} → ${config.topics.predictions}, ${config.topics.alerts}, ${config.topics.metrics}`,
      local
        ? `  generator       about ${config.generator.rate} events/s (STREAMING_GENERATOR__RATE)`
        : '  generator       off (Kafka is configured: produce events yourself, or npm run generate)',
      fanout ? `  dashboard       ${fanout.url}/dashboard/` : '  dashboard       run the fan-out tier yourself: npm run fanout (Kafka is configured)',
      ...(fanout ? [`  WebSocket       ${fanout.url.replace(/^http/, 'ws')}/ws   (fan-out metrics: ${fanout.adminUrl}/metrics)`] : []),
      '',
      `Ctrl-C stops the processor${local ? ', the fan-out and the generator; `npm run stack -- down` stops the local Kafka and registry.' : '.'}`,
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('start: stopping…');
    stop.abort();
    await generating.catch(() => undefined);
    await fanout?.stop();
    await app.close();
    say('start: stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown());
  generating.catch((err: unknown) => say(`start: the generator stopped: ${isStreamingError(err) ? err.toUserText() : String(err)}`));
  app.streams.on('stateChange', (state) => {
    if (state === 'ERROR') {
      say('start: the processor failed (see the log above); stopping');
      void shutdown();
    }
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `start failed: ${err instanceof Error ? err.stack : String(err)}`}\n`);
  process.exit(isStreamingError(err) && err.code === 'SA_ERR_USAGE' ? 2 : 1);
});
