/**
 * SlidingWindowedKStream: a grouped stream in sliding windows
 * (`windowedBy(SlidingWindows...)`), to count, reduce or aggregate per window. The result
 * is a KTable keyed by `Windowed<K>` whose windows are [start, start + d], both ends
 * inclusive. The key's records are stored, not aggregates, so the store's value serde is
 * the records' own: `grouped.valueSerde`, or for reduce (whose aggregates are records)
 * `materialized.valueSerde` when given; count and aggregate take no aggregate serde.
 */
import { storeSpec } from '../../../state';
import { StreamingError } from '../../errors';
import type { Serde, SerdeFor } from '../../serdes';
import { folds, type Aggregator, type Initializer, type Reducer } from '../processors/aggregate';
import { KTable } from './ktable';
import { addLateSink, lateChildOf, type LateRecords } from './late-records';
import { SlidingAggregateProcessor } from '../processors/sliding-aggregate';
import { timedListSerde, type SlidingWindows } from './sliding-windows';
import { retentionOf, type SlidingMaterialized, type WindowedMaterialized, type WindowedSource } from './windowed-aggregation';
import type { Windowed } from './windows';

export class SlidingWindowedKStream<K, V> {
  /** @internal Made by KGroupedStream.windowedBy. */
  constructor(
    private readonly source: WindowedSource<K, V>,
    private readonly windows: SlidingWindows,
  ) {}

  /** Records per key and window. */
  count(materialized: SlidingMaterialized<K> = {}): KTable<Windowed<K>, number> {
    return this.materialize<number>(
      () => 0,
      (_k, _v, n) => n + 1,
      materialized,
      this.source.valueSerde,
    );
  }

  /** Combines the values of a key in each window; the records are stored with Materialized's value serde, else Grouped's. */
  reduce(reducer: Reducer<V>, materialized: WindowedMaterialized<K, V> = {}): KTable<Windowed<K>, V> {
    const NONE = Symbol('none') as unknown as V;
    const fold = folds.reduce<K, V>(reducer);
    return this.materialize<V>(
      () => NONE,
      (k, v, a) => fold(k, v, a === NONE ? undefined : a),
      materialized,
      materialized.valueSerde ?? this.source.valueSerde,
    );
  }

  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, materialized: SlidingMaterialized<K> = {}): KTable<Windowed<K>, VA> {
    return this.materialize<VA>(initializer, aggregator, materialized, this.source.valueSerde);
  }

  private materialize<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    m: SlidingMaterialized<K>,
    recordSerde: SerdeFor<V> | undefined,
  ): KTable<Windowed<K>, VA> {
    const { graph, late } = this.source;
    const windows = this.windows;
    if (!recordSerde)
      throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'sliding windows keep the records of each key, which needs a value serde', {
        hint: 'give Grouped.valueSerde to groupByKey/groupBy (or, for reduce, Materialized.valueSerde)',
      });
    const retentionMs = retentionOf(m, windows.timeDifferenceMs + windows.graceMs, 'sliding window', 'time difference + grace');
    const storeName = m.name ?? graph.newName('KSTREAM-SLIDING-STATE-STORE');
    const keySerde = (m.keySerde ?? this.source.keySerde) as Serde<K>;
    graph.addStore(
      storeSpec({
        name: storeName,
        keySerde,
        valueSerde: timedListSerde(recordSerde as Serde<V>),
        logging: m.logging,
        cacheMaxEntries: m.cacheMaxEntries,
        backend: m.backend ?? 'rocksdb',
        prefetchKeys: (k) => [k],
      }),
    );
    const input = this.source.input(storeName);
    const name = graph.newName('KSTREAM-SLIDING-AGGREGATE');
    const lateChild = lateChildOf(name, late as LateRecords<unknown, unknown> | undefined);
    const supplier = (): SlidingAggregateProcessor<K, V, VA> =>
      new SlidingAggregateProcessor<K, V, VA>({ storeName, windows, retentionMs, initializer, aggregator, lateChild });
    graph.add({ kind: 'processor', name, operator: 'sliding aggregate', supplier, children: [] }, [input.nodeName]);
    addLateSink(graph, name, late);
    graph.connectStores(name, [storeName]);
    return new KTable<Windowed<K>, VA>(graph, name, storeName);
  }
}
