/**
 * Late records (every window kind): a record that falls in no open window — its windows
 * ended, plus grace, before the task's stream time — is dropped and counted
 * (`events_late_total`), and written to a late-records topic when one is configured, so
 * it is not lost without a trace.
 */
import type { Serializer } from '../../serdes';
import type { TopologyGraph } from '../internals/graph';
import type { ProcessorContext } from '../processor-api/processor';
import type { StreamRecord } from '../processor-api/record';

/** Where records that fall in no open window go, besides being counted (`events_late_total`). */
export interface LateRecords<K, V> {
  topic: string;
  keySerde: Serializer<K>;
  valueSerde: Serializer<V>;
}

/** The name of the late-records sink under a windowed aggregation processor, when there is one. */
export function lateChildOf(processorName: string, late: LateRecords<unknown, unknown> | undefined): string | undefined {
  return late ? `${processorName}-late` : undefined;
}

/** Adds the late-records sink under the (already added) processor; it is reached only by name. */
export function addLateSink<K, V>(graph: TopologyGraph, processorName: string, late: LateRecords<K, V> | undefined): void {
  const name = lateChildOf(processorName, late as LateRecords<unknown, unknown> | undefined);
  if (!late || !name) return;
  graph.add({ kind: 'sink', name, topic: late.topic, keySerde: late.keySerde, valueSerde: late.valueSerde, children: [], byNameOnly: true }, [processorName]);
}

/** Counts a late record and sends it, unchanged, to the late-records sink if there is one. */
export function dropLate<K, V>(ctx: ProcessorContext<unknown, unknown>, record: StreamRecord<K, V>, lateChild: string | undefined): void {
  ctx.recordLateDrop();
  if (lateChild) (ctx as ProcessorContext<K, V>).forward(record, lateChild);
}
