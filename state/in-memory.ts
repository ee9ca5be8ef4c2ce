/**
 * The in-memory backend: committed entries in a Map, writes of the open transaction
 * staged beside them. Range reads sort the keys on demand (cached until the key set
 * changes): cheap for the point reads and writes of the hot path, fine for queries.
 */
import { fromOrderKey, orderKey, type Entry, type KeyValueBytesStore } from './bytes-store';

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

  range(from: Buffer | undefined, to: Buffer | undefined, limit = Infinity): Entry[] {
    const lo = from === undefined ? undefined : orderKey(from);
    const hi = to === undefined ? undefined : orderKey(to);
    const keys = this.keysInOrder();
    const out: Entry[] = [];
    for (let i = lo === undefined ? 0 : lowerBound(keys, lo); i < keys.length && out.length < limit; i++) {
      const k = keys[i]!;
      if (hi !== undefined && k >= hi) break;
      const staged = this.staged.get(k);
      const value = staged !== undefined ? staged : this.committed.get(k);
      if (value) out.push([fromOrderKey(k), value]);
    }
    return out;
  }

  approximateNumEntries(): number {
    return this.committed.size + this.staged.size;
  }

  flush(): void {}

  commit(): void {
    this.apply(this.staged);
    this.staged.clear();
  }

  abort(): void {
    this.staged.clear();
  }

  restore(batch: readonly (readonly [Buffer, Buffer | null])[]): void {
    this.apply(batch.map(([k, v]) => [orderKey(k), v] as const));
  }

  close(): void {
    this.committed.clear();
    this.staged.clear();
    this.sorted = undefined;
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

  private keysInOrder(): string[] {
    this.sorted ??= [...this.committed.keys()].sort();
    if (this.staged.size === 0) return this.sorted;
    const extra = [...this.staged.keys()].filter((k) => !this.committed.has(k));
    return extra.length === 0 ? this.sorted : [...this.sorted, ...extra].sort();
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
