/**
 * A fan-out worker process (primary.ts forks it): waits for the primary's `start`, starts
 * a whole fan-out on the shared WebSocket port, and reports to the primary — listening,
 * then every 2 s whether it is ready and how many clients it holds — and answers metrics
 * requests, until the primary says close or goes away. Signals are the primary's business:
 * a Ctrl-C reaches the whole process group, and the primary closes the workers in order.
 */
import { isStreamingError } from '../../errors';
import { type FromWorker, isToWorker, type MetricsJson } from './protocol';

export interface WorkerFanout {
  url: string;
  ready(): boolean;
  connections(): number;
  waitingFor(): string | undefined;
  metrics(): Promise<MetricsJson>;
  close(): Promise<void>;
}

const HEARTBEAT_MS = 2_000;
/** A close that hangs (a client library that never calls back) ends here, before the primary's deadline. */
const CLOSE_LIMIT_MS = 17_000;

export function runFanoutWorker(start: (config: unknown, index: number) => Promise<WorkerFanout>): void {
  if (!process.send) {
    process.stderr.write('a fan-out worker runs only as a process the fan-out forks (STREAMING_WEBSOCKET__PROCESSES)\n');
    process.exit(2);
  }
  const send = (m: FromWorker, then?: () => void): void => {
    if (process.connected) process.send!(m, undefined, {}, () => then?.());
    else then?.();
  };
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
  let app: Promise<WorkerFanout> | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    clearInterval(heartbeat);
    setTimeout(() => process.exit(1), CLOSE_LIMIT_MS).unref();
    try {
      await (await app?.catch(() => undefined))?.close();
    } finally {
      process.exit(0);
    }
  };
  const beat = (a: WorkerFanout): void => send({ sa: 'alive', ready: a.ready(), connections: a.connections(), waitingFor: a.waitingFor() });
  process.on('message', (m: unknown) => {
    if (!isToWorker(m)) return;
    if (m.sa === 'start' && app === undefined) {
      app = start(m.config, m.index);
      app.then(
        (a) => {
          send({ sa: 'listening', url: a.url });
          beat(a);
          heartbeat = setInterval(() => beat(a), HEARTBEAT_MS);
        },
        (err: unknown) => {
          const e = err as Error & { hint?: string };
          send({ sa: 'failed', code: isStreamingError(err) ? err.code : undefined, message: e.message ?? String(err), hint: e.hint }, () => process.exit(1));
        },
      );
    } else if (m.sa === 'metrics')
      void app
        ?.then((a) => a.metrics())
        .then((metrics) => send({ sa: 'metrics', id: m.id, metrics }))
        .catch(() => undefined);
    else if (m.sa === 'close') void close();
  });
  // The primary went away (killed): nobody routes this process's clients any more.
  process.on('disconnect', () => void close());
}
