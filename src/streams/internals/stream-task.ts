/**
 * A task (internal): one sub-topology's processors for one partition (or one set of
 * co-partitioned partitions), fed raw records in offset order, applying the error
 * policies. The runtime commits tasks; the TopologyTestDriver runs them without Kafka.
 */
import { StreamingError, isStreamingError } from '../../errors';
import type { NodeSpec } from './graph';
import { deadLetterHeaders, DLQ_HEADERS, type Failure } from '../handlers';
import type { ResolvedStreamsOptions } from '../options';
import { TaskGraph, type RawRecord, type RecordCollector } from './task-graph';
import type { TaskStores } from './task-stores';

/** Told about every record an error policy dealt with, or a window dropped as late (the runtime counts them in metrics). */
export type FailureObserver = (reason: 'deserialization' | 'processing' | 'production' | 'late' | 'rejected') => void;

/** What a task is made of, by name: the observer, the stores and the clock are optional and independent of each other. */
export interface StreamTaskOptions {
  id: string;
  nodes: readonly NodeSpec[];
  /** The error policies, the dead-letter topic and the application id. */
  config: ResolvedStreamsOptions;
  collector: RecordCollector;
  observe?: FailureObserver | undefined;
  /** The task's state stores; they outlive the task (an abort makes a new task over the same stores). */
  stores?: TaskStores | undefined;
  /** Wall-clock time for punctuation schedules. Default Date.now. */
  clock?: (() => number) | undefined;
}

export class StreamTask {
  readonly id: string;
  private readonly options: ResolvedStreamsOptions;
  private readonly collector: RecordCollector;
  private readonly observe: FailureObserver;
  private readonly stores: TaskStores | undefined;
  private readonly graph: TaskGraph;
  private current: RawRecord | undefined;

  constructor(o: StreamTaskOptions) {
    this.id = o.id;
    this.options = o.config;
    this.collector = o.collector;
    this.observe = o.observe ?? (() => undefined);
    this.stores = o.stores;
    this.graph = new TaskGraph({
      nodes: o.nodes,
      taskId: o.id,
      applicationId: o.config.applicationId,
      collector: o.collector,
      onSinkError: (error, topic) => this.onSinkError(error, topic),
      stores: o.stores,
      onLate: () => this.observe('late'),
      clock: o.clock,
      deadLetter: (record, code, message) => this.onDeadLetter(record, code, message),
    });
  }

  topics(): string[] {
    return this.graph.topics();
  }

  /** Processes one input record; throws a StreamingError when a policy says 'fail'. */
  process(raw: RawRecord): void {
    this.current = raw;
    try {
      let record;
      try {
        record = this.graph.deserialize(raw);
      } catch (err) {
        return this.onDeserializationError(raw, asError(err));
      }
      try {
        this.graph.run(raw, record);
      } catch (err) {
        // Failures of the runtime (transactions) and handler decisions pass through; only the topology's own errors are the processing handler's.
        if (isStreamingError(err) && PASS_THROUGH.has(err.code)) throw err;
        this.onProcessingError(raw, asError(err));
      }
    } finally {
      this.current = undefined;
    }
  }

  currentStreamTimeMs(): number {
    return this.graph.currentStreamTimeMs();
  }

  wallClockDue(now: number): boolean {
    return this.graph.wallClockDue(now);
  }

  hasWallClockPunctuators(): boolean {
    return this.graph.hasWallClockPunctuators();
  }

  /** Wall-clock punctuation; a punctuator that throws stops processing (there is no record to skip). */
  punctuateWallClock(now: number): void {
    try {
      this.graph.punctuateWallClock(now);
    } catch (err) {
      if (isStreamingError(err) && PASS_THROUGH.has(err.code)) throw err;
      this.observe('processing');
      throw new StreamingError('SA_ERR_PROCESSING_FAILED', `task ${this.id}: a wall-clock punctuator failed: ${asError(err).message}`, { cause: err });
    }
  }

  /** After each input batch: processors that hold records back (micro-batched inference) emit them. */
  endBatch(): void {
    this.flushing('emitting the records held back for the batch', () => this.graph.flushProcessors());
  }

