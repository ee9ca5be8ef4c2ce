/**
 * TimeWindowedKStream: a grouped stream cut into time windows (`windowedBy`), ready to
 * aggregate per key and window into a window store. The result is a KTable keyed by
 * `Windowed<K>`; write it with `WindowedSerdes.timeWindowed(keySerde, sizeMs)`.
 */
import { segmentInterval, storeSpec } from '../../../state';
import { StreamingError } from '../../errors';
import { Serdes, type Serde, type SerdeFor } from '../../serdes';
import { folds, type Aggregator, type Fold, type Initializer, type Reducer } from '../processors/aggregate';
import type { TopologyGraph } from '../internals/graph';
import type { Materialized } from './kgrouped-stream';
import type { KStream } from './kstream';
import { KTable } from './ktable';
import { addLateSink, lateChildOf, type LateRecords } from './late-records';
import { WindowAggregateProcessor } from '../processors/window-aggregate';
import type { TimeWindows, Windowed } from './windows';

export type { LateRecords } from './late-records';

export interface WindowedMaterialized<K, VA> extends Materialized<K, VA> {
  /** How long windows stay in the store (queryable). Default and minimum: window size + grace. */
  retentionMs?: number;
}

export class TimeWindowedKStream<K, V> {
  /** @internal Made by KGroupedStream.windowedBy. */
  constructor(
    private readonly graph: TopologyGraph,
    private readonly input: (storeName: string) => KStream<K, V>,
    private readonly keySerde: SerdeFor<K>,
    private readonly valueSerde: SerdeFor<V> | undefined,
    private readonly windows: TimeWindows,
    private readonly late: LateRecords<K, V> | undefined,
  ) {}

  count(materialized: WindowedMaterialized<K, number> = {}): KTable<Windowed<K>, number> {
    return this.materialize<number>('count', folds.count<K, V>(), { ...materialized, valueSerde: materialized.valueSerde ?? Serdes.Long() });
  }

  reduce(reducer: Reducer<V>, materialized: WindowedMaterialized<K, V> = {}): KTable<Windowed<K>, V> {
    const valueSerde = materialized.valueSerde ?? this.valueSerde;
    if (!valueSerde) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'reduce: no value serde for the window store', { hint: 'give Materialized.valueSerde or Grouped.valueSerde' });
    return this.materialize<V>('reduce', folds.reduce<K, V>(reducer), { ...materialized, valueSerde });
  }

  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, materialized: NoInfer<WindowedMaterialized<K, VA> & { valueSerde: SerdeFor<VA> }>): KTable<Windowed<K>, VA> {
    return this.materialize<VA>('aggregate', folds.aggregate(initializer, aggregator), materialized);
  }

  private materialize<VA>(operator: string, fold: Fold<K, V, VA>, m: WindowedMaterialized<K, VA> & { valueSerde: SerdeFor<VA> }): KTable<Windowed<K>, VA> {
    const w = this.windows;
    const minimum = w.sizeMs + w.graceMs;
    const retentionMs = m.retentionMs ?? minimum;
    if (!Number.isSafeInteger(retentionMs) || retentionMs < minimum) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `window store retention (${retentionMs} ms) must be at least window size + grace (${minimum} ms)`);
    const storeName = m.name ?? this.graph.newName('KSTREAM-AGGREGATE-STATE-STORE');
    this.graph.addStore(storeSpec({
      name: storeName,
      keySerde: m.keySerde ?? this.keySerde,
      valueSerde: m.valueSerde,
      logging: m.logging,
      cacheMaxEntries: m.cacheMaxEntries,
      backend: m.backend ?? 'rocksdb',
      // The windows a record with this key and timestamp updates: what a batch loads first.
      prefetchKeys: (k, ts) => w.windowsFor(ts).map((start) => ({ key: k, start })),
      window: { sizeMs: w.sizeMs, retentionMs, segmentMs: segmentInterval(retentionMs) },
    }));
    const input = this.input(storeName);
    const name = this.graph.newName('KSTREAM-WINDOW-AGGREGATE');
    const lateChild = lateChildOf(name, this.late as LateRecords<unknown, unknown> | undefined);
    this.graph.add({ kind: 'processor', name, operator: `windowed ${operator}`, supplier: () => new WindowAggregateProcessor<K, V, VA>(storeName, w, fold, lateChild), children: [] }, [input.nodeName]);
    this.graph.connectStores(name, [storeName]);
    addLateSink(this.graph, name, this.late);
    return new KTable<Windowed<K>, VA>(this.graph, name, storeName, { graceMs: w.graceMs, keySerde: (m.keySerde ?? this.keySerde) as Serde<unknown>, valueSerde: m.valueSerde as Serde<unknown> });
  }
}
