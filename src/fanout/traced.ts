/**
 * A publication pushed to clients inside a span (src/tracing), when its record carries a
 * `traceparent`: the child of whatever produced the record — for a prediction, the
 * processing of the event that last updated its window — so one trace runs from the
 * event to the WebSocket write. The push is synchronous: the span covers the writes to
 * every subscriber's socket buffer.
 */
import { SpanKind, type Tracer } from '@opentelemetry/api';
import { contextFromTraceparent } from '../tracing';
import type { Publication } from './history';

export function pushTraced(tracer: Tracer, p: Publication, push: () => void): void {
  const parent = contextFromTraceparent(p.traceparent);
  if (!parent) return push();
  const span = tracer.startSpan(
    `${p.topic} push`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': p.topic,
        'messaging.destination.partition.id': String(p.partition),
        'messaging.kafka.offset': p.offset,
        'streaming.channel': p.channel,
      },
    },
    parent,
  );
  try {
    push();
  } finally {
    span.end();
  }
}
