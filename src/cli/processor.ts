/**
 * npm run processor — only the processor (the StatefulSet's command): the analytics
 * topology against the configured Kafka, with the query API and the admin listener
 * (health, metrics). SIGTERM closes it gracefully (KafkaStreams handles the signal).
 */
import { startProcessor } from '../app/processor';
import { loadConfigOrExit } from '../config';
import { isStreamingError } from '../errors';
import { createLogger } from '../logger';
import { parseCli } from '../cli-args';

const CLI = {
  usage: 'usage: npm run processor   (built: streaming-analytics processor)',
  help: `Runs the processor: the analytics topology with exactly-once processing, the query API
(STREAMING_PROCESSOR__QUERY_HOST/PORT) and the admin listener with /healthz, /readyz and
/metrics (STREAMING_PROCESSOR__ADMIN_HOST/PORT). Every setting comes from STREAMING_*
environment variables: \`npm run config -- table\` lists them. SIGTERM or Ctrl-C closes it
gracefully within STREAMING_PROCESSOR__CLOSE_TIMEOUT_MS.`,
  options: {},
};

async function main(): Promise<void> {
  parseCli(CLI);
  const config = loadConfigOrExit();
  const log = createLogger(config.log, 'processor');
  const app = await startProcessor(config, log);
  log.info({ url: app.url, adminUrl: app.adminUrl }, 'processor running');
  // After a close (SIGTERM) or a failure: release the models and export the last spans, then exit.
  app.streams.on('stateChange', (state) => {
    if (state === 'NOT_RUNNING') void app.close().finally(() => process.exit(0));
    if (state === 'ERROR') void app.close().finally(() => process.exit(1));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `processor failed: ${err instanceof Error ? err.stack : String(err)}`}\n`);
  process.exit(isStreamingError(err) && err.code === 'SA_ERR_USAGE' ? 2 : 1);
});
