/**
 * The processor behind windowed count/reduce/aggregate (Kafka Streams'
 * KStreamWindowAggregate): each record updates every window it falls in that is still
 * open — stream time has not passed the window's end plus the grace period — and the new
 * value is forwarded with a windowed key (emit on update). A record that falls in no open
 * window is late: dropped, counted, and sent to the late-records sink when there is one.
 */
import type { WindowStore } from '../../state';
import type { Fold } from './aggregate';
import type { Processor, ProcessorContext } from './processor';
import type { StreamRecord } from './record';
import type { TimeWindows, Windowed } from './windows';

export class WindowAggregateProcessor<K, V, VA> implements Processor<K, V, Windowed<K>, VA> {
  private ctx!: ProcessorContext<Windowed<K>, VA>;
  private store!: WindowStore<K, VA>;

  constructor(private readonly storeName: string, private readonly windows: TimeWindows, private readonly fold: Fold<K, V, VA>, private readonly lateChild: string | undefined) {}

  init(context: ProcessorContext<Windowed<K>, VA>): void {
    this.ctx = context;
    this.store = context.getWindowStore<K, VA>(this.storeName);
  }

  process(r: StreamRecord<K, V>): void {
    if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
    const closeTime = this.ctx.currentStreamTimeMs() - this.windows.graceMs;
    let updated = 0;
    for (const start of this.windows.windowsFor(r.timestamp)) {
      const end = start + this.windows.sizeMs;
      if (end <= closeTime) continue; // this window has closed
      const next = this.fold(r.key, r.value, this.store.fetch(r.key, start));
      this.store.put(r.key, start, next);
      this.ctx.forward({ key: { key: r.key, window: { start, end } }, value: next, timestamp: r.timestamp, headers: r.headers });
      updated++;
    }
    if (updated > 0) return;
    this.ctx.recordLateDrop();
    if (this.lateChild) (this.ctx as unknown as ProcessorContext<K, V>).forward(r, this.lateChild);
  }
}
