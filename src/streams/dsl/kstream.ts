/**
 * KStream: a record stream and its stateless operators, named after Kafka Streams'.
 * Every call adds a node to the builder's graph and returns a new stream for its output.
 */
import { StreamingError } from '../../errors';
import type { Deserializer, SerdeFor, Serializer } from '../../serdes';
import { BranchedKStream } from './branched';
import type { TopologyGraph } from '../internals/graph';
import {
  FilterProcessor,
  FlatMapProcessor,
  FlatMapValuesProcessor,
  MapProcessor,
  MapValuesProcessor,
  PassThroughProcessor,
  PeekProcessor,
} from '../processors/operators';
import type { ProcessorSupplier } from '../processor-api/processor';
import type { KeyValue } from '../processor-api/record';
import { KGroupedStream, type Grouped } from './kgrouped-stream';
import type { KTable } from './ktable';
import { StreamTableJoinProcessor } from '../processors/table-processors';

/** Optional explicit processor name (Kafka Streams' `Named.as`); generated otherwise. */
export interface Named {
  name?: string;
}

/** Serdes for a sink. Only their serializers are used, so a `Serde<string | null>` can write a `KStream<string, …>`. */
export interface Produced<K, V> {
  keySerde: Serializer<K>;
  valueSerde: Serializer<V>;
}

/** Serdes (used both ways) and optional name and partition count of a repartition topic. */
export interface Repartitioned<K, V, KR = K, VR = V> {
  name?: string;
  keySerde: Serializer<K> & Deserializer<KR>;
  valueSerde: Serializer<V> & Deserializer<VR>;
  partitions?: number;
}

/** Options of `process()`: a name, and the state stores (added with `StreamsBuilder.addStateStore`) the processor uses. */
export interface ProcessOptions extends Named {
  stores?: readonly string[];
}

export class KStream<K, V> {
  /**
   * @internal Created by StreamsBuilder and by operators; not by applications.
   * `keyChanged`: an operator upstream may have changed the key since the records were
   * partitioned, so grouping must repartition first.
   */
  constructor(
    protected readonly graph: TopologyGraph,
    readonly nodeName: string,
    private readonly keyChanged = false,
  ) {}

  private add<K2, V2>(
    prefix: string,
    operator: string,
    supplier: ProcessorSupplier<K, V, K2, V2>,
    named?: Named,
    keyChanged = this.keyChanged,
    parents: string[] = [this.nodeName],
  ): KStream<K2, V2> {
    const name = named?.name ?? this.graph.newName(prefix);
    this.graph.add({ kind: 'processor', name, operator, supplier, children: [] }, parents);
    return new KStream<K2, V2>(this.graph, name, keyChanged);
  }

