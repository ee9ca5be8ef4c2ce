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

/**
 * `V` is the type of a row (what the store holds and a query returns); `U` is the value
 * type of the table's updates, what `toStream()` carries: `V` when rows are only ever
 * written, `V | null` when a row can also be deleted. Kafka Streams has one nullable type
 * for both — a null value in a table's changelog is a tombstone deleting the row, as a
 * merged-away session is — so here a table that can delete says so in `U` and keeps `V`.
 */
export class KTable<K, V, U extends V | null = V> {
  /** @internal Created by aggregations; not by applications. */
  constructor(
    private readonly graph: TopologyGraph,
    readonly nodeName: string,
    readonly queryableStoreName: string,
    private readonly windowing?: TableWindowing,
  ) {}

  /**
   * A windowed table's final results only: one record per window when it closes (stream
   * time past its end + grace), instead of every update.
   */
  suppress(_until: ReturnType<(typeof Suppressed)['untilWindowCloses']>, named?: Named): KTable<K, V, U> {
    const w = this.windowing;
    if (!w)
      throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', 'suppress(untilWindowCloses) needs a time-windowed table', {
        hint: 'use it on the result of windowedBy(TimeWindows…).count/reduce/aggregate (session and sliding windows do not support it yet)',
      });
    const name = named?.name ?? this.graph.newName('KTABLE-SUPPRESS');
    const storeName = `${name}-buffer`;
    this.graph.addStore(storeSpec({ name: storeName, keySerde: bufferKeySerde(w.keySerde), valueSerde: w.valueSerde, backend: 'in-memory' }));
    this.graph.add({ kind: 'processor', name, operator: 'suppress', supplier: () => new SuppressProcessor(storeName, w.graceMs), children: [] }, [
      this.nodeName,
    ]);
    this.graph.connectStores(name, [storeName]);
    return new KTable<K, V, U>(this.graph, name, this.queryableStoreName);
  }

  /** Every update of the table as a record: key → its new value (null: the row was deleted, when `U` admits it). */
  toStream(named?: Named): KStream<K, U> {
    const name = named?.name ?? this.graph.newName('KTABLE-TOSTREAM');
    this.graph.add({ kind: 'processor', name, operator: 'toStream', supplier: () => new PassThroughProcessor<K, U>(), children: [] }, [this.nodeName]);
    return new KStream<K, U>(this.graph, name);
  }
}