  /**
   * Commit step 1b for this task: processors that hold records back emit them, and the
   * stores' caches flush, emitting what they held downstream — pass after pass until a
   * pass moves no record, so every effect of the committed input is in this transaction.
   * A failure there has no input record to skip, so it stops processing, as a failing
   * wall-clock punctuator does.
   */
  flushStores(): void {
    this.flushing('emitting the cached aggregates at the commit', () => {
      for (let pass = 0; ; pass++) {
        const before = this.graph.forwardedCount;
        this.graph.flushProcessors();
        this.stores?.flush();
        if (this.graph.forwardedCount === before) return;
        if (pass >= MAX_FLUSH_PASSES)
          throw new Error(`records still moving after ${MAX_FLUSH_PASSES} flush passes (a cycle between processors that hold records back?)`);
      }
    });
  }

  private flushing(what: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      if (isStreamingError(err) && PASS_THROUGH.has(err.code)) throw err;
      this.observe('processing');
      throw new StreamingError('SA_ERR_PROCESSING_FAILED', `task ${this.id}: ${what} failed: ${asError(err).message}`, { cause: err });
    }
  }

  private onDeadLetter(record: { key: Buffer | null; value: Buffer | null; timestamp: number }, code: string, message: string): void {
    this.observe('rejected');
    const dlq = this.options.deadLetterTopic;
    if (dlq === null) return;
    const raw = this.current;
    const h = (key: string, value: string | number): { key: string; value: Buffer } => ({ key, value: Buffer.from(String(value), 'utf8') });
    const headers = [h(DLQ_HEADERS.code, code), h(DLQ_HEADERS.message, message), h(DLQ_HEADERS.taskId, this.id)];
    if (raw) headers.push(h(DLQ_HEADERS.topic, raw.topic), h(DLQ_HEADERS.partition, raw.partition), h(DLQ_HEADERS.offset, raw.offset));
    this.collector.send(dlq, record.key, record.value, record.timestamp, headers);
  }

  /** The record's key as its source reads it, or undefined when it cannot be read (the handler deals with that later). */
  keyOf(raw: RawRecord): unknown {
    try {
      return this.graph.deserializeKey(raw);
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.graph.close();
  }

  private failure(record: RawRecord, error: Error): Failure {
    return { record, error, taskId: this.id };
  }

  private onDeserializationError(raw: RawRecord, error: Error): void {
    this.observe('deserialization');
    const failure = this.failure(raw, error);
    if (this.options.deserializationExceptionHandler(failure) === 'fail') {
      throw new StreamingError('SA_ERR_DESERIALIZATION', `task ${this.id}: cannot read the record at ${where(raw)}: ${error.message}`, { cause: error });
    }
    const dlq = this.options.deadLetterTopic;
    if (dlq !== null) this.collector.send(dlq, raw.key, raw.value, raw.timestamp, deadLetterHeaders('SA_ERR_DESERIALIZATION', failure));
  }

  private onProcessingError(raw: RawRecord, error: Error): void {
    this.observe('processing');
    if (this.options.processingExceptionHandler(this.failure(raw, error)) === 'fail') {
      throw new StreamingError('SA_ERR_PROCESSING_FAILED', `task ${this.id}: processing the record at ${where(raw)} failed: ${error.message}`, {
        cause: error,
      });
    }
  }

  private onSinkError(error: Error, topic: string): void {
    this.observe('production');
    const raw = this.current;
    // Emitted by a cache flush at the commit: there is no input record the handler could skip.
    if (!raw)
      throw new StreamingError('SA_ERR_PRODUCTION_FAILED', `task ${this.id}: cannot write a cached aggregate to "${topic}" at the commit: ${error.message}`, {
        cause: error,
      });
    if (this.options.productionExceptionHandler(this.failure(raw, error)) === 'fail') {
      throw new StreamingError('SA_ERR_PRODUCTION_FAILED', `task ${this.id}: cannot write a record to "${topic}" (from ${where(raw)}): ${error.message}`, {
        cause: error,
      });
    }
  }
}

const MAX_FLUSH_PASSES = 100;

const PASS_THROUGH = new Set<string>(['SA_ERR_PRODUCTION_FAILED', 'SA_ERR_TXN_ABORTABLE', 'SA_ERR_TXN_FATAL', 'SA_ERR_TXN_STATE']);

function where(r: RawRecord): string {
  return `${r.topic}/${r.partition}@${r.offset}`;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
