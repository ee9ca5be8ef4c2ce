/**
 * The byte-level key-value store contract every backend and every decorator implements.
 * Keys are ordered by their bytes. Writes are transactional, to match the Kafka
 * transaction they belong to: a write is visible to reads at once, becomes part of the
 * committed state on `commit()` (after the Kafka transaction committed), and is forgotten
 * on `abort()`.
 */
export type Entry = readonly [key: Buffer, value: Buffer];

export interface KeyValueBytesStore {
  readonly name: string;
  get(key: Buffer): Buffer | undefined;
  /** A null value deletes the key. */
  put(key: Buffer, value: Buffer | null): void;
  /** Entries with `from` ≤ key < `to` in byte order (an absent bound is open), at most `limit`. */
  range(from: Buffer | undefined, to: Buffer | undefined, limit?: number): Entry[];
  approximateNumEntries(): number;
  /** Before the Kafka commit: buffered writes go down to the layer below (and to the changelog). */
  flush(): void;
  /** After the Kafka commit: every write so far is committed state. */
  commit(): void;
  /** The Kafka transaction aborted: every write since the last commit is forgotten. */
  abort(): void;
  /** Restoration: changelog entries applied as committed state, bypassing cache and changelog. */
  restore(batch: readonly (readonly [Buffer, Buffer | null])[]): void;
  close(): void;
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
  put(key: Buffer, value: Buffer | null): void {
    this.inner.put(key, value);
  }
  range(from: Buffer | undefined, to: Buffer | undefined, limit?: number): Entry[] {
    return this.inner.range(from, to, limit);
  }
  approximateNumEntries(): number {
    return this.inner.approximateNumEntries();
  }
  flush(): void {
    this.inner.flush();
  }
  commit(): void {
    this.inner.commit();
  }
  abort(): void {
    this.inner.abort();
  }
  restore(batch: readonly (readonly [Buffer, Buffer | null])[]): void {
    this.inner.restore(batch);
  }
  close(): void {
    this.inner.close();
  }
}
