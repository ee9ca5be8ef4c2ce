/**
 * What the three windowed streams (time, session and sliding windows) share, written once
 * so their count/reduce/aggregate cannot drift apart again: the materialized options they
 * take, and what KGroupedStream.windowedBy hands each of them.
 *
 * Kafka Streams gives every windowed `count`, `reduce` and `aggregate` an optional
 * `Materialized` (store name, store options, serdes) and a `KTable<Windowed<K>, …>`.
 * Here the value serde is asked only where a store holds the aggregate: time and session
 * stores hold aggregates; a sliding store holds the key's records, whose serde is the
 * grouped stream's (or, for reduce, whose records are aggregates too, Materialized's).
 */
import { StreamingError } from '../../errors';
import type { SerdeFor } from '../../serdes';
import type { TopologyGraph } from '../internals/graph';
import type { Materialized } from './kgrouped-stream';
import type { KStream } from './kstream';
import type { LateRecords } from './late-records';

/** The store of a windowed aggregation (Kafka Streams' `Materialized` for a windowed store). */
export interface WindowedMaterialized<K, VA> extends Materialized<K, VA> {
  /** How long windows stay in the store (queryable). Default and minimum: window size (or gap, or time difference) + grace. */
  retentionMs?: number;
}

/** `aggregate()` of a store holding aggregates: their serde is needed (there is no default serde to fall back on). */
export type WindowedAggregateMaterialized<K, VA> = WindowedMaterialized<K, VA> & { valueSerde: SerdeFor<VA> };

/** A sliding aggregation's store holds the key's records, never an aggregate: it takes no aggregate serde. */
export type SlidingMaterialized<K> = Omit<WindowedMaterialized<K, never>, 'valueSerde'>;

/** @internal What KGroupedStream.windowedBy hands a windowed stream. */
export interface WindowedSource<K, V> {
  graph: TopologyGraph;
  /** The stream to aggregate: repartitioned first (the topic named after the store) when the key may have changed. */
  input: (storeName: string) => KStream<K, V>;
  keySerde: SerdeFor<K>;
  /** Grouped.valueSerde, when given. */
  valueSerde: SerdeFor<V> | undefined;
  late: LateRecords<K, V> | undefined;
}

/** The store's retention: as given, else the least the windows need (`minimum`); less than that is a topology error naming `what`. */
export function retentionOf(m: { retentionMs?: number | undefined }, minimum: number, store: string, what: string): number {
  const retentionMs = m.retentionMs ?? minimum;
  if (!Number.isSafeInteger(retentionMs) || retentionMs < minimum) {
    throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `${store} retention (${retentionMs} ms) must be at least ${what} (${minimum} ms)`);
  }
  return retentionMs;
}
