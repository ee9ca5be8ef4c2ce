/** StreamsBuilder: where a topology starts (Kafka Streams' class of the same name). */
import { storeSpec, type StoreOptions } from '../../../state';
import { StreamingError } from '../../errors';
import type { Deserializer } from '../../serdes';
import { TopologyGraph } from '../internals/graph';
import type { SerdeFor } from '../../serdes';
import type { Materialized } from './kgrouped-stream';
import { KStream, type Named } from './kstream';
import { KTable } from './ktable';
import { TableSourceProcessor } from '../processors/table-processors';
import { Topology } from './topology';

/** Serdes for a source; only their deserializers are used. */
export interface Consumed<K, V> {
  keySerde: Deserializer<K>;
  valueSerde: Deserializer<V>;
}

export class StreamsBuilder {
  private readonly graph = new TopologyGraph();
  private built = false;

  /** A stream of one topic, or of several (they must be co-partitioned: same partition count and keying). */
  stream<K, V>(topics: string | readonly string[], consumed: Consumed<K, V>, named?: Named): KStream<K, V> {
    const list = typeof topics === 'string' ? [topics] : [...topics];
    if (list.length === 0) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'stream: at least one topic is needed');
    const taken = new Set(this.graph.sourceTopics());
    const twice = list.find((t) => taken.has(t));
    if (twice) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `stream: topic "${twice}" is already a source of this topology`);
    const name = named?.name ?? this.graph.newName('KSTREAM-SOURCE');
    this.graph.add({ kind: 'source', name, topics: list, keySerde: consumed.keySerde, valueSerde: consumed.valueSerde, children: [] }, []);
    return new KStream<K, V>(this.graph, name);
  }

  /**
   * A table of a topic's latest value per key (a null value deletes the key), materialized
   * in a store (RocksDB unless `backend: 'in-memory'`), queryable and joinable. Streams
   * joined with it must be co-partitioned with the topic.
   */
  table<K, V>(
    topic: string,
    consumed: Consumed<K, V | null> & { keySerde: SerdeFor<K>; valueSerde: SerdeFor<V> },
    materialized: Pick<Materialized<K, V>, 'name' | 'backend' | 'logging' | 'cacheMaxEntries'> = {},
  ): KTable<K, V, V | null> {
    const source = this.stream(topic, consumed, { name: this.graph.newName('KTABLE-SOURCE') });
    const storeName = materialized.name ?? `${topic}-STATE-STORE`.replace(/[^A-Za-z0-9._-]/g, '_');
    this.graph.addStore(
      storeSpec({
        name: storeName,
        keySerde: consumed.keySerde,
        valueSerde: consumed.valueSerde,
        logging: materialized.logging,
        cacheMaxEntries: materialized.cacheMaxEntries,
        backend: materialized.backend ?? 'rocksdb',
        prefetchKeys: (k) => [k],
      }),
    );
    const name = this.graph.newName('KTABLE-MATERIALIZE');
    this.graph.add({ kind: 'processor', name, operator: 'table', supplier: () => new TableSourceProcessor<K, V>(storeName), children: [] }, [source.nodeName]);
    this.graph.connectStores(name, [storeName]);
    return new KTable<K, V, V | null>(this.graph, name, storeName);
  }

  /**
   * Adds a key-value state store for Processor API processors; connect it with
   * `stream.process(supplier, { stores: [name] })`. Logged to
   * `<applicationId>-<name>-changelog` unless `logging: false`.
   */
  addStateStore<K, V>(options: StoreOptions<K, V>): this {
    this.graph.addStore(storeSpec(options));
    return this;
  }

  /** Freezes the graph into a Topology; the builder cannot be used afterwards. */
  build(): Topology {
    if (this.built) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'build: this StreamsBuilder was already built');
    this.built = true;
    return new Topology(this.graph);
  }
}
