/**
 * npm run fanout — the WebSocket fan-out tier (the Deployment's command). SIGTERM/SIGINT:
 * stop accepting, tell clients to reconnect elsewhere, drain, exit within 30 s.
 */
import { startFanout } from '../app/fanout';
import { loadConfigOrExit } from '../config';
import { isStreamingError } from '../errors';
import { createLogger } from '../logger';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.log, 'fanout');
  const app = await startFanout(config, log);
  log.info({ url: app.url, websocket: `${app.url.replace(/^http/, 'ws')}/ws`, dashboard: `${app.url}/dashboard/` }, 'fan-out running');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    setTimeout(() => process.exit(1), 30_000).unref(); // the 30 s promise, whatever hangs
    app.close().then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'closing failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `fan-out failed: ${err instanceof Error ? err.stack : String(err)}`}\n`);
  process.exit(1);
});
