/**
 * KTable: a changelog stream read as a table — the latest value per key, held in a state
 * store. Made by the aggregations of KGroupedStream; `toStream()` turns its updates back
 * into a record stream.
 */
import type { TopologyGraph } from './graph';
import { KStream, type Named } from './kstream';
import { PassThroughProcessor } from './operators';

export class KTable<K, V> {
  /** @internal Created by aggregations; not by applications. */
  constructor(private readonly graph: TopologyGraph, readonly nodeName: string, readonly queryableStoreName: string) {}

  /** Every update of the table as a record: key → its new value. */
  toStream(named?: Named): KStream<K, V> {
    const name = named?.name ?? this.graph.newName('KTABLE-TOSTREAM');
    this.graph.add({ kind: 'processor', name, operator: 'toStream', supplier: () => new PassThroughProcessor<K, V>(), children: [] }, [this.nodeName]);
    return new KStream<K, V>(this.graph, name);
  }
}
