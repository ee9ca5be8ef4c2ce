/**
 * One input record, processed inside a CONSUMER span when it carries a `traceparent`
 * (src/tracing): the span is the child of the producer's context, and the record goes
 * through the topology with the span's own context in its headers, so every output it
 * causes — inheriting the headers — names this processing as its parent. Records without
 * a traceparent cost one header scan.
 */
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { RawRecord } from '../streams/internals/task-graph';
import { contextFromHeaders, traceparentOf, withTraceparent } from '../tracing';

export function processTraced(tracer: Tracer, r: RawRecord, process: (r: RawRecord) => void): void {
  const parent = contextFromHeaders(r.headers);
  if (!parent) return process(r);
  const span = tracer.startSpan(
    `${r.topic} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': r.topic,
        'messaging.destination.partition.id': String(r.partition),
        'messaging.kafka.offset': r.offset,
      },
    },
    parent,
  );
  try {
    process({ ...r, headers: withTraceparent(r.headers, traceparentOf(span)) });
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
