/**
 * The in-memory backend: committed entries in a Map, writes of the open transaction
 * staged beside them. Range reads sort the keys on demand (cached until the key set
 * changes): cheap for the point reads and writes of the hot path, fine for queries.
 */
import { fromOrderKey, inRange, mergeRange, orderKey, type Change, type Entry, type KeyValueBytesStore } from './bytes-store';

export class InMemoryKeyValueStore implements KeyValueBytesStore {
  private readonly committed = new Map<string, Buffer>();
  private readonly staged = new Map<string, Buffer | null>();
  private sorted: string[] | undefined;

  constructor(readonly name: string) {}

  get(key: Buffer): Buffer | undefined {
    const k = orderKey(key);
    const staged = this.staged.get(k);
    if (staged !== undefined) return staged ?? undefined;
    return this.committed.get(k);
  }

  put(key: Buffer, value: Buffer | null): void {
    this.staged.set(orderKey(key), value);
  }

  async prefetch(): Promise<void> {}

  async range(from: Buffer | undefined, to: Buffer | undefined, limit = Infinity): Promise<Entry[]> {
    const lo = from === undefined ? undefined : orderKey(from);
    const hi = to === undefined ? undefined : orderKey(to);
    this.sorted ??= [...this.committed.keys()].sort();
    const committed: Entry[] = [];
    // Staged deletes may hide committed keys: read as many more as there are staged writes.
    const want = limit === Infinity ? Infinity : limit + this.staged.size;
    for (let i = lo === undefined ? 0 : lowerBound(this.sorted, lo); i < this.sorted.length && committed.length < want; i++) {
      const k = this.sorted[i]!;
      if (hi !== undefined && k >= hi) break;
      committed.push([fromOrderKey(k), this.committed.get(k)!]);
    }
    return mergeRange(committed, this.staged, from, to, limit);
  }

  entriesSync(): Entry[] {
    this.sorted ??= [...this.committed.keys()].sort();
    return mergeRange(
      this.sorted.map((k) => [fromOrderKey(k), this.committed.get(k)!] as const),
      this.staged,
      undefined,
      undefined,
    );
  }

  approximateNumEntries(): number {
    return this.committed.size + this.staged.size;
  }

  flush(): void {}

  async commit(): Promise<void> {
    this.apply(this.staged);
    this.staged.clear();
  }

  abort(): void {
    this.staged.clear();
  }

  async restore(batch: readonly Change[]): Promise<void> {
    // A restored value may be a slice of a whole fetch (the native batch reader): kept as it
    // is, one live value would hold its batch's buffer in memory. The store keeps copies.
    this.apply(batch.map(([k, v]) => [orderKey(k), v === null ? null : Buffer.from(v)] as const));
  }

  async deleteRange(from: Buffer | undefined, to: Buffer | undefined): Promise<void> {
    if (from === undefined && to === undefined) return this.wipe();
    for (const map of [this.committed, this.staged]) for (const k of map.keys()) if (inRange(k, from, to)) map.delete(k);
    this.sorted = undefined;
  }

  async wipe(): Promise<void> {
    this.committed.clear();
    this.staged.clear();
    this.sorted = undefined;
  }

  async close(): Promise<void> {
    await this.wipe();
  }

  private apply(entries: Iterable<readonly [string, Buffer | null]>): void {
    for (const [k, v] of entries) {
      if (v === null) {
        if (this.committed.delete(k)) this.sorted = undefined;
      } else {
        if (!this.committed.has(k)) this.sorted = undefined;
        this.committed.set(k, v);
      }
    }
  }
}

/** Index of the first key ≥ `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
