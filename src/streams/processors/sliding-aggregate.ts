/**
 * The processor behind sliding-window aggregations. A record joins its key's recent
 * records; the windows it changes — every window containing it, its own window ending at
 * it, and a window starting just after it when later records exist — are recomputed and
 * forwarded (emit on update). Windows that closed (end before stream time − grace) are not
 * updated; a record that changes no open window is late: dropped, counted, and sent to
 * the late-records topic when there is one.
 */
import type { KeyValueStore } from '../../../state';
import type { Aggregator, Initializer } from './aggregate';
import { dropLate } from '../dsl/late-records';
import type { Processor, ProcessorContext } from '../processor-api/processor';
import type { StreamRecord } from '../processor-api/record';
import type { SlidingWindows, TimedValue } from '../dsl/sliding-windows';
import type { Windowed } from '../dsl/windows';

export interface SlidingAggregateOptions<K, V, VA> {
  storeName: string;
  windows: SlidingWindows;
  retentionMs: number;
  initializer: Initializer<VA>;
  aggregator: Aggregator<K, V, VA>;
  /** The late-records sink, when there is one. */
  lateChild?: string | undefined;
}

export class SlidingAggregateProcessor<K, V, VA> implements Processor<K, V, Windowed<K>, VA> {
  private ctx!: ProcessorContext<Windowed<K>, VA>;
  private store!: KeyValueStore<K, TimedValue<V>[]>;
  private readonly storeName: string;
  private readonly windows: SlidingWindows;
  private readonly retentionMs: number;
  private readonly initializer: Initializer<VA>;
  private readonly aggregator: Aggregator<K, V, VA>;
  private readonly lateChild: string | undefined;

  constructor(o: SlidingAggregateOptions<K, V, VA>) {
    this.storeName = o.storeName;
    this.windows = o.windows;
    this.retentionMs = o.retentionMs;
    this.initializer = o.initializer;
    this.aggregator = o.aggregator;
    this.lateChild = o.lateChild;
  }

  init(context: ProcessorContext<Windowed<K>, VA>): void {
    this.ctx = context;
    this.store = context.getStateStore<K, TimedValue<V>[]>(this.storeName);
  }

  process(r: StreamRecord<K, V>): void {
    if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
    const t = r.timestamp;
    const d = this.windows.timeDifferenceMs;
    const streamTime = this.ctx.currentStreamTimeMs();
    const closeTime = streamTime - this.windows.graceMs;
    const earlier = (this.store.get(r.key) ?? []).filter((e) => e.t >= streamTime - this.retentionMs - d);
    const records = [...earlier, { t, value: r.value }];
    const before = new Set(this.windows.windowStarts(earlier.map((e) => e.t)));
    const changed = this.windows
      .windowStarts(records.map((e) => e.t))
      .filter((start) => (start <= t && t <= start + d) || (start === t + 1 && !before.has(start)));
    const open = changed.filter((start) => start + d >= closeTime);
    if (open.length === 0) return dropLate(this.ctx as ProcessorContext<unknown, unknown>, r, this.lateChild);
    this.store.put(r.key, records);
    const inOrder = [...records].sort((a, b) => a.t - b.t);
    for (const start of open) {
      let value = this.initializer();
      for (const e of inOrder) if (e.t >= start && e.t <= start + d) value = this.aggregator(r.key, e.value, value);
      this.ctx.forward({ key: { key: r.key, window: { start, end: start + d } }, value, timestamp: t, headers: r.headers });
    }
  }
}
