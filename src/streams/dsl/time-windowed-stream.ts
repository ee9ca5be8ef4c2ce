/**
 * TimeWindowedKStream: a grouped stream cut into time windows (`windowedBy`), ready to
 * aggregate per key and window into a window store. The result is a KTable keyed by
 * `Windowed<K>`; write it with `WindowedSerdes.timeWindowed(keySerde, sizeMs)`.
 */
import { segmentInterval, storeSpec } from '../../../state';
import { StreamingError } from '../../errors';
import { Serdes, type Serde } from '../../serdes';
import { folds, type Aggregator, type Fold, type Initializer, type Reducer } from '../processors/aggregate';
import { KTable } from './ktable';
import { addLateSink, lateChildOf, type LateRecords } from './late-records';
import { WindowAggregateProcessor } from '../processors/window-aggregate';
import { retentionOf, type WindowedAggregateMaterialized, type WindowedMaterialized, type WindowedSource } from './windowed-aggregation';
import type { TimeWindows, Windowed } from './windows';

export type { LateRecords } from './late-records';
export type { WindowedMaterialized } from './windowed-aggregation';

export class TimeWindowedKStream<K, V> {
  /** @internal Made by KGroupedStream.windowedBy. */
  constructor(
    private readonly source: WindowedSource<K, V>,
    private readonly windows: TimeWindows,
  ) {}

  /** Records per key and window (store values through Serdes.Long unless given). */
  count(materialized: WindowedMaterialized<K, number> = {}): KTable<Windowed<K>, number> {
    return this.materialize<number>('count', folds.count<K, V>(), { ...materialized, valueSerde: materialized.valueSerde ?? Serdes.Long() });
  }

  /** Combines the values of a key in each window; the store uses Materialized's value serde, else Grouped's. */
  reduce(reducer: Reducer<V>, materialized: WindowedMaterialized<K, V> = {}): KTable<Windowed<K>, V> {
    const valueSerde = materialized.valueSerde ?? this.source.valueSerde;
    if (!valueSerde)
      throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'reduce: no value serde for the window store', {
        hint: 'give Materialized.valueSerde or Grouped.valueSerde',
      });
    return this.materialize<V>('reduce', folds.reduce<K, V>(reducer), { ...materialized, valueSerde });
  }

  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    materialized: NoInfer<WindowedAggregateMaterialized<K, VA>>,
  ): KTable<Windowed<K>, VA> {
    return this.materialize<VA>('aggregate', folds.aggregate(initializer, aggregator), materialized);
  }

  private materialize<VA>(operator: string, fold: Fold<K, V, VA>, m: WindowedAggregateMaterialized<K, VA>): KTable<Windowed<K>, VA> {
    const { graph, late } = this.source;
    const w = this.windows;
    const retentionMs = retentionOf(m, w.sizeMs + w.graceMs, 'window store', 'window size + grace');
    const storeName = m.name ?? graph.newName('KSTREAM-AGGREGATE-STATE-STORE');
    const keySerde = m.keySerde ?? this.source.keySerde;
    graph.addStore(
      storeSpec({
        name: storeName,
        keySerde,
        valueSerde: m.valueSerde,
        logging: m.logging,
        cacheMaxEntries: m.cacheMaxEntries,
        backend: m.backend ?? 'rocksdb',
        // The windows a record with this key and timestamp updates: what a batch loads first.
        prefetchKeys: (k, ts) => w.windowsFor(ts).map((start) => ({ key: k, start })),
        window: { sizeMs: w.sizeMs, retentionMs, segmentMs: segmentInterval(retentionMs) },
      }),
    );
    const input = this.source.input(storeName);
    const name = graph.newName('KSTREAM-WINDOW-AGGREGATE');
    const lateChild = lateChildOf(name, late as LateRecords<unknown, unknown> | undefined);
    graph.add(
      {
        kind: 'processor',
        name,
        operator: `windowed ${operator}`,
        supplier: () => new WindowAggregateProcessor<K, V, VA>(storeName, w, fold, lateChild),
        children: [],
      },
      [input.nodeName],
    );
    graph.connectStores(name, [storeName]);
    addLateSink(graph, name, late);
    return new KTable<Windowed<K>, VA>(graph, name, storeName, {
      graceMs: w.graceMs,
      keySerde: keySerde as Serde<unknown>,
      valueSerde: m.valueSerde as Serde<unknown>,
    });
  }
}