  /** Keeps records for which the predicate holds; a type-guard predicate narrows the value type. */
  filter<V2 extends V>(predicate: (key: K, value: V) => value is V2, named?: Named): KStream<K, V2>;
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V>;
  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-FILTER', 'filter', () => new FilterProcessor<K, V>(predicate, true), named);
  }

  /** Drops records for which the predicate holds. */
  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-FILTER', 'filterNot', () => new FilterProcessor<K, V>(predicate, false), named);
  }

  /** New key and value per record. Changing the key marks the stream for repartitioning before grouping. */
  map<K2, V2>(mapper: (key: K, value: V) => KeyValue<K2, V2>, named?: Named): KStream<K2, V2> {
    return this.add('KSTREAM-MAP', 'map', () => new MapProcessor<K, V, K2, V2>(mapper), named, true);
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: Named): KStream<K, V2> {
    return this.add('KSTREAM-MAPVALUES', 'mapValues', () => new MapValuesProcessor<K, V, V2>(mapper), named);
  }

  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<KeyValue<K2, V2>>, named?: Named): KStream<K2, V2> {
    return this.add('KSTREAM-FLATMAP', 'flatMap', () => new FlatMapProcessor<K, V, K2, V2>(mapper), named, true);
  }

  flatMapValues<V2>(mapper: (value: V, key: K) => Iterable<V2>, named?: Named): KStream<K, V2> {
    return this.add('KSTREAM-FLATMAPVALUES', 'flatMapValues', () => new FlatMapValuesProcessor<K, V, V2>(mapper), named);
  }

  selectKey<K2>(mapper: (key: K, value: V) => K2, named?: Named): KStream<K2, V> {
    return this.add('KSTREAM-KEY-SELECT', 'selectKey', () => new MapProcessor<K, V, K2, V>((k, v) => [mapper(k, v), v]), named, true);
  }

  /** Runs a side effect per record and passes the record on unchanged. */
  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-PEEK', 'peek', () => new PeekProcessor<K, V>(action), named);
  }

  /** One stream with the records of both, in the order they are processed. */
  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    if (other.graph !== this.graph) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'merge: both streams must come from the same StreamsBuilder');
    return this.add('KSTREAM-MERGE', 'merge', () => new PassThroughProcessor<K, V>(), named, this.keyChanged || other.keyChanged, [
      this.nodeName,
      other.nodeName,
    ]);
  }

  /** Routes each record to the first matching branch (Kafka Streams' `split()`). */
  split(named?: Named): BranchedKStream<K, V> {
    return new BranchedKStream<K, V>(this.graph, this.nodeName, named?.name ?? this.graph.newName('KSTREAM-BRANCH'), this.keyChanged);
  }

  /**
   * A custom processor from the Processor API, connected to the named state stores. It
   * may forward any key, so grouping after it repartitions.
   */
  process<K2, V2>(supplier: ProcessorSupplier<K, V, K2, V2>, options?: ProcessOptions): KStream<K2, V2> {
    const out = this.add('KSTREAM-PROCESSOR', 'process', supplier, options, true);
    if (options?.stores?.length) this.graph.connectStores(out.nodeName, options.stores);
    return out;
  }

  /**
   * A custom processor that changes values only (Kafka Streams' processValues): it must
   * forward records with the key it was given, so grouping after it does not repartition.
   */
  processValues<V2>(supplier: ProcessorSupplier<K, V, K, V2>, options?: ProcessOptions): KStream<K, V2> {
    const out = this.add<K, V2>('KSTREAM-PROCESSVALUES', 'processValues', supplier, options, this.keyChanged);
    if (options?.stores?.length) this.graph.connectStores(out.nodeName, options.stores);
    return out;
  }

  /**
   * Groups by the current key, to aggregate. If the key may have changed upstream, the
   * aggregation repartitions first (so `grouped.valueSerde` is then needed).
   */
  groupByKey(grouped: Grouped<K, V>): KGroupedStream<K, V> {
    return new KGroupedStream<K, V>(this.graph, this, this.keyChanged, grouped);
  }

  /** Groups by a new key (`selectKey`, then a repartition topic before the aggregation). */
  groupBy<KR>(selector: (key: K, value: V) => KR, grouped: Grouped<KR, V> & { valueSerde: SerdeFor<V> }): KGroupedStream<KR, V> {
    const rekeyed = this.add<KR, V>('KSTREAM-KEY-SELECT', 'groupBy', () => new MapProcessor<K, V, KR, V>((k, v) => [selector(k, v), v]), undefined, true);
    return new KGroupedStream<KR, V>(this.graph, rekeyed, true, grouped);
  }

  /**
   * Writes the stream through an internal topic, `<applicationId>-<name>-repartition`
   * (created at start), and reads it back: records are then partitioned by their current
   * key, as grouping and joins need after a key change. Starts a new sub-topology.
   */
  repartition<KR = K, VR = V>(options: Repartitioned<K, V, KR, VR>): KStream<KR, VR> {
    const base = options.name ?? this.graph.newName('KSTREAM-REPARTITION');
    const topic = `${base}-repartition`;
    const internal = options.partitions === undefined ? {} : { partitions: options.partitions };
    this.graph.add({ kind: 'sink', name: `${base}-sink`, topic, keySerde: options.keySerde, valueSerde: options.valueSerde, children: [], internal }, [
      this.nodeName,
    ]);
    this.graph.add(
      { kind: 'source', name: `${base}-source`, topics: [topic], keySerde: options.keySerde, valueSerde: options.valueSerde, children: [], internal: true },
      [],
    );
    return new KStream<KR, VR>(this.graph, `${base}-source`, false);
  }

  /**
   * Joins each record with the table's current value for its key (inner: records without
   * one are dropped). The stream must be partitioned like the table's topic: after a key
   * change, `repartition()` it first.
   */
  join<VT, VR>(table: KTable<K, VT>, joiner: (value: V, tableValue: VT, key: K) => VR, named?: Named): KStream<K, VR> {
    return this.joinTable('join', table, (v, t, k) => joiner(v, t as VT, k), false, named);
  }

  /** As join, but every record goes on: `tableValue` is null when the table has no value for the key. */
  leftJoin<VT, VR>(table: KTable<K, VT>, joiner: (value: V, tableValue: VT | null, key: K) => VR, named?: Named): KStream<K, VR> {
    return this.joinTable('leftJoin', table, joiner, true, named);
  }

  private joinTable<VT, VR>(
    operator: string,
    table: KTable<K, VT>,
    joiner: (value: V, tableValue: VT | null, key: K) => VR,
    left: boolean,
    named?: Named,
  ): KStream<K, VR> {
    if (this.keyChanged)
      throw new StreamingError(
        'SA_ERR_TOPOLOGY_INVALID',
        `${operator}: the key may have changed since the stream was partitioned, so its records may not be in the table's partitions`,
        { hint: 'call repartition({ keySerde, valueSerde }) before the join' },
      );
    const out = this.add<K, VR>('KSTREAM-JOIN', operator, () => new StreamTableJoinProcessor<K, V, VT, VR>(table.queryableStoreName, joiner, left), named);
    this.graph.connectStores(out.nodeName, [table.queryableStoreName]);
    return out;
  }

  /** Writes the stream to a topic with the given serdes. */
  to(topic: string, produced: Produced<K, V>, named?: Named): void {
    const name = named?.name ?? this.graph.newName('KSTREAM-SINK');
    this.graph.add({ kind: 'sink', name, topic, keySerde: produced.keySerde, valueSerde: produced.valueSerde, children: [] }, [this.nodeName]);
  }
}
