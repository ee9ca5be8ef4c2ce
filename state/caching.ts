/**
 * The write-back cache: writes stay here until the commit flushes them, so a key updated
 * many times between two commits costs one changelog record and one write below. When
 * more than `maxEntries` keys are dirty it flushes early (still inside the transaction).
 */
import { WrappedStore, fromOrderKey, orderKey, type Entry, type KeyValueBytesStore } from './bytes-store';

export class CachingKeyValueStore extends WrappedStore {
  private readonly dirty = new Map<string, Buffer | null>();

  constructor(inner: KeyValueBytesStore, private readonly maxEntries: number) {
    super(inner);
  }

  override get(key: Buffer): Buffer | undefined {
    const cached = this.dirty.get(orderKey(key));
    if (cached !== undefined) return cached ?? undefined;
    return this.inner.get(key);
  }

  override put(key: Buffer, value: Buffer | null): void {
    this.dirty.set(orderKey(key), value);
    if (this.dirty.size > this.maxEntries) this.flush();
  }

  /** The layer below merged with the dirty entries in the range. */
  override range(from: Buffer | undefined, to: Buffer | undefined, limit = Infinity): Entry[] {
    if (this.dirty.size === 0) return this.inner.range(from, to, limit);
    const lo = from === undefined ? undefined : orderKey(from);
    const hi = to === undefined ? undefined : orderKey(to);
    const merged = new Map(this.inner.range(from, to).map(([k, v]) => [orderKey(k), v] as [string, Buffer | null]));
    for (const [k, v] of this.dirty) if ((lo === undefined || k >= lo) && (hi === undefined || k < hi)) merged.set(k, v);
    const out: Entry[] = [];
    for (const k of [...merged.keys()].sort()) {
      if (out.length >= limit) break;
      const v = merged.get(k);
      if (v) out.push([fromOrderKey(k), v]);
    }
    return out;
  }

  override approximateNumEntries(): number {
    return this.inner.approximateNumEntries() + this.dirty.size;
  }

  override flush(): void {
    for (const [k, v] of this.dirty) this.inner.put(fromOrderKey(k), v);
    this.dirty.clear();
    this.inner.flush();
  }

  override abort(): void {
    this.dirty.clear();
    this.inner.abort();
  }

  override restore(batch: readonly (readonly [Buffer, Buffer | null])[]): void {
    this.dirty.clear();
    this.inner.restore(batch);
  }

  override close(): void {
    this.dirty.clear();
    this.inner.close();
  }
}
