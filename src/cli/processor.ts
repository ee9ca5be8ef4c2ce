/**
 * npm run processor — only the processor (the StatefulSet's command): the analytics
 * topology against the configured Kafka, with the query API and the admin listener
 * (health, metrics). SIGTERM closes it gracefully (KafkaStreams handles the signal).
 */
import { startProcessor } from '../app/processor';
import { loadConfigOrExit } from '../config';
import { isStreamingError } from '../errors';
import { createLogger } from '../logger';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.log, 'processor');
  const app = await startProcessor(config, log);
  log.info({ url: app.url, adminUrl: app.adminUrl }, 'processor running');
  app.streams.on('stateChange', (state) => {
    if (state === 'NOT_RUNNING') process.exit(0);
    if (state === 'ERROR') process.exit(1);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `processor failed: ${err instanceof Error ? err.stack : String(err)}`}\n`);
  process.exit(1);
});
