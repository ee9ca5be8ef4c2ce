/**
 * The benchmark topologies on the Node side, built through the public API only. The
 * Kafka Streams peer (ops/bench/kafka-streams-peer/) implements the same three; the
 * harness diffs their outputs before it times them (ops/bench/harness/correctness.ts).
 */
import type { AnalyticsEvent } from '../../../topologies/event';
import { loadSchema } from '../../../schemas/catalog';
import { Serdes, StreamsBuilder, TimeWindows, type AvroSerdes, type Topology } from '../../../src/index';

export interface EventSummary {
  entity_id: string;
  kind: string;
  amount: number;
  event_time: number;
}

/** The engine scenario's output schema (the peer's `bench.EventSummary`). */
export const SUMMARY_SCHEMA = {
  type: 'record',
  name: 'EventSummary',
  namespace: 'bench',
  fields: [
    { name: 'entity_id', type: 'string' },
    { name: 'kind', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'event_time', type: 'long' },
  ],
} as const;

export const summarise = (e: AnalyticsEvent): EventSummary => ({
  entity_id: e.entity_id,
  kind: e.event_type.toLowerCase(),
  amount: e.value ?? 0,
  event_time: e.event_time,
});

/** engine: Avro in → mapValues → Avro out, keys passed through as bytes. */
export function engineTopology(avro: AvroSerdes, input: string, output: string): Topology {
  const b = new StreamsBuilder();
  b.stream(input, { keySerde: Serdes.Bytes(), valueSerde: avro.serde<AnalyticsEvent>({ schema: loadSchema('analytics-event.avsc') }) })
    .mapValues((e) => summarise(e!))
    .to(output, { keySerde: Serdes.Bytes(), valueSerde: avro.serde<EventSummary>({ schema: SUMMARY_SCHEMA as never }) });
  return b.build();
}

/** The windowed scenario's output key: the input key and its window's start. */
export const windowKey = (key: string, start: number): string => `${key}@${start}`;

/** windowed: a count and a sum per key in 1-minute tumbling windows (10 s grace), RocksDB stores. */
export function windowedTopology(input: string, counts: string, sums: string): Topology {
  const S = Serdes.String();
  const b = new StreamsBuilder();
  const windowed = b
    .stream(input, { keySerde: S, valueSerde: S })
    .groupByKey({ keySerde: S, valueSerde: S })
    .windowedBy(TimeWindows.ofSizeAndGrace(60_000, 10_000));
  windowed
    .count({ name: 'counts' })
    .toStream()
    .map((w, n) => [windowKey(w.key ?? '', w.window.start), String(n)])
    .to(counts, { keySerde: S, valueSerde: S });
  windowed
    .aggregate(
      () => 0,
      (_k, v, sum) => sum + Number(v),
      { name: 'sums', valueSerde: Serdes.Long() },
    )
    .toStream()
    .map((w, n) => [windowKey(w.key ?? '', w.window.start), String(n)])
    .to(sums, { keySerde: S, valueSerde: S });
  return b.build();
}

/** restore: a count per key in a RocksDB store ("counts"), restored from its changelog when the instance starts without state. */
export function countTopology(input: string): Topology {
  const S = Serdes.String();
  const b = new StreamsBuilder();
  b.stream(input, { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count({ name: 'counts' });
  return b.build();
}
