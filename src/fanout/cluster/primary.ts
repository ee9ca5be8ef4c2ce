/**
 * The fan-out on several processes (STREAMING_WEBSOCKET__PROCESSES above 1). This process,
 * the primary, forks the workers and serves the admin listener for all of them; it holds
 * no client. Each worker is a whole fan-out: it reads every topic, keeps its own history
 * and listens on the one WebSocket port with SO_REUSEPORT, so the kernel spreads new
 * connections among the workers and a client resumes from history wherever it lands.
 *
 * The primary is ready when every worker is; /healthz fails when a worker has been silent
 * for 30 s; /metrics adds the workers' registries up. A worker that exits on its own fails
 * the whole fan-out (`failed`): its clients reconnect to the others, and the orchestrator
 * restarts the pod, as it would a single process that died.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fastify, { type FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ERROR_CATALOGUE, type ErrorCode, StreamingError } from '../../errors';
import type { Logger } from '../../logger';
import { reachableUrl } from '../../net/hosts';
import { MetricsRequests, ThreadsRegistry } from '../../runtime/threads/metrics';
import { hideInternalErrors } from '../http-errors';
import { type FromWorker, isFromWorker, type MetricsJson, type ToWorker } from './protocol';

const SILENT_MS = 30_000;
const START_TIMEOUT_MS = 120_000;

export interface PrimaryOptions {
  /** The worker's entry module (it calls `runFanoutWorker`). */
  entry: string;
  processes: number;
  /** The configuration the workers start from (plain data: it crosses the IPC channel). */
  config: unknown;
  adminHost: string;
  adminPort: number;
  /** Longest a worker's graceful close may take before it is killed (ms). */
  closeTimeoutMs: number;
}

interface Worker {
  index: number;
  child: ChildProcess;
  url?: string;
  ready: boolean;
  connections: number;
  waitingFor: string | undefined;
  lastHeard: number;
  exited: boolean;
  lastMetrics: MetricsJson;
}

export class FanoutPrimary {
  private readonly workers: Worker[] = [];
  private readonly admin: FastifyInstance;
  private readonly requests = new MetricsRequests(2_000);
  private readonly own = new Registry();
  private closing = false;
  private failure: ((err: Error) => void) | undefined;
  /** Rejects when a worker fails or exits on its own. */
  readonly failed: Promise<never>;

