/**
 * The write-back cache: writes stay here until the commit flushes them, so a key updated
 * many times between two commits costs one changelog record and one write below. When
 * more than `maxEntries` keys are dirty it flushes early (still inside the transaction).
 *
 * It is also how aggregations emit on update (Kafka Streams' cache flush listener): a
 * write may carry what to emit for it, the cache keeps the last one per key, and a flush
 * hands each to the listener — downstream sees one update per key per commit, not one per
 * input record.
 */
import { WrappedStore, inRange, mergeRange, orderKey, type Change, type Entry, type FlushListener, type KeyValueBytesStore } from './bytes-store';

interface Dirty {
  key: Buffer;
  value: Buffer | null;
  emit: unknown;
}

export class CachingKeyValueStore extends WrappedStore {
  /** Order key → the key's bytes (kept, so a flush converts nothing back), its value, and what to emit. */
  private readonly dirty = new Map<string, Dirty>();
  private listener: FlushListener | undefined;
  /** The values of `dirty`, as range merges want them. */
  private dirtyValues(): Map<string, Buffer | null> {
    return new Map([...this.dirty].map(([k, e]) => [k, e.value]));
  }

  constructor(
    inner: KeyValueBytesStore,
    private readonly maxEntries: number,
  ) {
    super(inner);
  }

  override get(key: Buffer): Buffer | undefined {
    const cached = this.dirty.get(orderKey(key));
    if (cached !== undefined) return cached.value ?? undefined;
    return this.inner.get(key);
  }

  override put(key: Buffer, value: Buffer | null, emit?: unknown): void {
    this.dirty.set(orderKey(key), { key, value, emit });
    if (this.dirty.size > this.maxEntries) this.flush();
  }

  override setFlushListener(listener: FlushListener): boolean {
    this.listener = listener;
    return true;
  }

  /** Keys with a dirty entry need nothing from below. */
  override prefetch(keys: readonly Buffer[]): Promise<void> {
    return this.inner.prefetch(this.dirty.size === 0 ? keys : keys.filter((k) => !this.dirty.has(orderKey(k))));
  }

  /** The layer below merged with the dirty entries in the range. */
  override async range(from: Buffer | undefined, to: Buffer | undefined, limit = Infinity): Promise<Entry[]> {
    const below = await this.inner.range(from, to, limit === Infinity ? Infinity : limit + this.dirty.size);
    return mergeRange(below, this.dirtyValues(), from, to, limit);
  }

  override entriesSync(): Entry[] {
    return mergeRange(super.entriesSync(), this.dirtyValues(), undefined, undefined);
  }

  override approximateNumEntries(): number {
    return this.inner.approximateNumEntries() + this.dirty.size;
  }

  /** The entries go down (and to the changelog) first; then the listener emits, which may run downstream processors. */
  override flush(): void {
    const entries = [...this.dirty.values()];
    this.dirty.clear();
    for (const e of entries) this.inner.put(e.key, e.value);
    this.inner.flush();
    if (this.listener) for (const e of entries) if (e.emit !== undefined) this.listener(e.emit);
  }

  override abort(): void {
    this.dirty.clear();
    this.inner.abort();
  }

  override restore(batch: readonly Change[]): Promise<void> {
    this.dirty.clear();
    return this.inner.restore(batch);
  }

  override deleteRange(from: Buffer | undefined, to: Buffer | undefined): Promise<void> {
    for (const k of this.dirty.keys()) if (inRange(k, from, to)) this.dirty.delete(k);
    return this.inner.deleteRange(from, to);
  }

  override wipe(): Promise<void> {
    this.dirty.clear();
    return this.inner.wipe();
  }

  override close(): Promise<void> {
    this.dirty.clear();
    return this.inner.close();
  }
}
