/**
 * The process of one stream thread: KafkaStreams runs its StreamThread here and reports
 * to the main process — started (with its loopback query listener), its state, its tasks,
 * restoration and registry waits, partitioner findings, a failure — and answers metrics
 * requests. It closes when the main process asks, or when the main process is gone (the
 * IPC channel closes), then exits. Signals are the main process's to handle: a Ctrl-C
 * reaches the whole process group, and the main process closes the threads in order.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../../logger';
import { type FromThread, isToThread } from './protocol';

export interface ThreadParts {
  metrics(): Registry;
  close(): Promise<void>;
  restoring(): boolean;
  waitingFor(): string | undefined;
  mismatchedTopics(): string[];
}

const ignore = (): void => undefined;

export class ThreadChild {
  private parts: ThreadParts | undefined;
  private closing: Promise<void> | undefined;
  private readonly poll: NodeJS.Timeout;
  private last = '';

  constructor(private readonly log: Logger) {
    process.on('SIGINT', ignore);
    process.on('SIGTERM', ignore);
    process.on('message', (m: unknown) => {
      if (!isToThread(m)) return;
      if (m.sa === 'close') this.closeAndExit(0);
      else if (m.sa === 'metrics')
        void (this.parts?.metrics().getMetricsAsJSON() ?? Promise.resolve([])).then(
          (metrics) => this.send({ sa: 'metrics', id: m.id, metrics }),
          () => this.send({ sa: 'metrics', id: m.id, metrics: [] }),
        );
    });
    process.on('disconnect', () => {
      this.log.warn('the main process is gone; closing this stream thread');
      this.closeAndExit(1);
    });
    // Restoration and registry waits change inside the thread: reported when they do, and a
    // heartbeat every 2 s tells the main process this thread's event loop still turns.
    let beat = 0;
    this.poll = setInterval(() => {
      this.reportProgress();
      if (++beat % 8 === 0) this.send({ sa: 'alive' });
    }, 250);
    this.poll.unref();
  }

  bind(parts: ThreadParts): void {
    this.parts = parts;
  }

  send(m: FromThread): void {
    if (process.connected)
      process.send!(m, undefined, undefined, (err: Error | null) => err && this.log.debug({ err }, 'a message to the main process was not delivered'));
  }

  private reportProgress(): void {
    if (!this.parts) return;
    const now = { restoring: this.parts.restoring(), waitingFor: this.parts.waitingFor(), mismatched: this.parts.mismatchedTopics() };
    const key = JSON.stringify(now);
    if (key === this.last) return;
    const before = this.last ? (JSON.parse(this.last) as typeof now) : undefined;
    this.last = key;
    this.send({ sa: 'restoring', restoring: now.restoring, waitingFor: now.waitingFor });
    if (JSON.stringify(before?.mismatched) !== JSON.stringify(now.mismatched)) this.send({ sa: 'mismatch', topics: now.mismatched });
  }

  /** Closes the thread's KafkaStreams once, then ends the process (the program that started it has nothing else to do here). */
  closeAndExit(code: number): void {
    clearInterval(this.poll);
    this.closing ??= (this.parts?.close() ?? Promise.resolve())
      .catch((err: unknown) => this.log.warn({ err }, 'closing the stream thread failed'))
      .finally(() => process.exit(code));
  }
}
