/**
 * The main process of an instance with several stream threads: it forks one process per
 * thread (the same program, see role.ts), and is what KafkaStreams drives in place of a
 * StreamThread. It answers for the instance: its state follows the threads' (RUNNING once
 * every thread runs; a failed thread fails the instance, as Kafka Streams' SHUTDOWN_CLIENT),
 * its tasks are theirs together, its metrics are theirs added up, and a query for a task a
 * thread runs is forwarded to that thread's query listener on the loopback address.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Registry } from 'prom-client';
import { ERROR_CATALOGUE, type ErrorCode, StreamingError } from '../../errors';
import type { Logger } from '../../logger';
import type { ThreadListener } from '../stream-thread';
import type { ResolvedStreamsConfig } from '../streams-config';
import { MetricsRequests, type MetricsJson, ThreadsRegistry } from './metrics';
import { type FromThread, isFromThread, type ToThread } from './protocol';
import { roleEnv, threadInstanceId } from './role';

/**
 * How long a thread's process may go without a word while starting: until its program
 * builds the KafkaStreams, then between its heartbeats (a thread waiting for the schema
 * registry keeps starting, as a single thread would).
 */
const START_SILENCE_MS = 120_000;
const METRICS_TIMEOUT_MS = 5_000;
/** A thread silent this long is not alive (/healthz): its event loop is stuck. */
const ALIVE_WITHIN_MS = 30_000;
/** Beyond closeTimeoutMs, what a thread gets for its own forced close before it is killed. */
export const THREAD_CLOSE_MARGIN_MS = 5_000;

/** The program each thread's process runs. */
export interface ThreadEntry {
  file: string;
  args: string[];
  /** Node's options, less the inspector's (two processes cannot share its port). */
  execArgv: string[];
}

interface Thread {
  index: number;
  child: ChildProcess;
  state: 'STARTING' | 'REBALANCING' | 'RUNNING';
  tasks: string[];
  lastSeen: number;
  /** Its last metrics answer: given again when it does not answer in time, so its counters do not seem to reset. */
  lastMetrics: MetricsJson;
  restoring: boolean;
  waitingFor: string | undefined;
  mismatched: string[];
  queryUrl: string | undefined;
  exited: Promise<void>;
}

/** A thread's failure as the instance's: its own code when it is one of the catalogue's. */
function threadError(index: number, m: { code: string | undefined; message: string }): StreamingError {
  const code = m.code !== undefined && Object.hasOwn(ERROR_CATALOGUE, m.code) ? (m.code as ErrorCode) : 'SA_ERR_STREAMS_STATE';
  return new StreamingError(code, `stream thread ${index} failed: ${m.message.slice(0, 2_000)}`);
}

export class ThreadHost {
  private readonly procs: Thread[] = [];
  private closing = false;
  private failed = false;
  private readonly asks = new MetricsRequests(METRICS_TIMEOUT_MS);
  readonly metrics: Registry;

  constructor(
    private readonly config: ResolvedStreamsConfig,
    private readonly count: number,
    private readonly entry: ThreadEntry,
    private readonly log: Logger,
    private readonly listener: ThreadListener,
  ) {
    this.metrics = new ThreadsRegistry(() => this.collectMetrics(), config.metricsRegistry);
  }

  /** Whether every thread spoke lately (their heartbeats come every 2 s): a stuck thread fails /healthz. */
  alive(): { ok: true } | { ok: false; why: string } {
    const silent = this.procs.find((t) => t.state !== 'STARTING' && Date.now() - t.lastSeen > ALIVE_WITHIN_MS);
    return silent
      ? { ok: false, why: `stream thread ${silent.index} has said nothing for ${Math.round((Date.now() - silent.lastSeen) / 1000)} s` }
      : { ok: true };
  }

  get restoring(): boolean {
    return this.procs.some((t) => t.restoring);
  }

  get waitingFor(): string | undefined {
    return this.procs.find((t) => t.waitingFor)?.waitingFor;
  }

  localTasks(): string[] {
    return this.procs.flatMap((t) => t.tasks).sort();
  }

  threads(): { threadName: string; activeTasks: string[] }[] {
    return this.procs.map((t) => ({ threadName: `stream-thread-${t.index}`, activeTasks: [...t.tasks].sort() }));
  }

  mismatchedTopics(): string[] {
    return [...new Set(this.procs.flatMap((t) => t.mismatched))];
  }

  /** The thread that runs a task, as a query owner: its loopback listener. */
  ownerOf(taskId: string): { instanceId: string; url: string } | undefined {
    const t = this.procs.find((x) => x.tasks.includes(taskId) && x.queryUrl);
    return t ? { instanceId: threadInstanceId(this.config.instanceId, t.index), url: t.queryUrl! } : undefined;
  }

  /** Forks every thread's process; resolves once each has started its KafkaStreams. */
  async start(): Promise<void> {
    this.log.info({ threads: this.count, program: this.entry.file }, 'starting the stream threads, one process each');
    const started = Array.from({ length: this.count }, (_, i) => this.fork(i + 1));
    await Promise.all(started);
  }

