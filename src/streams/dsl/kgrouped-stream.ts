/**
 * KGroupedStream: a stream grouped by key, ready to aggregate. If the key may have changed
 * since the records were partitioned (map, selectKey, flatMap, process, groupBy), the
 * aggregation first writes the stream through a repartition topic, so every record of a
 * key reaches the task that owns that key's aggregate.
 */
import { storeSpec, type StoreBackend } from '../../../state';
import { StreamingError } from '../../errors';
import { Serdes, type Serde, type SerdeFor } from '../../serdes';
import { AggregateProcessor, folds, type Aggregator, type Fold, type Initializer, type Reducer } from '../processors/aggregate';
import type { TopologyGraph } from '../internals/graph';
import type { KStream } from './kstream';
import { KTable } from './ktable';
import { TimeWindowedKStream, type LateRecords } from './time-windowed-stream';
import { SessionWindowedKStream } from './session-windowed-stream';
import { SessionWindows } from './session-windows';
import { SlidingWindowedKStream } from './sliding-windowed-stream';
import { SlidingWindows } from './sliding-windows';
import type { WindowedSource } from './windowed-aggregation';
import type { TimeWindows } from './windows';

/** Serdes of the grouped records: the key's for the store, both for a repartition topic. */
export interface Grouped<K, V> {
  /** Names the repartition topic (`<applicationId>-<name>-repartition`); the store's name otherwise. */
  name?: string;
  keySerde: SerdeFor<K>;
  /** Needed when the records go through a repartition topic. */
  valueSerde?: SerdeFor<V>;
}

/** The store an aggregation materializes into (Kafka Streams' `Materialized`). */
export interface Materialized<K, VA> {
  /** Store name (queryable, and in the changelog topic's name); generated otherwise. */
  name?: string;
  keySerde?: SerdeFor<K>;
  valueSerde?: SerdeFor<VA>;
  /** Back the store with a changelog topic (default true). */
  logging?: boolean;
  /** Dirty keys held by the write-back cache before an early flush; 0 disables it. */
  cacheMaxEntries?: number;
  /** 'rocksdb' (default: persistent, restores only the changelog's tail after a restart) or 'in-memory'. */
  backend?: StoreBackend;
}

export class KGroupedStream<K, V> {
  /** One repartition topic for every aggregation of this grouped stream. */
  private repartitionedStream: KStream<K, V> | undefined;

  /** @internal Made by KStream.groupByKey/groupBy. */
  constructor(
    private readonly graph: TopologyGraph,
    private readonly stream: KStream<K, V>,
    private readonly repartitionRequired: boolean,
    private readonly grouped: Grouped<K, V>,
  ) {}

  /** Records per key, as a KTable of numbers (store values through Serdes.Long unless given). */
  count(materialized: Materialized<K, number> = {}): KTable<K, number> {
    return this.materialize<number>('count', folds.count<K, V>(), { ...materialized, valueSerde: materialized.valueSerde ?? Serdes.Long() });
  }

  /** Combines the values of a key; the first value of a key is its first aggregate. */
  reduce(reducer: Reducer<V>, materialized: Materialized<K, V> = {}): KTable<K, V> {
    const valueSerde = materialized.valueSerde ?? this.grouped.valueSerde;
    if (!valueSerde)
      throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'reduce: no value serde for the store', {
        hint: 'give Materialized.valueSerde or Grouped.valueSerde',
      });
    return this.materialize<V>('reduce', folds.reduce<K, V>(reducer), { ...materialized, valueSerde });
  }

  /** Folds every value of a key into an aggregate that starts from `initializer()`. */
  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    materialized: NoInfer<Materialized<K, VA> & { valueSerde: SerdeFor<VA> }>,
  ): KTable<K, VA> {
    return this.materialize<VA>('aggregate', folds.aggregate(initializer, aggregator), materialized);
  }

  /**
   * Cuts each key's records into time windows (tumbling, or hopping with `advanceBy`),
   * sliding windows (`SlidingWindows`) or sessions (`SessionWindows`), to aggregate per window.
   */
  windowedBy(windows: TimeWindows, options?: { lateRecords?: LateRecords<K, V> }): TimeWindowedKStream<K, V>;
  windowedBy(windows: SessionWindows, options?: { lateRecords?: LateRecords<K, V> }): SessionWindowedKStream<K, V>;
  windowedBy(windows: SlidingWindows, options?: { lateRecords?: LateRecords<K, V> }): SlidingWindowedKStream<K, V>;
  windowedBy(
    windows: TimeWindows | SessionWindows | SlidingWindows,
    options: { lateRecords?: LateRecords<K, V> } = {},
  ): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> | SlidingWindowedKStream<K, V> {
    const input = (store: string): KStream<K, V> => (this.repartitionRequired ? this.repartitioned(store) : this.stream);
    const source: WindowedSource<K, V> = {
      graph: this.graph,
      input,
      keySerde: this.grouped.keySerde,
      valueSerde: this.grouped.valueSerde,
      late: options.lateRecords,
    };
    if (windows instanceof SlidingWindows) return new SlidingWindowedKStream<K, V>(source, windows);
    if (windows instanceof SessionWindows) return new SessionWindowedKStream<K, V>(source, windows);
    return new TimeWindowedKStream<K, V>(source, windows);
  }

  private materialize<VA>(operator: string, fold: Fold<K, V, VA>, m: Materialized<K, VA> & { valueSerde: SerdeFor<VA> }): KTable<K, VA> {
    const storeName = m.name ?? this.graph.newName('KSTREAM-AGGREGATE-STATE-STORE');
    const keySerde = m.keySerde ?? this.grouped.keySerde;
    // The aggregation's key is the key its sub-topology read (a key change repartitions
    // first), so that is the key a batch's records will read from a RocksDB store.
    this.graph.addStore(
      storeSpec({
        name: storeName,
        keySerde,
        valueSerde: m.valueSerde,
        logging: m.logging,
        cacheMaxEntries: m.cacheMaxEntries,
        backend: m.backend ?? 'rocksdb',
        prefetchKeys: (k) => [k as K],
      }),
    );
    const input = this.repartitionRequired ? this.repartitioned(storeName) : this.stream;
    const name = this.graph.newName('KSTREAM-AGGREGATE');
    this.graph.add({ kind: 'processor', name, operator, supplier: () => new AggregateProcessor<K, V, VA>(storeName, fold), children: [] }, [input.nodeName]);
    this.graph.connectStores(name, [storeName]);
    return new KTable<K, VA>(this.graph, name, storeName);
  }

  private repartitioned(storeName: string): KStream<K, V> {
    if (this.repartitionedStream) return this.repartitionedStream;
    const valueSerde = this.grouped.valueSerde;
    if (!valueSerde)
      throw new StreamingError(
        'SA_ERR_TOPOLOGY_INVALID',
        'grouping after a key change writes the records through a repartition topic, which needs a value serde',
        { hint: 'give Grouped.valueSerde to groupBy/groupByKey' },
      );
    // A null key or value never reaches the aggregation, so the serdes' `| null` is moot here.
    this.repartitionedStream = this.stream.repartition<K, V>({
      name: this.grouped.name ?? storeName,
      keySerde: this.grouped.keySerde as Serde<K>,
      valueSerde: valueSerde as Serde<V>,
    });
    return this.repartitionedStream;
  }
}
