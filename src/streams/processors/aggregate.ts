/**
 * The processor behind count/reduce/aggregate: read the key's aggregate from the task's
 * store, fold the record in, write it back and emit the new value. Emit on update goes
 * through the store's write-back cache, as in Kafka Streams: the cache emits each key's
 * latest value when it flushes (at the commit, or early when full), so a key updated many
 * times between commits sends one update downstream. A store without a cache
 * (`cacheMaxEntries: 0`) emits every update at once.
 * Records with a null key or value are skipped, as in Kafka Streams: a table has no row
 * for a null key, and a null value would be a delete, not an update.
 */
import { TypedKeyValueStore, type KeyValueStore } from '../../../state';
import type { Processor, ProcessorContext } from '../processor-api/processor';
import type { StreamRecord } from '../processor-api/record';

import type { Aggregator, Initializer, Reducer } from '../dsl/functions';

export type { Aggregator, Initializer, Reducer };

/** How a new value folds into the old aggregate (undefined: the key has none yet). */
export type Fold<K, V, VA> = (key: K, value: V, old: VA | undefined) => VA;

export class AggregateProcessor<K, V, VA> implements Processor<K, V, K, VA> {
  private ctx!: ProcessorContext<K, VA>;
  private store!: KeyValueStore<K, VA>;
  private emitsOnFlush = false;

  constructor(
    private readonly storeName: string,
    private readonly fold: Fold<K, V, VA>,
  ) {}

  init(context: ProcessorContext<K, VA>): void {
    this.ctx = context;
    this.store = context.getStateStore<K, VA>(this.storeName);
    this.emitsOnFlush = this.store instanceof TypedKeyValueStore && this.store.emitOnFlush((out) => context.forward(out as StreamRecord<K, VA>));
  }

  process(r: StreamRecord<K, V>): void {
    if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
    const next = this.fold(r.key, r.value, this.store.get(r.key));
    const out: StreamRecord<K, VA> = { key: r.key, value: next, timestamp: r.timestamp, headers: r.headers };
    if (!this.emitsOnFlush) {
      this.store.put(r.key, next);
      return this.ctx.forward(out);
    }
    (this.store as TypedKeyValueStore<K, VA>).put(r.key, next, out);
  }
}

export const folds = {
  aggregate:
    <K, V, VA>(init: Initializer<VA>, agg: Aggregator<K, V, VA>): Fold<K, V, VA> =>
    (k, v, old) =>
      agg(k, v, old === undefined ? init() : old),
  reduce:
    <K, V>(reducer: Reducer<V>): Fold<K, V, V> =>
    (_k, v, old) =>
      old === undefined ? v : reducer(old, v),
  count:
    <K, V>(): Fold<K, V, number> =>
    (_k, _v, old) =>
      (old ?? 0) + 1,
};
