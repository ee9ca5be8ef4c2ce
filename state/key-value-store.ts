/**
 * The typed key-value store processors see (`context.getStateStore(name)`): keys and
 * values through the store's serdes, over the byte-level layers. The serdes are called
 * with the changelog topic's name, so an Avro serde registers `<changelog>-value`.
 */
import type { Serde, Serializer } from '../src/serdes';
import { prefixEnd, type KeyValueBytesStore } from './bytes-store';

/** A key and its value, as Kafka Streams' KeyValue. */
export type KeyValue<K, V> = readonly [key: K, value: V];

export interface ReadOnlyKeyValueStore<K, V> {
  readonly name: string;
  get(key: K): V | undefined;
  /**
   * Entries with `from` ≤ key < `to` in the order of the serialized keys; absent bounds are
   * open. Asynchronous: a scan may read from disk (queries and tests use it; a processor
   * cannot await inside `process()`).
   */
  range(from?: K, to?: K, limit?: number): Promise<KeyValue<K, V>[]>;
  all(limit?: number): Promise<KeyValue<K, V>[]>;
  /**
   * Entries whose serialized key starts with the serialized `prefix` (Kafka Streams'
   * prefixScan). The prefix is serialized with `prefixSerializer`, by default the store's
   * key serde: right for string keys, whose UTF-8 bytes keep prefixes.
   */
  prefixScan<P = K>(prefix: P, prefixSerializer?: Serializer<P>, limit?: number): Promise<KeyValue<K, V>[]>;
  approximateNumEntries(): number;
}

export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  put(key: K, value: V): void;
  delete(key: K): void;
}

export class TypedKeyValueStore<K, V> implements KeyValueStore<K, V> {
  /** The last primitive key serialized: an aggregation gets, then puts, the same key. */
  private last: { key: K; bytes: Buffer } | undefined;

  constructor(
    private readonly bytes: KeyValueBytesStore,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    private readonly topic: string,
  ) {}

  get name(): string {
    return this.bytes.name;
  }

  get(key: K): V | undefined {
    const value = this.bytes.get(this.keyBytes(key));
    return value === undefined ? undefined : this.valueSerde.deserialize(this.topic, value);
  }

  /** `emit` (internal): what the write-back cache hands its flush listener for this key; see emitOnFlush. */
  put(key: K, value: V, emit?: unknown): void {
    this.bytes.put(this.keyBytes(key), this.valueSerde.serialize(this.topic, value), emit);
  }

  /** @internal Emit on update through the cache (see state/caching.ts); false when the store has no cache. */
  emitOnFlush(listener: (emit: unknown) => void): boolean {
    return this.bytes.setFlushListener?.(listener) ?? false;
  }

  delete(key: K): void {
    this.bytes.put(this.keyBytes(key), null);
  }

  async range(from?: K, to?: K, limit?: number): Promise<KeyValue<K, V>[]> {
    const lo = from === undefined ? undefined : this.keyBytes(from);
    const hi = to === undefined ? undefined : this.keyBytes(to);
    return (await this.bytes.range(lo, hi, limit)).map(([k, v]) => [this.keySerde.deserialize(this.topic, k), this.valueSerde.deserialize(this.topic, v)]);
  }

  all(limit?: number): Promise<KeyValue<K, V>[]> {
    return this.range(undefined, undefined, limit);
  }

  async prefixScan<P = K>(prefix: P, prefixSerializer?: Serializer<P>, limit?: number): Promise<KeyValue<K, V>[]> {
    const from = (prefixSerializer ?? (this.keySerde as unknown as Serializer<P>)).serialize(this.topic, prefix) ?? Buffer.alloc(0);
    return (await this.bytes.range(from, prefixEnd(from), limit)).map(([k, v]) => [
      this.keySerde.deserialize(this.topic, k),
      this.valueSerde.deserialize(this.topic, v),
    ]);
  }

  approximateNumEntries(): number {
    return this.bytes.approximateNumEntries();
  }

  /** @internal Every entry synchronously (in-memory stores: the DSL's suppression buffers). */
  entriesSync(): KeyValue<K, V>[] {
    if (!this.bytes.entriesSync) throw new Error(`store "${this.name}" cannot be read synchronously`);
    return this.bytes.entriesSync().map(([k, v]) => [this.keySerde.deserialize(this.topic, k), this.valueSerde.deserialize(this.topic, v)]);
  }

  private keyBytes(key: K): Buffer {
    if (this.last !== undefined && this.last.key === key) return this.last.bytes;
    const bytes = this.keySerde.serialize(this.topic, key);
    if (bytes === null) throw new TypeError(`store "${this.name}": a key serialized to null (keys must not be null)`);
    if (typeof key !== 'object') this.last = { key, bytes };
    return bytes;
  }
}
