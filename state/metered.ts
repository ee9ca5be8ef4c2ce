/**
 * The metered layer, outermost in every stack: it counts each operation and times the
 * ones that work on a batch or go to disk (prefetch, range, flush, commit, restore).
 * Point reads and writes run once or twice per record, so they only bump a plain number
 * here; the meter reads the numbers when metrics are scraped, rather than paying for a
 * labelled counter update on every record.
 */
import { WrappedStore, type Change, type Entry, type KeyValueBytesStore } from './bytes-store';

export const COUNTED_OPERATIONS = ['get', 'put', 'delete', 'prefetch', 'range', 'flush', 'commit', 'restore'] as const;
export type StoreOperation = (typeof COUNTED_OPERATIONS)[number];
export type TimedOperation = Exclude<StoreOperation, 'get' | 'put' | 'delete'>;

/** What a meter reads from an open store. */
export interface StoreStats {
  readonly name: string;
  readonly counts: Readonly<Record<StoreOperation, number>>;
  approximateNumEntries(): number;
}

/** Where stores report (the runtime's metrics). A closed store's counts stay in the totals. */
export interface StoreMeter {
  opened(stats: StoreStats): void;
  closed(stats: StoreStats): void;
  timed(store: string, operation: TimedOperation, ms: number): void;
}

export class MeteredKeyValueStore extends WrappedStore implements StoreStats {
  readonly counts: Record<StoreOperation, number> = { get: 0, put: 0, delete: 0, prefetch: 0, range: 0, flush: 0, commit: 0, restore: 0 };
  private open = true;

  constructor(
    inner: KeyValueBytesStore,
    private readonly meter: StoreMeter,
  ) {
    super(inner);
    meter.opened(this);
  }

  override get(key: Buffer): Buffer | undefined {
    this.counts.get++;
    return this.inner.get(key);
  }

  override put(key: Buffer, value: Buffer | null, emit?: unknown): void {
    this.counts[value === null ? 'delete' : 'put']++;
    this.inner.put(key, value, emit);
  }

  override prefetch(keys: readonly Buffer[]): Promise<void> {
    return this.timeAsync('prefetch', () => this.inner.prefetch(keys));
  }

  override range(from: Buffer | undefined, to: Buffer | undefined, limit?: number): Promise<Entry[]> {
    return this.timeAsync('range', () => this.inner.range(from, to, limit));
  }

  override flush(): void {
    const started = performance.now();
    this.counts.flush++;
    try {
      this.inner.flush();
    } finally {
      this.meter.timed(this.name, 'flush', performance.now() - started);
    }
  }

  override commit(): Promise<void> {
    return this.timeAsync('commit', () => this.inner.commit());
  }

  override restore(batch: readonly Change[]): Promise<void> {
    return this.timeAsync('restore', () => this.inner.restore(batch));
  }

  override async close(): Promise<void> {
    if (this.open) this.meter.closed(this);
    this.open = false;
    await this.inner.close();
  }

  private async timeAsync<T>(operation: TimedOperation, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    this.counts[operation]++;
    try {
      return await run();
    } finally {
      this.meter.timed(this.name, operation, performance.now() - started);
    }
  }
}
