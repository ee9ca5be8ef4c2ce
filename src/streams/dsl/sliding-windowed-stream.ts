/**
 * SlidingWindowedKStream: a grouped stream in sliding windows
 * (`windowedBy(SlidingWindows...)`), to count, reduce or aggregate per window. The result
 * is a KTable keyed by `Windowed<K>` whose windows are [start, start + d], both ends
 * inclusive. The key's records are stored, so `grouped.valueSerde` is needed.
 */
import { storeSpec } from '../../../state';
import { StreamingError } from '../../errors';
import type { Serde, SerdeFor } from '../../serdes';
import { folds, type Aggregator, type Initializer, type Reducer } from '../processors/aggregate';
import type { TopologyGraph } from '../internals/graph';
import type { KStream } from './kstream';
import { KTable } from './ktable';
import { addLateSink, lateChildOf, type LateRecords } from './late-records';
import { SlidingAggregateProcessor } from '../processors/sliding-aggregate';
import { timedListSerde, type SlidingWindows } from './sliding-windows';
import type { WindowedMaterialized } from './time-windowed-stream';
import type { Windowed } from './windows';

export class SlidingWindowedKStream<K, V> {
  /** @internal Made by KGroupedStream.windowedBy. */
  constructor(
    private readonly graph: TopologyGraph,
    private readonly input: (storeName: string) => KStream<K, V>,
    private readonly keySerde: SerdeFor<K>,
    private readonly valueSerde: SerdeFor<V> | undefined,
    private readonly windows: SlidingWindows,
    private readonly late: LateRecords<K, V> | undefined,
  ) {}

  count(materialized: Omit<WindowedMaterialized<K, number>, 'valueSerde'> = {}): KTable<Windowed<K>, number> {
    return this.materialize<number>(() => 0, (_k, _v, n) => n + 1, materialized);
  }

  reduce(reducer: Reducer<V>, materialized: Omit<WindowedMaterialized<K, V>, 'valueSerde'> = {}): KTable<Windowed<K>, V> {
    const NONE = Symbol('none') as unknown as V;
    const fold = folds.reduce<K, V>(reducer);
    return this.materialize<V>(() => NONE, (k, v, a) => fold(k, v, a === NONE ? undefined : a), materialized);
  }

  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, materialized: Omit<WindowedMaterialized<K, VA>, 'valueSerde'> = {}): KTable<Windowed<K>, VA> {
    return this.materialize<VA>(initializer, aggregator, materialized);
  }

  private materialize<VA>(init: Initializer<VA>, agg: Aggregator<K, V, VA>, m: Omit<WindowedMaterialized<K, VA>, 'valueSerde'>): KTable<Windowed<K>, VA> {
    const w = this.windows;
    if (!this.valueSerde) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'sliding windows keep the records of each key, which needs a value serde', { hint: 'give Grouped.valueSerde to groupByKey/groupBy' });
    const minimum = w.timeDifferenceMs + w.graceMs;
    const retentionMs = m.retentionMs ?? minimum;
    if (!Number.isSafeInteger(retentionMs) || retentionMs < minimum) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `sliding window retention (${retentionMs} ms) must be at least time difference + grace (${minimum} ms)`);
    const storeName = m.name ?? this.graph.newName('KSTREAM-SLIDING-STATE-STORE');
    this.graph.addStore(storeSpec({ name: storeName, keySerde: (m.keySerde ?? this.keySerde) as Serde<K>, valueSerde: timedListSerde(this.valueSerde as Serde<V>), logging: m.logging, cacheMaxEntries: m.cacheMaxEntries, backend: m.backend ?? 'rocksdb', prefetchKeys: (k) => [k] }));
    const input = this.input(storeName);
    const name = this.graph.newName('KSTREAM-SLIDING-AGGREGATE');
    const lateChild = lateChildOf(name, this.late as LateRecords<unknown, unknown> | undefined);
    this.graph.add({ kind: 'processor', name, operator: 'sliding aggregate', supplier: () => new SlidingAggregateProcessor<K, V, VA>(storeName, w, retentionMs, init, agg, lateChild), children: [] }, [input.nodeName]);
    addLateSink(this.graph, name, this.late);
    this.graph.connectStores(name, [storeName]);
    return new KTable<Windowed<K>, VA>(this.graph, name, storeName);
  }
}
