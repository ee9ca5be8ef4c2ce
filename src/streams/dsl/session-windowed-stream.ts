/**
 * SessionWindowedKStream: a grouped stream cut into per-key sessions
 * (`windowedBy(SessionWindows...)`), to count, reduce or aggregate per session. The
 * result is a KTable keyed by `Windowed<K>` whose window ends are inclusive; a merged-away
 * session is updated to null.
 */
import { storeSpec } from '../../../state';
import { StreamingError } from '../../errors';
import { Serdes, type Serde, type SerdeFor } from '../../serdes';
import type { Aggregator, Initializer, Reducer } from '../processors/aggregate';
import type { TopologyGraph } from '../internals/graph';
import type { KStream } from './kstream';
import { KTable } from './ktable';
import { addLateSink, lateChildOf, type LateRecords } from './late-records';
import { SessionAggregateProcessor, type Merger } from '../processors/session-aggregate';
import { sessionListSerde, type SessionWindows } from './session-windows';
import type { WindowedMaterialized } from './time-windowed-stream';
import type { Windowed } from './windows';

export class SessionWindowedKStream<K, V> {
  /** @internal Made by KGroupedStream.windowedBy. */
  constructor(
    private readonly graph: TopologyGraph,
    private readonly input: (storeName: string) => KStream<K, V>,
    private readonly keySerde: SerdeFor<K>,
    private readonly valueSerde: SerdeFor<V> | undefined,
    private readonly windows: SessionWindows,
    private readonly late: LateRecords<K, V> | undefined,
  ) {}

  count(materialized: WindowedMaterialized<K, number> = {}): KTable<Windowed<K>, number | null> {
    return this.materialize<number>(() => 0, (_k, _v, n) => n + 1, (_k, a, b) => a + b, { ...materialized, valueSerde: materialized.valueSerde ?? Serdes.Long() });
  }

  reduce(reducer: Reducer<V>, materialized: WindowedMaterialized<K, V> = {}): KTable<Windowed<K>, V | null> {
    const valueSerde = materialized.valueSerde ?? this.valueSerde;
    if (!valueSerde) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'reduce: no value serde for the session store', { hint: 'give Materialized.valueSerde or Grouped.valueSerde' });
    // The initial aggregate is a marker the first fold replaces.
    const NONE = Symbol('none') as unknown as V;
    return this.materialize<V>(() => NONE, (_k, v, a) => (a === NONE ? v : reducer(a, v)), (_k, a, b) => (a === NONE ? b : b === NONE ? a : reducer(a, b)), { ...materialized, valueSerde });
  }

  /** `merger` combines the aggregates of two sessions a record has bridged. */
  aggregate<VA>(initializer: Initializer<VA>, aggregator: Aggregator<K, V, VA>, merger: Merger<K, VA>, materialized: NoInfer<WindowedMaterialized<K, VA> & { valueSerde: SerdeFor<VA> }>): KTable<Windowed<K>, VA | null> {
    return this.materialize<VA>(initializer, aggregator, merger, materialized);
  }

  private materialize<VA>(init: Initializer<VA>, agg: Aggregator<K, V, VA>, merger: Merger<K, VA>, m: WindowedMaterialized<K, VA> & { valueSerde: SerdeFor<VA> }): KTable<Windowed<K>, VA | null> {
    const w = this.windows;
    const minimum = w.gapMs + w.graceMs;
    const retentionMs = m.retentionMs ?? minimum;
    if (!Number.isSafeInteger(retentionMs) || retentionMs < minimum) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `session store retention (${retentionMs} ms) must be at least inactivity gap + grace (${minimum} ms)`);
    const storeName = m.name ?? this.graph.newName('KSTREAM-SESSION-STATE-STORE');
    const keySerde = (m.keySerde ?? this.keySerde) as Serde<K>;
    this.graph.addStore(storeSpec({ name: storeName, keySerde, valueSerde: sessionListSerde(m.valueSerde as Serde<VA>), logging: m.logging, cacheMaxEntries: m.cacheMaxEntries, backend: m.backend ?? 'rocksdb', prefetchKeys: (k) => [k] }));
    const input = this.input(storeName);
    const name = this.graph.newName('KSTREAM-SESSION-AGGREGATE');
    const lateChild = lateChildOf(name, this.late as LateRecords<unknown, unknown> | undefined);
    this.graph.add({ kind: 'processor', name, operator: 'session aggregate', supplier: () => new SessionAggregateProcessor<K, V, VA>(storeName, w, retentionMs, init, agg, merger, lateChild), children: [] }, [input.nodeName]);
    this.graph.connectStores(name, [storeName]);
    addLateSink(this.graph, name, this.late);
    return new KTable<Windowed<K>, VA | null>(this.graph, name, storeName);
  }
}
