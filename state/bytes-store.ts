/**
 * The byte-level key-value store contract every backend and every decorator implements.
 * Keys are ordered by their bytes. Writes are transactional, to match the Kafka
 * transaction they belong to: a write is visible to reads at once, becomes part of the
 * committed state on `commit()` (after the Kafka transaction committed), and is forgotten
 * on `abort()`.
 *
 * Point reads are synchronous, because processors run synchronously per record. A
 * backend whose reads are asynchronous (RocksDB) serves them from memory: the keys a
 * batch will read are loaded first with `prefetch()`, in one call per batch. Scans are
 * asynchronous (they serve queries, not the per-record path).
 */
export type Entry = readonly [key: Buffer, value: Buffer];
export type Change = readonly [key: Buffer, value: Buffer | null];

/** Called by a write-back cache, once per flushed key, with what the key's last write asked it to emit. */
export type FlushListener = (emit: unknown) => void;

export interface KeyValueBytesStore {
  readonly name: string;
  /** Throws SA_ERR_STORE_NOT_LOADED on a backend that must prefetch, for a key it did not. */
  get(key: Buffer): Buffer | undefined;
  /**
   * A null value deletes the key. `emit` is for a write-back cache's flush listener (emit
   * on update through the cache): the cache keeps the last one per key and hands it to the
   * listener when it flushes that key; layers without a cache ignore it.
   */
  put(key: Buffer, value: Buffer | null, emit?: unknown): void;
  /** Registers the flush listener of the stack's write-back cache; false when the stack has none (emit at once then). */
  setFlushListener?(listener: FlushListener): boolean;
  /** Makes `get` of these keys synchronous (a no-op for in-memory stores). */
  prefetch(keys: readonly Buffer[]): Promise<void>;
  /** Entries with `from` ≤ key < `to` in byte order (an absent bound is open), at most `limit`. */
  range(from: Buffer | undefined, to: Buffer | undefined, limit?: number): Promise<Entry[]>;
  approximateNumEntries(): number;
  /** Before the Kafka commit: buffered writes go down to the layer below (and to the changelog). */
  flush(): void;
  /** After the Kafka commit: every write so far is committed state (a persistent backend writes it). */
  commit(): Promise<void>;
  /** The Kafka transaction aborted: every write since the last commit is forgotten. */
  abort(): void;
  /** Restoration: changelog entries applied as committed state, bypassing cache and changelog. */
  restore(batch: readonly Change[]): Promise<void>;
  /**
   * Deletes the committed entries with `from` ≤ key < `to` and any write to them, at once
   * and without changelog records (window retention: the changelog's own retention
   * drops them there). Called between transactions, never inside one.
   */
  deleteRange(from: Buffer | undefined, to: Buffer | undefined): Promise<void>;
  /** Deletes every entry (a persistent store that cannot be trusted is rebuilt from its changelog). */
  wipe(): Promise<void>;
  close(): Promise<void>;
  /** Every entry, synchronously: in-memory stacks only (internal buffers rebuilt when a task starts). */
  entriesSync?(): Entry[];
}

/** Whether `key` (an order key) lies in [from, to) (absent bounds are open). */
export function inRange(key: string, from: Buffer | undefined, to: Buffer | undefined): boolean {
  return (from === undefined || key >= orderKey(from)) && (to === undefined || key < orderKey(to));
}

/** Byte order as a string order: latin1 maps each byte to one UTF-16 unit, so `<` compares bytes. */
export const orderKey = (key: Buffer): string => key.toString('latin1');
export const fromOrderKey = (key: string): Buffer => Buffer.from(key, 'latin1');

/** The smallest key greater than every key starting with `prefix` (undefined: no bound). */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** Passes every call to the inner store; a decorator overrides only its own concern. */
export abstract class WrappedStore implements KeyValueBytesStore {
  constructor(protected readonly inner: KeyValueBytesStore) {}
  get name(): string {
    return this.inner.name;
  }
  get(key: Buffer): Buffer | undefined {
    return this.inner.get(key);
  }
  put(key: Buffer, value: Buffer | null, emit?: unknown): void {
    this.inner.put(key, value, emit);
  }
  setFlushListener(listener: FlushListener): boolean {
    return this.inner.setFlushListener?.(listener) ?? false;
  }
  prefetch(keys: readonly Buffer[]): Promise<void> {
    return this.inner.prefetch(keys);
  }
  range(from: Buffer | undefined, to: Buffer | undefined, limit?: number): Promise<Entry[]> {
    return this.inner.range(from, to, limit);
  }
  approximateNumEntries(): number {
    return this.inner.approximateNumEntries();
  }
  flush(): void {
    this.inner.flush();
  }
  commit(): Promise<void> {
    return this.inner.commit();
  }
  abort(): void {
    this.inner.abort();
  }
  restore(batch: readonly Change[]): Promise<void> {
    return this.inner.restore(batch);
  }
  deleteRange(from: Buffer | undefined, to: Buffer | undefined): Promise<void> {
    return this.inner.deleteRange(from, to);
  }
  wipe(): Promise<void> {
    return this.inner.wipe();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  entriesSync(): Entry[] {
    if (!this.inner.entriesSync) throw new Error(`store "${this.name}" cannot be read synchronously (it is not in memory)`);
    return this.inner.entriesSync();
  }
}

/** Staged writes over committed reads, as a sorted merge: what range() of a transactional layer returns. */
export function mergeRange(
  committed: readonly Entry[],
  overlay: ReadonlyMap<string, Buffer | null>,
  from: Buffer | undefined,
  to: Buffer | undefined,
  limit = Infinity,
): Entry[] {
  if (overlay.size === 0) return committed.slice(0, limit);
  const lo = from === undefined ? undefined : orderKey(from);
  const hi = to === undefined ? undefined : orderKey(to);
  const merged = new Map<string, Buffer | null>(committed.map(([k, v]) => [orderKey(k), v]));
  for (const [k, v] of overlay) if ((lo === undefined || k >= lo) && (hi === undefined || k < hi)) merged.set(k, v);
  const out: Entry[] = [];
  for (const k of [...merged.keys()].sort()) {
    if (out.length >= limit) break;
    const v = merged.get(k);
    if (v) out.push([fromOrderKey(k), v]);
  }
  return out;
}