  constructor(
    private readonly o: PrimaryOptions,
    private readonly log: Logger,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.failure = reject));
    this.failed.catch(() => undefined); // observed by whoever awaits it
    collectDefaultMetrics({ register: this.own });
    this.admin = fastify({ logger: false, connectionTimeout: 30_000, requestTimeout: 15_000 });
    hideInternalErrors(this.admin, log);
    this.admin.get('/healthz', async (_req, reply) => {
      const silent = this.workers.filter((w) => w.exited || Date.now() - w.lastHeard > SILENT_MS).map((w) => w.index);
      return reply.code(silent.length === 0 ? 200 : 503).send(silent.length === 0 ? { status: 'ok' } : { status: 'unhealthy', silentProcesses: silent });
    });
    this.admin.get('/readyz', async (_req, reply) => {
      const ready = !this.closing && this.workers.every((w) => w.ready);
      const waitingFor = this.workers.find((w) => w.waitingFor)?.waitingFor;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : this.closing ? 'shutting down' : 'catching up',
        connections: this.workers.reduce((n, w) => n + w.connections, 0),
        processes: this.workers.map((w) => ({ index: w.index, ready: w.ready, connections: w.connections })),
        ...(waitingFor ? { waitingFor } : {}),
      });
    });
    const registry = new ThreadsRegistry(() => Promise.all(this.workers.map((w) => this.metricsOf(w))), this.own);
    this.admin.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  }

  /**
   * Serves the admin listener (/healthz answers while the workers read their history, as a
   * single process's does), forks the workers and waits until each is ready. Returns the
   * public and admin URLs.
   */
  async start(): Promise<{ url: string; adminUrl: string }> {
    await this.admin.listen({ host: this.o.adminHost, port: this.o.adminPort });
    const port = (this.admin.server.address() as { port: number }).port;
    for (let index = 0; index < this.o.processes; index++) this.workers.push(this.spawn(index));
    const deadline = Date.now() + START_TIMEOUT_MS;
    let failed = false;
    await Promise.race([
      this.failed.catch((err: unknown) => {
        failed = true;
        throw err;
      }),
      (async () => {
        // A worker that keeps reporting may take as long as its history takes; a silent one may not.
        while (!failed && !this.workers.every((w) => w.ready)) {
          if (Date.now() > deadline && this.workers.some((w) => Date.now() - w.lastHeard > SILENT_MS))
            throw new StreamingError('SA_ERR_FANOUT_PROCESS', 'a fan-out process did not start in time', { hint: 'see its log lines above' });
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
    ]);
    return { url: this.workers[0]!.url!, adminUrl: reachableUrl(this.o.adminHost, port) };
  }

  private spawn(index: number): Worker {
    // The parent's Node flags (tsx's loader under npm start), without a debugger port each child would fight for;
    // a TypeScript entry (a development tree, tests that load tsx in-process) gets tsx's loader.
    const inherited = process.execArgv.filter((a) => !a.startsWith('--inspect'));
    const execArgv = this.o.entry.endsWith('.ts') && !inherited.some((a) => a.includes('tsx')) ? [...inherited, '--import', 'tsx'] : inherited;
    const child = fork(this.o.entry, [], { execArgv, env: process.env, stdio: 'inherit', serialization: 'json' });
    const w: Worker = { index, child, ready: false, connections: 0, waitingFor: undefined, lastHeard: Date.now(), exited: false, lastMetrics: [] };
    child.on('message', (m: unknown) => {
      if (isFromWorker(m)) this.heard(w, m);
    });
    child.once('error', (err) => {
      this.log.error({ err, process: index }, 'a fan-out process could not be started');
      this.failure?.(new StreamingError('SA_ERR_FANOUT_PROCESS', `fan-out process ${index} could not be started: ${err.message}`, { cause: err }));
    });
    child.once('exit', (code, signal) => {
      w.exited = true;
      w.ready = false;
      if (this.closing) return;
      this.log.error({ process: index, code, signal }, 'a fan-out process exited: the fan-out stops');
      this.failure?.(new StreamingError('SA_ERR_FANOUT_PROCESS', `fan-out process ${index} exited (${signal ?? `code ${code}`})`));
    });
    this.send(w, { sa: 'start', index, config: this.o.config });
    return w;
  }

  private heard(w: Worker, m: FromWorker): void {
    w.lastHeard = Date.now();
    if (m.sa === 'listening') w.url = m.url;
    else if (m.sa === 'alive') {
      w.ready = m.ready;
      w.connections = m.connections;
      w.waitingFor = m.waitingFor;
    } else if (m.sa === 'metrics') this.requests.answered(m.id, m.metrics);
    else if (m.sa === 'failed') {
      // The worker's own error, with its code when it is one of ours (a configuration or Kafka error at start).
      const code = m.code !== undefined && Object.hasOwn(ERROR_CATALOGUE, m.code) ? (m.code as ErrorCode) : 'SA_ERR_FANOUT_PROCESS';
      this.failure?.(new StreamingError(code, m.message, m.hint !== undefined ? { hint: m.hint } : {}));
    }
  }

  private async metricsOf(w: Worker): Promise<MetricsJson> {
    if (w.exited) return w.lastMetrics;
    w.lastMetrics = await this.requests.ask((id) => this.send(w, { sa: 'metrics', id }), w.lastMetrics);
    return w.lastMetrics;
  }

  private send(w: Worker, m: ToWorker): void {
    if (w.child.connected) w.child.send(m, (err) => err && this.log.warn({ err, process: w.index }, 'a message to a fan-out process was lost'));
  }

  /** Asks every worker to close (they tell their clients to reconnect), waits for them within the timeout, then kills what is left. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const exits = this.workers.map((w) => (w.exited ? Promise.resolve() : new Promise<void>((r) => w.child.once('exit', () => r()))));
    for (const w of this.workers) this.send(w, { sa: 'close' });
    const timer = setTimeout(() => {
      for (const w of this.workers) if (!w.exited) w.child.kill('SIGKILL');
    }, this.o.closeTimeoutMs);
    await Promise.all(exits);
    clearTimeout(timer);
    await this.admin.close();
  }
}
