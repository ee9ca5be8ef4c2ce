/**
 * One task's instance of the processor graph (internal): the processors of one
 * sub-topology, created from their suppliers, wired depth-first as in Kafka Streams
 * (a forward() runs the children before it returns). Sources deserialize; sinks
 * serialize and hand bytes to a RecordCollector (the producer, or the test driver).
 */
import { isStreamingError } from '../../errors';
import type { NodeSpec } from './graph';
import { StreamingError } from '../../errors';
import type { Processor, ProcessorContext } from '../processor-api/processor';
import type { RawRecord, RecordOrigin, StreamRecord } from '../processor-api/record';
import { Punctuations } from '../processor-api/punctuation';
import type { TaskStores } from './task-stores';
import type { RecordCollector } from './record-collector';

export type { RawRecord };

export type { RecordCollector };

/** Called when a sink cannot serialize a record; returns normally to drop that output, or throws. */
export type SinkErrorHook = (error: Error, topic: string) => void;

type AnyRecord = StreamRecord<unknown, unknown>;

interface Instance {
  spec: NodeSpec;
  process(record: AnyRecord): void;
  flush?(): void;
  close(): void;
}

/** Sends a rejected record to the dead-letter topic (StreamTask knows where it is, and the input record). */
export type DeadLetterHook = (record: { key: Buffer | null; value: Buffer | null; timestamp: number }, code: string, message: string) => void;

/** What one task's graph is made of, by name: the hooks and the store are optional and independent of each other. */
export interface TaskGraphOptions {
  nodes: readonly NodeSpec[];
  taskId: string;
  applicationId: string;
  collector: RecordCollector;
  onSinkError: SinkErrorHook;
  /** The task's state stores; without them a processor asking for a store fails. */
  stores?: TaskStores | undefined;
  /** A windowed processor dropped a late record (counted by the runtime). */
  onLate?: (() => void) | undefined;
  /** Wall-clock time for punctuation schedules (the test driver's clock in tests). Default Date.now. */
  clock?: (() => number) | undefined;
  deadLetter?: DeadLetterHook | undefined;
}

export class TaskGraph {
  readonly taskId: string;
  readonly applicationId: string;
  private readonly collector: RecordCollector;
  private readonly onSinkError: SinkErrorHook;
  private readonly stores: TaskStores | undefined;
  private readonly onLate: () => void;
  private readonly clock: () => number;
  private readonly deadLetter: DeadLetterHook;
  private readonly instances = new Map<string, Instance>();
  private readonly sourceByTopic = new Map<string, Extract<NodeSpec, { kind: 'source' }>>();
  private current: RecordOrigin | undefined;
  private streamTime = -1;
  private readonly punctuations = new Punctuations();
  /** Records forwarded so far: a flush pass that forwards nothing has nothing left to move. */
  private forwarded = 0;
  /** Instances parents first (the order the topology added them). */
  private readonly ordered: Instance[];

  constructor(o: TaskGraphOptions) {
    const nodes = o.nodes;
    this.taskId = o.taskId;
    this.applicationId = o.applicationId;
    this.collector = o.collector;
    this.onSinkError = o.onSinkError;
    this.stores = o.stores;
    this.onLate = o.onLate ?? (() => undefined);
    this.clock = o.clock ?? Date.now;
    this.deadLetter = o.deadLetter ?? (() => undefined);
    // Children first, so every instance can be wired to already-built children.
    for (const spec of [...nodes].reverse()) this.instances.set(spec.name, this.instantiate(spec));
    for (const spec of nodes) if (spec.kind === 'source') for (const t of spec.topics) this.sourceByTopic.set(t, spec);
    this.ordered = nodes.map((n) => this.instances.get(n.name)!);
  }

  topics(): string[] {
    return [...this.sourceByTopic.keys()];
  }

  /** With the source's serdes; what they throw is for the caller's deserialization handler. */
  deserialize(raw: RawRecord): AnyRecord {
    const source = this.source(raw.topic);
    return {
      key: source.keySerde.deserialize(raw.topic, raw.key),
      value: source.valueSerde.deserialize(raw.topic, raw.value),
      timestamp: raw.timestamp,
      headers: raw.headers,
    };
  }

  deserializeKey(raw: RawRecord): unknown {
    return this.source(raw.topic).keySerde.deserialize(raw.topic, raw.key);
  }

  /** Runs the graph for one deserialized input record. */
  run(raw: RawRecord, record: AnyRecord): void {
    const source = this.source(raw.topic);
    this.current = { topic: raw.topic, partition: raw.partition, offset: raw.offset };
    if (raw.timestamp > this.streamTime) this.streamTime = raw.timestamp;
    this.stores?.observe(raw.timestamp);
    try {
      this.instances.get(source.name)!.process(record);
      this.punctuations.streamTime(this.streamTime);
    } finally {
      this.current = undefined;
    }
  }

