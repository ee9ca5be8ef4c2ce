/**
 * The processor behind windowed count/reduce/aggregate (Kafka Streams'
 * KStreamWindowAggregate): each record updates every window it falls in that is still
 * open — stream time has not passed the window's end plus the grace period — and the new
 * value is emitted with a windowed key: through the store's write-back cache (one update
 * per window per commit, see aggregate.ts), or at once without a cache. A record that
 * falls in no open window is late: dropped, counted, and sent to the late-records sink
 * when there is one.
 */
import { TypedWindowStore, type WindowStore } from '../../../state';
import type { Fold } from './aggregate';
import { dropLate } from '../dsl/late-records';
import type { Processor, ProcessorContext } from '../processor-api/processor';
import type { StreamRecord } from '../processor-api/record';
import type { TimeWindows, Windowed } from '../dsl/windows';

export class WindowAggregateProcessor<K, V, VA> implements Processor<K, V, Windowed<K>, VA> {
  private ctx!: ProcessorContext<Windowed<K>, VA>;
  private store!: WindowStore<K, VA>;
  private emitsOnFlush = false;

  constructor(
    private readonly storeName: string,
    private readonly windows: TimeWindows,
    private readonly fold: Fold<K, V, VA>,
    private readonly lateChild: string | undefined,
  ) {}

  init(context: ProcessorContext<Windowed<K>, VA>): void {
    this.ctx = context;
    this.store = context.getWindowStore<K, VA>(this.storeName);
    this.emitsOnFlush = this.store instanceof TypedWindowStore && this.store.emitOnFlush((out) => context.forward(out as StreamRecord<Windowed<K>, VA>));
  }

  process(r: StreamRecord<K, V>): void {
    if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
    const closeTime = this.ctx.currentStreamTimeMs() - this.windows.graceMs;
    let updated = 0;
    for (const start of this.windows.windowsFor(r.timestamp)) {
      const end = start + this.windows.sizeMs;
      if (end <= closeTime) continue; // this window has closed
      const next = this.fold(r.key, r.value, this.store.fetch(r.key, start));
      const out: StreamRecord<Windowed<K>, VA> = { key: { key: r.key, window: { start, end } }, value: next, timestamp: r.timestamp, headers: r.headers };
      if (this.emitsOnFlush) (this.store as TypedWindowStore<K, VA>).put(r.key, start, next, out);
      else {
        this.store.put(r.key, start, next);
        this.ctx.forward(out);
      }
      updated++;
    }
    if (updated === 0) dropLate(this.ctx as ProcessorContext<unknown, unknown>, r, this.lateChild);
  }
}
