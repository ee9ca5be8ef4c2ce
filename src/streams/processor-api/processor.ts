/**
 * The Processor API, the layer under the DSL (Kafka Streams' `Processor<KIn, VIn, KOut,
 * VOut>`): every DSL operator is a processor, and applications can add their own with
 * `KStream.process()`.
 */
import type { KeyValueStore, WindowStore } from '../../../state';
import type { Cancellable, PunctuationType } from './punctuation';
import type { RecordOrigin, StreamRecord } from './record';

export interface ProcessorContext<KOut, VOut> {
  /** Sends a record to the downstream processors (or only to the child named `childName`). */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void;
  /** The task this processor instance belongs to, e.g. "0_3" (sub-topology 0, partition 3). */
  readonly taskId: string;
  readonly applicationId: string;
  /** Origin of the record being processed, if it came from a topic. */
  origin(): RecordOrigin | undefined;
  /** Highest record timestamp this task has seen so far (Kafka Streams' stream time). */
  currentStreamTimeMs(): number;
  /**
   * A state store this processor is connected to (by the DSL, or by `process(supplier,
   * { stores })`). Reads see this task's writes at once; writes are committed with the
   * task's outputs and offsets, and rolled back if the transaction aborts.
   */
  getStateStore<K, V>(name: string): KeyValueStore<K, V>;
  /** A window store this processor is connected to (windowed aggregations use one). */
  getWindowStore<K, V>(name: string): WindowStore<K, V>;
  /** Counts a record dropped because every window it belongs to had closed (`events_late_total`). */
  recordLateDrop(): void;
  /**
   * Calls `callback` every `intervalMs` of stream time (as records arrive) or of wall-clock
   * time (even without input), in this task; records it forwards go out with the task's
   * next commit. An exception thrown by a wall-clock punctuator stops the instance.
   */
  schedule(intervalMs: number, type: PunctuationType, callback: (timestamp: number) => void): Cancellable;
  /**
   * Sends a record this processor rejects to the dead-letter topic (when one is configured),
   * with `code` and `message` in its headers, plus the task and, when there is one, the
   * input record being processed (topic, partition, offset). Counted in
   * `events_failed_total{reason="rejected"}`.
   */
  deadLetter(record: { key: Buffer | null; value: Buffer | null; timestamp: number }, code: string, message: string): void;
}

export interface Processor<KIn, VIn, KOut, VOut> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): void;
  /**
   * Called after every input batch and at every commit (before and after the state stores
   * flush, until nothing more moves): a processor that holds records back — to score them
   * in one model call — forwards them here, inside the same transaction.
   */
  flush?(): void;
  close?(): void;
}

/** Makes one processor instance per task: instances never share mutable state across tasks. */
export type ProcessorSupplier<KIn, VIn, KOut, VOut> = () => Processor<KIn, VIn, KOut, VOut>;
