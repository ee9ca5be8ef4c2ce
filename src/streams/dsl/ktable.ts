/**
 * KTable: a changelog stream read as a table — the latest value per key, held in a state
 * store. Made by the aggregations of KGroupedStream; `toStream()` turns its updates back
 * into a record stream.
 */
import { storeSpec } from '../../../state';
import { StreamingError } from '../../errors';
import type { Serde } from '../../serdes';
import type { TopologyGraph } from '../internals/graph';
import { KStream, type Named } from './kstream';
import { PassThroughProcessor } from '../processors/operators';
import { bufferKeySerde, SuppressProcessor } from '../processors/suppress';
import type { Suppressed } from './suppressed';

/** What a windowed table knows about its windows (for suppress). */
export interface TableWindowing {
  graceMs: number;
  keySerde: Serde<unknown>;
  valueSerde: Serde<unknown>;
}

export class KTable<K, V> {
  /** @internal Created by aggregations; not by applications. */
  constructor(private readonly graph: TopologyGraph, readonly nodeName: string, readonly queryableStoreName: string, private readonly windowing?: TableWindowing) {}

  /**
   * A windowed table's final results only: one record per window when it closes (stream
   * time past its end + grace), instead of every update.
   */
  suppress(_until: ReturnType<(typeof Suppressed)['untilWindowCloses']>, named?: Named): KTable<K, V> {
    const w = this.windowing;
    if (!w) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'suppress(untilWindowCloses) needs a windowed table', { hint: 'use it on the result of windowedBy(...).count/reduce/aggregate' });
    const name = named?.name ?? this.graph.newName('KTABLE-SUPPRESS');
    const storeName = `${name}-buffer`;
    this.graph.addStore(storeSpec({ name: storeName, keySerde: bufferKeySerde(w.keySerde), valueSerde: w.valueSerde, backend: 'in-memory' }));
    this.graph.add({ kind: 'processor', name, operator: 'suppress', supplier: () => new SuppressProcessor(storeName, w.graceMs), children: [] }, [this.nodeName]);
    this.graph.connectStores(name, [storeName]);
    return new KTable<K, V>(this.graph, name, this.queryableStoreName);
  }

  /** Every update of the table as a record: key → its new value. */
  toStream(named?: Named): KStream<K, V> {
    const name = named?.name ?? this.graph.newName('KTABLE-TOSTREAM');
    this.graph.add({ kind: 'processor', name, operator: 'toStream', supplier: () => new PassThroughProcessor<K, V>(), children: [] }, [this.nodeName]);
    return new KStream<K, V>(this.graph, name);
  }
}
