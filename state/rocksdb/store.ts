/**
 * The RocksDB backend of one store of one task: its keys live in the instance's shared
 * database under `<store>\0<partition>\0`. RocksDB reads are asynchronous, so point reads
 * are served from memory: `prefetch()` loads the keys a batch will read in one multi-get
 * (a cache miss costs one batched read, never an awaited read per record), and committed
 * values stay loaded up to `maxLoaded` keys. Writes are staged until `commit()`, which
 * writes them in one batch after the Kafka transaction committed. That write runs while
 * the next batch is processed (its values are already in memory); whatever reads RocksDB
 * itself, and the next commit, wait for it first, so a read never sees RocksDB behind
 * what was committed.
 */
import { StreamingError } from '../../src/errors';
import { inRange, mergeRange, orderKey, prefixEnd, type Change, type Entry, type KeyValueBytesStore } from '../bytes-store';
import type { StateDb } from './state-db';

export class RocksDbKeyValueStore implements KeyValueBytesStore {
  private readonly prefix: Buffer;
  /** Committed values read or written (null: known to be absent), in least-recently-loaded order. */
  private readonly loaded = new Map<string, Buffer | null>();
  /** Writes of the open transaction: order key → key bytes and value. */
  private readonly staged = new Map<string, { key: Buffer; value: Buffer | null }>();
  private count = 0;
  /** The last commit's batch on its way into RocksDB; never rejects (see `writeFailed`). */
  private writing: Promise<void> = Promise.resolve();
  private writeFailed: Error | undefined;
  /** Bumped by every change to committed state, so a multi-get that overlapped one is read again. */
  private epoch = 0;

  constructor(
    readonly name: string,
    partition: number,
    private readonly db: StateDb,
    private readonly maxLoaded: number,
  ) {
    this.prefix = Buffer.from(`${name}\u0000${partition}\u0000`, 'latin1');
  }

  get(key: Buffer): Buffer | undefined {
    const k = orderKey(key);
    const staged = this.staged.get(k);
    if (staged !== undefined) return staged.value ?? undefined;
    const loaded = this.loaded.get(k);
    if (loaded !== undefined) return loaded ?? undefined;
    throw new StreamingError('SA_ERR_STORE_NOT_LOADED', `store "${this.name}": key ${key.toString('hex')} was read without being prefetched`, {
      hint: 'RocksDB stores serve reads from keys loaded before the batch; declare how a record maps to its store key (DSL stores do), or use an in-memory store',
    });
  }

  put(key: Buffer, value: Buffer | null): void {
    this.staged.set(orderKey(key), { key, value });
  }

  async prefetch(keys: readonly Buffer[]): Promise<void> {
    const missing = new Map<string, Buffer>();
    for (const key of keys) {
      const k = orderKey(key);
      if (!this.staged.has(k) && !this.loaded.has(k)) missing.set(k, key);
    }
    if (missing.size === 0) return;
    await this.settled();
    const epoch = this.epoch;
    const values = await this.db.getMany([...missing.values()].map((key) => this.full(key)));
    if (epoch !== this.epoch) return this.prefetch(keys); // committed state changed meanwhile: the values may be stale
    let i = 0;
    for (const k of missing.keys()) {
      const value = values[i++] ?? null;
      if (!this.staged.has(k) && !this.loaded.has(k)) this.loaded.set(k, value); // a key written meanwhile keeps that write
    }
  }

  async range(from: Buffer | undefined, to: Buffer | undefined, limit = Infinity): Promise<Entry[]> {
    await this.settled();
    const end = to === undefined ? prefixEnd(this.prefix) : this.full(to);
    const rows = await this.db.scan(from === undefined ? this.prefix : this.full(from), end, limit === Infinity ? Infinity : limit + this.staged.size);
    return mergeRange(
      rows.map(([k, v]) => [k.subarray(this.prefix.length), v] as const),
      new Map([...this.staged].map(([k, e]) => [k, e.value])),
      from,
      to,
      limit,
    );
  }

  approximateNumEntries(): number {
    return Math.max(0, this.count);
  }

  flush(): void {}

  /** The staged writes are committed state from now on; RocksDB gets them in the background (see the top). */
  async commit(): Promise<void> {
    await this.settled();
    if (this.staged.size === 0) return;
    const batch = [...this.staged.values()].map((e) => [this.full(e.key), e.value] as const);
    for (const [k, e] of this.staged) this.remember(k, e.value);
    this.staged.clear();
    this.evict();
    this.epoch++;
    this.writing = this.db.write(batch).catch((err: unknown) => {
      this.writeFailed = err instanceof Error ? err : new Error(String(err));
    });
  }

  /** Every committed batch is in RocksDB; throws if one could not be written (the store is then behind its changelog). */
  private async settled(): Promise<void> {
    await this.writing;
    if (this.writeFailed) {
      throw new StreamingError('SA_ERR_STATE_DIR', `store "${this.name}": writing committed state to RocksDB failed: ${this.writeFailed.message}`, {
        cause: this.writeFailed,
        hint: "the store is behind its changelog: the instance stops without a checkpoint, so the next start rebuilds the store from the changelog; check the state directory's disk",
      });
    }
  }

  abort(): void {
    this.staged.clear();
  }

  async restore(batch: readonly Change[]): Promise<void> {
    await this.settled();
    this.epoch++;
    await this.db.write(batch.map(([k, v]) => [this.full(k), v] as const));
    for (const [k, v] of batch) {
      if (this.loaded.size > 0) this.loaded.delete(orderKey(k));
      this.count += v === null ? -1 : 1; // approximate: a key restored twice counts twice
    }
  }

  async deleteRange(from: Buffer | undefined, to: Buffer | undefined): Promise<void> {
    if (from === undefined && to === undefined) return this.wipe();
    await this.settled();
    this.epoch++;
    for (const map of [this.staged, this.loaded]) for (const k of map.keys()) if (inRange(k, from, to)) map.delete(k);
    await this.db.clear(from === undefined ? this.prefix : this.full(from), to === undefined ? prefixEnd(this.prefix) : this.full(to));
  }

  /** Also what makes a store whose background write failed usable again: it is rebuilt from the changelog next. */
  async wipe(): Promise<void> {
    await this.writing;
    this.writeFailed = undefined;
    this.epoch++;
    this.staged.clear();
    this.loaded.clear();
    this.count = 0;
    await this.db.clear(this.prefix, prefixEnd(this.prefix));
  }

  /** Rejects when a committed batch never reached RocksDB: the caller must not checkpoint this store. */
  async close(): Promise<void> {
    this.staged.clear();
    this.loaded.clear();
    await this.settled();
  }

  private full(key: Buffer): Buffer {
    const out = Buffer.allocUnsafe(this.prefix.length + key.length);
    this.prefix.copy(out);
    key.copy(out, this.prefix.length);
    return out;
  }

  private remember(k: string, v: Buffer | null): void {
    const before = this.loaded.get(k);
    if (before === undefined || before === null) this.count += v === null ? 0 : 1;
    else if (v === null) this.count -= 1;
    this.loaded.delete(k); // re-inserted last: most recently used
    this.loaded.set(k, v);
  }

  private evict(): void {
    for (const k of this.loaded.keys()) {
      if (this.loaded.size <= this.maxLoaded) return;
      this.loaded.delete(k);
    }
  }
}
