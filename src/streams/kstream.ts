/**
 * KStream: a record stream and its stateless operators, named after Kafka Streams'.
 * Every call adds a node to the builder's graph and returns a new stream for its output.
 */
import { StreamingError } from '../errors';
import type { Deserializer, Serializer } from '../serdes';
import { BranchedKStream } from './branched';
import type { TopologyGraph } from './graph';
import { FilterProcessor, FlatMapProcessor, FlatMapValuesProcessor, MapProcessor, MapValuesProcessor, PassThroughProcessor, PeekProcessor } from './operators';
import type { ProcessorSupplier } from './processor';
import type { KeyValue } from './record';

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

export class KStream<K, V> {
  /** @internal Created by StreamsBuilder and by operators; not by applications. */
  constructor(protected readonly graph: TopologyGraph, readonly nodeName: string) {}

  private add<K2, V2>(prefix: string, operator: string, supplier: ProcessorSupplier<K, V, K2, V2>, named?: Named, parents: string[] = [this.nodeName]): KStream<K2, V2> {
    const name = named?.name ?? this.graph.newName(prefix);
    this.graph.add({ kind: 'processor', name, operator, supplier, children: [] }, parents);
    return new KStream<K2, V2>(this.graph, name);
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
    return this.add('KSTREAM-MAP', 'map', () => new MapProcessor<K, V, K2, V2>(mapper), named);
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: Named): KStream<K, V2> {
    return this.add('KSTREAM-MAPVALUES', 'mapValues', () => new MapValuesProcessor<K, V, V2>(mapper), named);
  }

  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<KeyValue<K2, V2>>, named?: Named): KStream<K2, V2> {
    return this.add('KSTREAM-FLATMAP', 'flatMap', () => new FlatMapProcessor<K, V, K2, V2>(mapper), named);
  }

  flatMapValues<V2>(mapper: (value: V, key: K) => Iterable<V2>, named?: Named): KStream<K, V2> {
    return this.add('KSTREAM-FLATMAPVALUES', 'flatMapValues', () => new FlatMapValuesProcessor<K, V, V2>(mapper), named);
  }

  selectKey<K2>(mapper: (key: K, value: V) => K2, named?: Named): KStream<K2, V> {
    return this.add('KSTREAM-KEY-SELECT', 'selectKey', () => new MapProcessor<K, V, K2, V>((k, v) => [mapper(k, v), v]), named);
  }

  /** Runs a side effect per record and passes the record on unchanged. */
  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-PEEK', 'peek', () => new PeekProcessor<K, V>(action), named);
  }

  /** One stream with the records of both, in the order they are processed. */
  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    if (other.graph !== this.graph) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'merge: both streams must come from the same StreamsBuilder');
    return this.add('KSTREAM-MERGE', 'merge', () => new PassThroughProcessor<K, V>(), named, [this.nodeName, other.nodeName]);
  }

  /** Routes each record to the first matching branch (Kafka Streams' `split()`). */
  split(named?: Named): BranchedKStream<K, V> {
    return new BranchedKStream<K, V>(this.graph, this.nodeName, named?.name ?? this.graph.newName('KSTREAM-BRANCH'));
  }

  /** A custom processor from the Processor API. */
  process<K2, V2>(supplier: ProcessorSupplier<K, V, K2, V2>, named?: Named): KStream<K2, V2> {
    return this.add('KSTREAM-PROCESSOR', 'process', supplier, named);
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
    this.graph.add({ kind: 'sink', name: `${base}-sink`, topic, keySerde: options.keySerde, valueSerde: options.valueSerde, children: [], internal }, [this.nodeName]);
    this.graph.add({ kind: 'source', name: `${base}-source`, topics: [topic], keySerde: options.keySerde, valueSerde: options.valueSerde, children: [], internal: true }, []);
    return new KStream<KR, VR>(this.graph, `${base}-source`);
  }

  /** Writes the stream to a topic with the given serdes. */
  to(topic: string, produced: Produced<K, V>, named?: Named): void {
    const name = named?.name ?? this.graph.newName('KSTREAM-SINK');
    this.graph.add({ kind: 'sink', name, topic, keySerde: produced.keySerde, valueSerde: produced.valueSerde, children: [] }, [this.nodeName]);
  }
}