  private fork(index: number): Promise<void> {
    const role = { applicationId: this.config.applicationId, index, count: this.count, instanceId: this.config.instanceId, stateDir: this.config.stateDir };
    // No stdin: the program's own reader of it (a CLI's prompt) belongs to the main process.
    const child = fork(this.entry.file, this.entry.args, {
      execArgv: this.entry.execArgv,
      env: { ...process.env, ...roleEnv(role) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const thread: Thread = {
      index,
      child,
      state: 'STARTING',
      tasks: [],
      lastSeen: Date.now(),
      lastMetrics: [],
      restoring: false,
      waitingFor: undefined,
      mismatched: [],
      queryUrl: undefined,
      exited,
    };
    this.procs.push(thread);
    return new Promise<void>((resolve, reject) => {
      const silent = (): void =>
        reject(
          this.startError(
            index,
            `said nothing for ${START_SILENCE_MS / 1000} s while starting (did its program build a KafkaStreams of "${this.config.applicationId}"?)`,
          ),
        );
      let timer = setTimeout(silent, START_SILENCE_MS);
      let starting = true;
      child.on('message', (m: unknown) => {
        if (!isFromThread(m)) return;
        thread.lastSeen = Date.now();
        if (starting) {
          clearTimeout(timer);
          timer = setTimeout(silent, START_SILENCE_MS);
        }
        if (m.sa === 'started') {
          starting = false;
          clearTimeout(timer);
          thread.queryUrl = m.queryUrl;
          resolve();
        }
        if (m.sa === 'failed') {
          starting = false;
          clearTimeout(timer);
          reject(threadError(index, m));
        }
        this.onMessage(thread, m);
      });
      child.once('exit', (code, signal) => {
        starting = false;
        clearTimeout(timer);
        reject(this.startError(index, `exited (${code ?? signal}) while starting`));
        this.onExit(thread, code, signal);
      });
    });
  }

  private startError(index: number, what: string): StreamingError {
    return new StreamingError('SA_ERR_STREAMS_STATE', `stream thread ${index} of ${this.count} ${what}`, {
      hint: `each stream thread runs ${this.entry.file} again: it must build and start the same KafkaStreams (see its log above)`,
    });
  }

  private onMessage(t: Thread, m: FromThread): void {
    if (m.sa === 'state') t.state = m.state;
    else if (m.sa === 'tasks') {
      t.tasks = m.tasks;
      this.listener.assigned(this.localTasks());
    } else if (m.sa === 'restoring') {
      t.restoring = m.restoring;
      t.waitingFor = m.waitingFor;
    } else if (m.sa === 'mismatch') {
      const fresh = m.topics.filter((topic) => !t.mismatched.includes(topic));
      t.mismatched = m.topics;
      for (const topic of fresh) this.listener.partitionerMismatch(topic);
    } else if (m.sa === 'metrics') this.asks.answered(m.id, m.metrics);
    else if (m.sa === 'failed') return this.fail(threadError(t.index, m));
    if (m.sa === 'state' || m.sa === 'started') this.reportState();
  }

  private reportState(): void {
    if (this.closing || this.failed) return;
    if (this.procs.length === this.count && this.procs.every((t) => t.state === 'RUNNING')) this.listener.running();
    else this.listener.rebalancing();
  }

  private onExit(t: Thread, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closing) return;
    this.fail(new StreamingError('SA_ERR_STREAMS_STATE', `stream thread ${t.index}'s process exited unexpectedly (${code ?? signal})`));
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.listener.failed(err);
  }

  private send(t: Thread, m: ToThread): void {
    if (t.child.connected) t.child.send(m, (err) => err && this.log.debug({ err, thread: t.index }, 'a message to a stream thread was not delivered'));
  }

  private collectMetrics(): Promise<MetricsJson[]> {
    return Promise.all(
      this.procs
        .filter((t) => t.child.connected)
        .map((t) => this.asks.ask((id) => this.send(t, { sa: 'metrics', id }), t.lastMetrics).then((m) => (t.lastMetrics = m))),
    );
  }

  /**
   * Asks every thread to close (commit, leave the group) and waits for their processes to
   * end; one that has not ended within the close timeout (e.g. it never got as far as its
   * KafkaStreams) is killed.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.procs) this.send(t, { sa: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.config.closeTimeoutMs + THREAD_CLOSE_MARGIN_MS)));
    const ended = await Promise.race([Promise.all(this.procs.map((t) => t.exited)), late]);
    clearTimeout(timer);
    if (ended === 'late') await this.forceClose();
  }

  /** After the close timeout: the processes are killed; their open transactions are aborted by the broker. */
  async forceClose(): Promise<void> {
    this.closing = true;
    for (const t of this.procs) if (t.child.exitCode === null) t.child.kill('SIGKILL');
    await Promise.all(this.procs.map((t) => t.exited));
  }
}