  /** Flushes every processor that holds records back, parents first; returns how many records moved. */
  flushProcessors(): number {
    const before = this.forwarded;
    for (const i of this.ordered) i.flush?.();
    return this.forwarded - before;
  }

  get forwardedCount(): number {
    return this.forwarded;
  }

  /** Fires the wall-clock punctuators that are due (the runtime calls it between batches). */
  punctuateWallClock(now: number): void {
    this.punctuations.wallClock(now);
  }

  hasWallClockPunctuators(): boolean {
    return this.punctuations.hasWallClock();
  }

  wallClockDue(now: number): boolean {
    return this.punctuations.wallClockDue(now);
  }

  private source(topic: string): Extract<NodeSpec, { kind: 'source' }> {
    const source = this.sourceByTopic.get(topic);
    if (!source) throw new Error(`task ${this.taskId} has no source for topic "${topic}"`);
    return source;
  }

  currentStreamTimeMs(): number {
    return this.streamTime;
  }

  close(): void {
    for (const i of this.instances.values()) i.close();
  }

  private instantiate(spec: NodeSpec): Instance {
    if (spec.kind === 'sink') return this.sink(spec);
    const children = spec.children.map((c) => this.instances.get(c)!);
    const byName = new Map(children.map((c) => [c.spec.name, c]));
    // Children reached only by name (a late-records sink) are skipped by a plain forward.
    const everyone = children.filter((c) => c.spec.kind === 'source' || !c.spec.byNameOnly);
    const forward = (record: AnyRecord, childName?: string): void => {
      this.forwarded++;
      if (childName === undefined) for (const c of everyone) c.process(record);
      else {
        const child = byName.get(childName);
        if (!child) throw new Error(`${spec.name} has no child named "${childName}"`);
        child.process(record);
      }
    };
    if (spec.kind === 'source') return { spec, process: (r) => forward(r), close: () => undefined };
    const processor = spec.supplier() as Processor<unknown, unknown, unknown, unknown>;
    processor.init?.(this.context(spec, forward));
    return { spec, process: (r) => processor.process(r), ...(processor.flush ? { flush: () => processor.flush!() } : {}), close: () => processor.close?.() };
  }

  private context(
    spec: Extract<NodeSpec, { kind: 'processor' }>,
    forward: (record: AnyRecord, childName?: string) => void,
  ): ProcessorContext<unknown, unknown> {
    return {
      forward,
      getStateStore: <K, V>(name: string) => this.connected(spec, name, this.stores?.typed<K, V>(name), 'key-value'),
      getWindowStore: <K, V>(name: string) => this.connected(spec, name, this.stores?.window<K, V>(name), 'window'),
      recordLateDrop: () => this.onLate(),
      deadLetter: (record, code, message) => this.deadLetter(record, code, message),
      schedule: (intervalMs, type, callback) => this.punctuations.schedule(intervalMs, type, callback, this.clock()),
      taskId: this.taskId,
      applicationId: this.applicationId,
      origin: () => this.current,
      currentStreamTimeMs: () => this.streamTime,
    };
  }

  private connected<S>(spec: Extract<NodeSpec, { kind: 'processor' }>, name: string, store: S | undefined, kind: string): S {
    if (!store || !spec.stores?.includes(name)) {
      throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `processor "${spec.name}" is not connected to a ${kind} store named "${name}"`, {
        hint: 'name the store in process(supplier, { stores: [...] }) after adding it with StreamsBuilder.addStateStore',
      });
    }
    return store;
  }

  private sink(spec: Extract<NodeSpec, { kind: 'sink' }>): Instance {
    return {
      spec,
      process: (r) => {
        let key: Buffer | null;
        let value: Buffer | null;
        try {
          key = spec.keySerde.serialize(spec.topic, r.key);
          value = spec.valueSerde.serialize(spec.topic, r.value);
        } catch (err) {
          return this.onSinkError(err instanceof Error ? err : new Error(String(err)), spec.topic);
        }
        try {
          this.collector.send(spec.topic, key, value, r.timestamp, r.headers);
        } catch (err) {
          // A record the producer rejects for itself (too large) is the production handler's call.
          if (isStreamingError(err) && err.code === 'SA_ERR_PRODUCTION_FAILED') return this.onSinkError(err, spec.topic);
          throw err;
        }
      },
      close: () => undefined,
    };
  }
}
