/** Input and output topics of the TopologyTestDriver (Kafka Streams' TestInputTopic/TestOutputTopic). */
import type { Deserializer, Serializer } from '../serdes';
import type { Headers, KeyValue } from '../streams/processor-api/record';

export interface TestRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: Headers;
}

/** What the driver stores per topic: bytes, as a broker would. */
export interface StoredRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
}

export interface PipeOptions {
  timestamp?: number;
  headers?: Headers;
}

/** @internal How the driver hands an input topic its serdes and its ways into the driver. */
export interface TestInputTopicOptions<K, V> {
  name: string;
  keySerde: Serializer<K>;
  valueSerde: Serializer<V>;
  /** Processes one record (a batch of one). */
  pipe: (topic: string, record: StoredRecord) => void;
  /** Processes records as one input batch. */
  pipeMany: (topic: string, records: StoredRecord[]) => void;
  /** The driver's wall clock: the default timestamp. */
  now: () => number;
}

export class TestInputTopic<K, V> {
  readonly name: string;
  private readonly keySerde: Serializer<K>;
  private readonly valueSerde: Serializer<V>;
  private readonly pipe: (topic: string, record: StoredRecord) => void;
  private readonly pipeMany: (topic: string, records: StoredRecord[]) => void;
  private readonly now: () => number;

  /** @internal Made by TopologyTestDriver.createInputTopic. */
  constructor(o: TestInputTopicOptions<K, V>) {
    this.name = o.name;
    this.keySerde = o.keySerde;
    this.valueSerde = o.valueSerde;
    this.pipe = o.pipe;
    this.pipeMany = o.pipeMany;
    this.now = o.now;
  }

  /** Pipes one record; its timestamp defaults to the driver's current time. */
  pipeInput(key: K, value: V, options: PipeOptions = {}): void {
    this.pipe(this.name, {
      key: this.keySerde.serialize(this.name, key),
      value: this.valueSerde.serialize(this.name, value),
      timestamp: options.timestamp ?? this.now(),
      headers: options.headers ?? [],
    });
  }

  pipeKeyValueList(records: Iterable<KeyValue<K, V>>, options: PipeOptions = {}): void {
    for (const [k, v] of records) this.pipeInput(k, v, options);
  }

  /**
   * Pipes the records as one input batch, as one poll would bring them to the runtime:
   * all are processed, then processors that hold records back (micro-batched inference)
   * and the caches flush once, and one commit follows. pipeInput is a batch of one.
   */
  pipeBatch(records: Iterable<KeyValue<K, V>>, options: PipeOptions = {}): void {
    this.pipeMany(
      this.name,
      [...records].map(([key, value]) => ({
        key: this.keySerde.serialize(this.name, key),
        value: this.valueSerde.serialize(this.name, value),
        timestamp: options.timestamp ?? this.now(),
        headers: options.headers ?? [],
      })),
    );
  }

  /** Pipes raw bytes, e.g. a poison pill that no serde can read. */
  pipeRawInput(key: Buffer | null, value: Buffer | null, options: PipeOptions = {}): void {
    this.pipe(this.name, { key, value, timestamp: options.timestamp ?? this.now(), headers: options.headers ?? [] });
  }
}

export class TestOutputTopic<K, V> {
  private position = 0;

  /** @internal */
  constructor(
    readonly name: string,
    private readonly keySerde: Deserializer<K>,
    private readonly valueSerde: Deserializer<V>,
    private readonly log: () => readonly StoredRecord[],
  ) {}

  isEmpty(): boolean {
    return this.queueSize() === 0;
  }

  queueSize(): number {
    return this.log().length - this.position;
  }

  readRecord(): TestRecord<K, V> {
    const stored = this.log()[this.position];
    if (!stored) throw new Error(`output topic "${this.name}" has no more records`);
    this.position++;
    return {
      key: this.keySerde.deserialize(this.name, stored.key),
      value: this.valueSerde.deserialize(this.name, stored.value),
      timestamp: stored.timestamp,
      headers: stored.headers,
    };
  }

  readKeyValue(): KeyValue<K, V> {
    const r = this.readRecord();
    return [r.key, r.value];
  }

  readValue(): V {
    return this.readRecord().value;
  }

  readRecordsToList(): TestRecord<K, V>[] {
    const out: TestRecord<K, V>[] = [];
    while (!this.isEmpty()) out.push(this.readRecord());
    return out;
  }

  readKeyValuesToList(): KeyValue<K, V>[] {
    return this.readRecordsToList().map((r) => [r.key, r.value] as const);
  }

  readValuesToList(): V[] {
    return this.readRecordsToList().map((r) => r.value);
  }
}
