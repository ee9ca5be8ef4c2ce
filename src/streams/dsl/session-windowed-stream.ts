/**
 * SessionWindowedKStream: a grouped stream cut into per-key sessions
 * (`windowedBy(SessionWindows...)`), to count, reduce or aggregate per session. The
 * result is a KTable keyed by `Windowed<K>` whose window ends are inclusive.
 *
 * A record that bridges two sessions merges them, and the merged-away sessions must
 * leave every downstream table. Kafka Streams says so with a tombstone: `count()` there is
 * a `KTable<Windowed<K>, Long>` whose changelog carries a null Long for each merged-away
 * session. Here the row type stays the same as the other windowed streams' (`number` for
 * count) and the tombstone is in the table's update type: `KTable<Windowed<K>, VA, VA |
 * null>`, so `toStream()` gives `VA | null` and nothing downstream can forget the null.
 */
import { storeSpec } from '../../../state';
import { StreamingError } from '../../errors';
import { Serdes, type Serde } from '../../serdes';
import type { Aggregator, Initializer, Reducer } from '../processors/aggregate';
import { KTable } from './ktable';
import { addLateSink, lateChildOf, type LateRecords } from './late-records';
import { SessionAggregateProcessor, type Merger } from '../processors/session-aggregate';
import { sessionListSerde, type SessionWindows } from './session-windows';
import { retentionOf, type WindowedAggregateMaterialized, type WindowedMaterialized, type WindowedSource } from './windowed-aggregation';
import type { Windowed } from './windows';

/** A table of sessions: rows of `VA`, and a null update for each session merged away. */
export type SessionTable<K, VA> = KTable<Windowed<K>, VA, VA | null>;

export class SessionWindowedKStream<K, V> {
  /** @internal Made by KGroupedStream.windowedBy. */
  constructor(
    private readonly source: WindowedSource<K, V>,
    private readonly windows: SessionWindows,
  ) {}

  /** Records per key and session (store values through Serdes.Long unless given). */
  count(materialized: WindowedMaterialized<K, number> = {}): SessionTable<K, number> {
    return this.materialize<number>(
      () => 0,
      (_k, _v, n) => n + 1,
      (_k, a, b) => a + b,
      { ...materialized, valueSerde: materialized.valueSerde ?? Serdes.Long() },
    );
  }

  /** Combines the values of a key in each session; the store uses Materialized's value serde, else Grouped's. */
  reduce(reducer: Reducer<V>, materialized: WindowedMaterialized<K, V> = {}): SessionTable<K, V> {
    const valueSerde = materialized.valueSerde ?? this.source.valueSerde;
    if (!valueSerde)
      throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'reduce: no value serde for the session store', {
        hint: 'give Materialized.valueSerde or Grouped.valueSerde',
      });
    // The initial aggregate is a marker the first fold replaces.
    const NONE = Symbol('none') as unknown as V;
    return this.materialize<V>(
      () => NONE,
      (_k, v, a) => (a === NONE ? v : reducer(a, v)),
      (_k, a, b) => (a === NONE ? b : b === NONE ? a : reducer(a, b)),
      { ...materialized, valueSerde },
    );
  }

  /** `merger` combines the aggregates of two sessions a record has bridged. */
  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    merger: Merger<K, VA>,
    materialized: NoInfer<WindowedAggregateMaterialized<K, VA>>,
  ): SessionTable<K, VA> {
    return this.materialize<VA>(initializer, aggregator, merger, materialized);
  }

  private materialize<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    merger: Merger<K, VA>,
    m: WindowedAggregateMaterialized<K, VA>,
  ): SessionTable<K, VA> {
    const { graph, late } = this.source;
    const windows = this.windows;
    const retentionMs = retentionOf(m, windows.gapMs + windows.graceMs, 'session store', 'inactivity gap + grace');
    const storeName = m.name ?? graph.newName('KSTREAM-SESSION-STATE-STORE');
    const keySerde = (m.keySerde ?? this.source.keySerde) as Serde<K>;
    graph.addStore(
      storeSpec({
        name: storeName,
        keySerde,
        valueSerde: sessionListSerde(m.valueSerde as Serde<VA>),
        logging: m.logging,
        cacheMaxEntries: m.cacheMaxEntries,
        backend: m.backend ?? 'rocksdb',
        prefetchKeys: (k) => [k],
      }),
    );
    const input = this.source.input(storeName);
    const name = graph.newName('KSTREAM-SESSION-AGGREGATE');
    const lateChild = lateChildOf(name, late as LateRecords<unknown, unknown> | undefined);
    const supplier = (): SessionAggregateProcessor<K, V, VA> =>
      new SessionAggregateProcessor<K, V, VA>({ storeName, windows, retentionMs, initializer, aggregator, merger, lateChild });
    graph.add({ kind: 'processor', name, operator: 'session aggregate', supplier, children: [] }, [input.nodeName]);
    graph.connectStores(name, [storeName]);
    addLateSink(graph, name, late);
    return new KTable<Windowed<K>, VA, VA | null>(graph, name, storeName);
  }
}
