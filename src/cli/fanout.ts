/**
 * npm run fanout — the WebSocket fan-out tier (the Deployment's command). SIGTERM/SIGINT:
 * stop accepting, tell clients to reconnect elsewhere, drain, exit within 20 s. The
 * signal handlers are installed before anything starts: /readyz answers 200 before the
 * start call returns, so a SIGTERM can come that early and must still close gracefully.
 * The close is bounded by 20 s, under Kubernetes' default grace period of 30 s.
 */
import { startFanout, type FanoutApp } from '../app/fanout';
import { loadConfigOrExit } from '../config';
import { isStreamingError } from '../errors';
import { createLogger } from '../logger';
import { parseCli } from '../cli-args';

const CLI = {
  usage: 'usage: npm run fanout   (built: streaming-analytics fanout)',
  help: `Runs the WebSocket fan-out tier: consumes the predictions, alerts and metrics topics and
pushes them to subscribed WebSocket clients (STREAMING_WEBSOCKET__HOST/PORT, path /ws), serves
the dashboard, and answers /healthz, /readyz and /metrics on its admin listener
(STREAMING_WEBSOCKET__ADMIN_HOST/PORT). Tokens are verified with the STREAMING_AUTH__* settings;
\`npm run config -- table\` lists every setting. SIGTERM or Ctrl-C: stop accepting, tell
clients to reconnect elsewhere, drain, exit within 20 s.`,
  options: {},
};

async function main(): Promise<void> {
  parseCli(CLI);
  const config = loadConfigOrExit();
  const log = createLogger(config.log, 'fanout');
  let app: Promise<FanoutApp> | undefined;
  let stopping = false;
  const stop = (signal: string, code = 0): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    setTimeout(() => process.exit(1), 20_000).unref(); // the 20 s promise, whatever hangs
    (app ?? Promise.reject(new Error('not started')))
      .then((a) => a.close())
      .then(
        () => process.exit(code),
        (err: unknown) => {
          log.error({ err }, 'closing failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  app = startFanout(config, log);
  const { url, failed } = await app;
  failed?.catch((err: unknown) => {
    log.error({ err }, 'a fan-out process failed: stopping the others');
    stop('failure', 1);
  });
  log.info({ url, websocket: `${url.replace(/^http/, 'ws')}/ws`, dashboard: `${url}/dashboard/` }, 'fan-out running');
}

main().catch((err: unknown) => {
  process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `fan-out failed: ${err instanceof Error ? err.stack : String(err)}`}\n`);
  process.exit(isStreamingError(err) && err.code === 'SA_ERR_USAGE' ? 2 : 1);
});
