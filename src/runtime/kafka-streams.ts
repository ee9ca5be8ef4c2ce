/**
 * KafkaStreams: runs a Topology against Kafka (Kafka Streams' class of the same name).
 *
 *   const streams = new KafkaStreams(builder.build(), { applicationId: 'app', kafka: { 'bootstrap.servers': 'localhost:9092' } });
 *   await streams.start();   // resolves once the producer is ready and the consumer subscribed
 *   …
 *   await streams.close();   // finish the batch, commit, leave the group
 *
 * States: CREATED → REBALANCING ⇄ RUNNING → PENDING_SHUTDOWN → NOT_RUNNING, or ERROR when
 * a failure stopped processing (the 'error' event carries it).
 */
import { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import { isStreamingError, StreamingError } from '../errors';
import { createLogger, type Logger } from '../logger';
import { graphOf, type Topology } from '../streams/dsl/topology';
import type { FastifyInstance } from 'fastify';
import { startAdminServer } from '../query/admin';
import { QueryFrontend, startThreadQueryServer } from '../query/frontend';
import { checkReachable } from './prepare';
import { type Processing, processingFor, type ThreadMetadata } from './processing';
import type { ThreadListener } from './stream-thread';
import { resolveStreamsConfig, type ResolvedStreamsConfig, type StreamsConfig } from './streams-config';
import { ThreadChild } from './threads/child';
import { THREAD_CLOSE_MARGIN_MS } from './threads/host';
import { THREAD_ENV, threadConfig, threadRole } from './threads/role';

export type StreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR';

export interface KafkaStreamsEvents {
  stateChange: [newState: StreamsState, oldState: StreamsState];
  error: [error: Error];
}

export class KafkaStreams extends EventEmitter<KafkaStreamsEvents> {
  private current: StreamsState = 'CREATED';
  private readonly config: ResolvedStreamsConfig;
  private readonly log: Logger;
  private readonly thread: Processing;
  /** Set in a stream thread's process (threads/): the instance's main process is told instead of listeners. */
  private readonly child: ThreadChild | undefined;
  private threadQuery: { url: string; stop(): Promise<void> } | undefined;
  private closing: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private readonly query: QueryFrontend | undefined;
  private admin: { app: FastifyInstance; url: string } | undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.log.info({ signal }, 'shutting down on signal');
    this.close().catch((err: unknown) => this.log.error({ err }, 'close failed'));
  };

  private readonly adminOptions: StreamsConfig['adminServer'];

  constructor(topology: Topology, config: StreamsConfig) {
    super();
    const role = threadRole();
    const resolved = resolveStreamsConfig(config);
    this.config = role ? threadConfig(resolved, role) : resolved;
    this.adminOptions = role ? undefined : config.adminServer;
    this.log = (config.logger ?? createLogger({ level: 'info' })).child({
      applicationId: this.config.applicationId,
      instanceId: this.config.instanceId,
      ...(role ? { thread: role.index } : {}),
    });
    const graph = graphOf(topology).resolve(this.config.applicationId);
    if (role) this.child = new ThreadChild(this.log);
    else if (config.queryServer) this.query = new QueryFrontend(graph, this.config, config.queryServer, this.log);
    this.thread = processingFor(graph, role ? { ...this.config, numStreamThreads: 1 } : this.config, this.log, this.listener());
    if (this.child && config.queryServer) {
      const options = config.queryServer;
      this.startThreadQuery = async () => {
        this.threadQuery = await startThreadQueryServer(graph, this.config, options, this.view(), this.log);
      };
    }
    this.child?.bind({
      metrics: () => this.metrics,
      close: () => this.close(),
      restoring: () => this.thread.restoring(),
      waitingFor: () => this.thread.waitingFor(),
      mismatchedTopics: () => this.thread.mismatchedTopics(),
    });
  }

  private readonly startThreadQuery: (() => Promise<void>) | undefined;

  private listener(): ThreadListener {
    return {
      rebalancing: () => this.setState('REBALANCING'),
      running: () => this.setState('RUNNING'),
      assigned: (tasks) => {
        this.query?.assigned(tasks);
        this.child?.send({ sa: 'tasks', tasks });
      },
      partitionerMismatch: () => this.query?.mismatchFound(),
      failed: (err) => {
        this.setState('ERROR');
        this.child?.send({ sa: 'failed', code: isStreamingError(err) ? err.code : undefined, message: err.message });
        // Emitting 'error' with no listener would throw: then the log line is the report.
        if (!this.child && this.listenerCount('error') > 0) this.emit('error', err);
        // As Kafka Streams' SHUTDOWN_CLIENT: a failed instance leaves the group at once.
        this.close().catch((e: unknown) => this.log.error({ err: e }, 'close after failure failed'));
      },
    };
  }

  /** What the query API reads the instance through. */
  private view() {
    // Stores answer queries once restored; the instance is ready when it also processes (a registry outage stops that).
    const ready = (): { ok: true } | { ok: false; why: string } => {
      if (this.current !== 'RUNNING') return { ok: false, why: `state ${this.current}` };
      return this.thread.restoring() ? { ok: false, why: 'restoring state stores' } : { ok: true };
    };
    return {
      ready,
      localStores: (taskId: string) => this.thread.localStores(taskId),
      localTasks: () => this.thread.localTasks(),
      mismatchedTopics: () => this.thread.mismatchedTopics(),
      siblingOwner: (taskId: string) => this.thread.siblingOwner(taskId),
    };
  }

  /**
   * True in the process of a stream thread (numStreamThreads above 1), where the program
   * runs again: keep its one-off side effects (printing, writing test data) to the main process.
   */
  static get isStreamThread(): boolean {
    return process.env[THREAD_ENV] !== undefined;
  }

  /** In a stream thread's process, its number (1-based); else undefined. */
  static get streamThreadIndex(): number | undefined {
    return threadRole()?.index;
  }

  /** This instance's Prometheus registry (see docs/metrics in the README). */
  get metrics(): Registry {
    return this.thread.metrics();
  }

  /** Each stream thread of this instance and the tasks it runs (Kafka Streams' metadataForLocalThreads). */
  metadataForLocalThreads(): ThreadMetadata[] {
    return this.thread.threads();
  }

  get state(): StreamsState {
    return this.current;
  }

  async start(): Promise<void> {
    if (this.current !== 'CREATED')
      throw new StreamingError('SA_ERR_STREAMS_STATE', `start() in state ${this.current}`, { hint: 'a KafkaStreams instance starts once; create a new one' });
    this.setState('REBALANCING');
    if (this.config.handleSignals) for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, this.onSignal);
    this.log.info({ guarantee: this.config.processingGuarantee, commitIntervalMs: this.config.commitIntervalMs }, 'starting');
    this.starting = this.startParts();
    try {
      await this.starting;
    } catch (err) {
      this.log.error({ err }, 'start failed');
      // A stream thread's process tells its main process at once, whatever its program does with the error.
      this.child?.send({ sa: 'failed', code: isStreamingError(err) ? err.code : undefined, message: err instanceof Error ? err.message : String(err) });
      await this.thread.close().catch(() => undefined); // release whatever was connected
      await this.query?.stop();
      await this.admin?.app.close();
      this.setState('ERROR');
      this.removeSignalHandlers();
      throw err;
    }
  }

  /**
   * The admin listener first (health answers while Kafka is looked for and stores
   * restore), then Kafka answering (one clear error), the query server, the stream thread.
   */
  private async startParts(): Promise<void> {
    const view = this.view();
    const ready = (): { ok: true } | { ok: false; why: string } => {
      const waiting = this.thread.waitingFor(); // also during start, when output schemas are registered
      return waiting ? { ok: false, why: waiting } : view.ready();
    };
    if (this.adminOptions)
      this.admin = await startAdminServer(
        { instanceId: this.config.instanceId, ready, alive: () => this.thread.alive(), localTasks: view.localTasks, metrics: () => this.metrics },
        this.adminOptions,
        this.log,
      );
    await checkReachable(this.config);
    await this.query?.start(view);
    await this.startThreadQuery?.();
    await this.thread.start();
    this.child?.send({ sa: 'started', queryUrl: this.threadQuery?.url });
  }

  /** Where this instance's query API is reached, when it has one. */
  get queryUrl(): string | undefined {
    return this.query?.url;
  }

  /** Where this instance's /healthz, /readyz and /metrics are reached, once started with an admin server. */
  get adminUrl(): string | undefined {
    return this.admin?.url;
  }

  /** Graceful close, bounded by closeTimeoutMs; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.removeSignalHandlers();
    if (this.current === 'CREATED') return this.setState('NOT_RUNNING');
    await this.starting?.catch(() => undefined); // a close during start waits for the clients it connects
    const failed = this.current === 'ERROR';
    this.setState('PENDING_SHUTDOWN');
    let timer: NodeJS.Timeout | undefined;
    // The main process of several stream threads gives them their own forced close first (threads/host.ts).
    const limit = this.config.closeTimeoutMs + (this.config.numStreamThreads > 1 && !this.child ? THREAD_CLOSE_MARGIN_MS : 0);
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), limit)));
    const result = await Promise.race([this.thread.close().then(() => 'closed' as const), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.log.warn(
        { closeTimeoutMs: this.config.closeTimeoutMs },
        'close timed out; dropping the Kafka clients (the open transaction is aborted by the broker)',
      );
      await this.thread.forceClose();
    }
    await this.query?.stop();
    await this.threadQuery?.stop().catch((err: unknown) => this.log.warn({ err }, "closing the thread's query listener failed"));
    await this.admin?.app.close().catch((err: unknown) => this.log.warn({ err }, 'closing the admin listener failed'));
    this.log.info('closed');
    this.setState(failed ? 'ERROR' : 'NOT_RUNNING');
  }

  private removeSignalHandlers(): void {
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.off(s, this.onSignal);
  }

  private setState(next: StreamsState): void {
    if (next === this.current) return;
    if (this.current === 'ERROR' && next !== 'PENDING_SHUTDOWN') return;
    if ((this.current === 'PENDING_SHUTDOWN' || this.current === 'NOT_RUNNING') && (next === 'RUNNING' || next === 'REBALANCING')) return;
    const old = this.current;
    this.current = next;
    if (this.child) {
      // A stream thread's process reports to the instance's main process; its own listeners stay silent.
      if (next === 'REBALANCING' || next === 'RUNNING') this.child.send({ sa: 'state', state: next });
      return;
    }
    this.emit('stateChange', next, old);
  }
}
