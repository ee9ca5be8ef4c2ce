/**
 * The processor behind session-windowed aggregations (Kafka Streams'
 * KStreamSessionWindowAggregate): a record joins every session of its key that is within
 * the inactivity gap, merging them (`merger`) into one, then folds itself in. Sessions
 * merged away are forwarded with a null value, then the new session with its aggregate.
 * A record whose merged session ends before stream time − grace is late: dropped, counted,
 * and sent to the late-records topic when there is one.
 */
import type { KeyValueStore } from '../../../state';
import type { Aggregator, Initializer } from './aggregate';
import { dropLate } from '../dsl/late-records';
import type { Processor, ProcessorContext } from '../processor-api/processor';
import type { StreamRecord } from '../processor-api/record';
import type { Session, SessionWindows } from '../dsl/session-windows';
import type { Windowed } from '../dsl/windows';

import type { Merger } from '../dsl/functions';

export type { Merger };

export interface SessionAggregateOptions<K, V, VA> {
  storeName: string;
  windows: SessionWindows;
  retentionMs: number;
  initializer: Initializer<VA>;
  aggregator: Aggregator<K, V, VA>;
  merger: Merger<K, VA>;
  /** The late-records sink, when there is one. */
  lateChild?: string | undefined;
}

export class SessionAggregateProcessor<K, V, VA> implements Processor<K, V, Windowed<K>, VA | null> {
  private ctx!: ProcessorContext<Windowed<K>, VA | null>;
  private store!: KeyValueStore<K, Session<VA>[]>;
  private readonly storeName: string;
  private readonly windows: SessionWindows;
  private readonly retentionMs: number;
  private readonly initializer: Initializer<VA>;
  private readonly aggregator: Aggregator<K, V, VA>;
  private readonly merger: Merger<K, VA>;
  private readonly lateChild: string | undefined;

  constructor(o: SessionAggregateOptions<K, V, VA>) {
    this.storeName = o.storeName;
    this.windows = o.windows;
    this.retentionMs = o.retentionMs;
    this.initializer = o.initializer;
    this.aggregator = o.aggregator;
    this.merger = o.merger;
    this.lateChild = o.lateChild;
  }

  init(context: ProcessorContext<Windowed<K>, VA | null>): void {
    this.ctx = context;
    this.store = context.getStateStore<K, Session<VA>[]>(this.storeName);
  }

  process(r: StreamRecord<K, V>): void {
    if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
    const t = r.timestamp;
    const streamTime = this.ctx.currentStreamTimeMs();
    const { gapMs, graceMs } = this.windows;
    const live = (this.store.get(r.key) ?? []).filter((s) => s.end >= streamTime - this.retentionMs);
    const merging = live.filter((s) => s.end + gapMs >= t && s.start - gapMs <= t);
    const start = Math.min(t, ...merging.map((s) => s.start));
    const end = Math.max(t, ...merging.map((s) => s.end));
    if (end < streamTime - graceMs) return dropLate(this.ctx as ProcessorContext<unknown, unknown>, r, this.lateChild);
    let value = this.initializer();
    for (const s of merging) value = this.merger(r.key, value, s.value);
    value = this.aggregator(r.key, r.value, value);
    const kept = live.filter((s) => !merging.includes(s));
    this.store.put(
      r.key,
      [...kept, { start, end, value }].sort((a, b) => a.start - b.start),
    );
    for (const s of merging) {
      if (s.start !== start || s.end !== end)
        this.ctx.forward({ key: { key: r.key, window: { start: s.start, end: s.end } }, value: null, timestamp: t, headers: r.headers });
    }
    this.ctx.forward({ key: { key: r.key, window: { start, end } }, value, timestamp: t, headers: r.headers });
  }
}
