/** StreamsBuilder: where a topology starts (Kafka Streams' class of the same name). */
import { storeSpec, type StoreOptions } from '../../state';
import { StreamingError } from '../errors';
import type { Deserializer } from '../serdes';
import { TopologyGraph } from './graph';
import { KStream, type Named } from './kstream';
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
