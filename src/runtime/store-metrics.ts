/**
 * State store metrics (the metered layer's meter), per store name summed over the tasks:
 *   state_store_operations_total{store, operation}  — read from the stores' own counters at scrape time
 *   state_store_operation_duration_ms{store, operation} — prefetch, range, flush, commit, restore
 *   state_store_entries{store} — approximate entries in the open stores
 * A closed store's counts are kept, so the counters never go backwards across rebalances.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { COUNTED_OPERATIONS, type StoreMeter, type StoreStats, type TimedOperation } from '../../state';

export class StoreMetrics implements StoreMeter {
  private readonly open = new Set<StoreStats>();
  /** `store\0operation` → counts of closed stores. */
  private readonly retired = new Map<string, number>();
  private readonly durations: Histogram<'store' | 'operation'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const totals = (): Map<string, number> => {
      const sum = new Map(this.retired);
      for (const s of this.open) for (const op of COUNTED_OPERATIONS) add(sum, s.name, op, s.counts[op]);
      return sum;
    };
    new Counter({
      name: 'state_store_operations_total',
      help: 'State store operations, per store and operation (get, put, delete, prefetch, range, flush, commit, restore).',
      labelNames: ['store', 'operation'],
      registers,
      collect() {
        this.reset();
        for (const [k, n] of totals()) if (n > 0) this.inc(labels(k), n);
      },
    });
    const open = this.open;
    new Gauge({
      name: 'state_store_entries',
      help: 'Approximate entries in the open state stores of this instance, per store.',
      labelNames: ['store'],
      registers,
      collect() {
        this.reset();
        const byStore = new Map<string, number>();
        for (const s of open) byStore.set(s.name, (byStore.get(s.name) ?? 0) + s.approximateNumEntries());
        for (const [store, n] of byStore) this.set({ store }, n);
      },
    });
    this.durations = new Histogram({
      name: 'state_store_operation_duration_ms',
      help: 'Duration of state store batch operations (ms): prefetch (load before a batch), range (scans), flush (cache to changelog), commit (write to the backend), restore.',
      labelNames: ['store', 'operation'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000],
      registers,
    });
  }

  opened(stats: StoreStats): void {
    this.open.add(stats);
  }

  closed(stats: StoreStats): void {
    if (!this.open.delete(stats)) return;
    for (const op of COUNTED_OPERATIONS) add(this.retired, stats.name, op, stats.counts[op]);
  }

  timed(store: string, operation: TimedOperation, ms: number): void {
    this.durations.observe({ store, operation }, ms);
  }
}

function add(map: Map<string, number>, store: string, operation: string, n: number): void {
  const k = `${store}\u0000${operation}`;
  map.set(k, (map.get(k) ?? 0) + n);
}

function labels(k: string): { store: string; operation: string } {
  const [store, operation] = k.split('\u0000') as [string, string];
  return { store, operation };
}
