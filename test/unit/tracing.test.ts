import { strict as assert } from 'node:assert';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { processTraced } from '../../src/runtime/traced';
import type { RawRecord } from '../../src/streams/internals/task-graph';
import { contextFromHeaders, TRACEPARENT, withTraceparent } from '../../src/tracing';

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const header = (value: string) => [{ key: TRACEPARENT, value: Buffer.from(value) }];

describe('trace context in Kafka headers', () => {
  it('reads a valid traceparent, and ignores a missing, malformed or oversized one', () => {
    assert.equal(trace.getSpanContext(contextFromHeaders(header(PARENT))!)?.traceId, '0af7651916cd43dd8448eb211c80319c');
    for (const bad of ['', 'garbage', '00-00000000000000000000000000000000-b7ad6b7169203331-01', `${PARENT}${'x'.repeat(200)}`])
      assert.equal(contextFromHeaders(header(bad)), undefined, bad);
    assert.equal(contextFromHeaders([]), undefined);
  });

  it('replaces the traceparent and keeps the other headers', () => {
    const out = withTraceparent([{ key: 'a', value: Buffer.from('1') }, ...header(PARENT)], 'new');
    assert.deepEqual(
      out.map((h) => [h.key, h.value.toString()]),
      [
        ['a', '1'],
        [TRACEPARENT, 'new'],
      ],
    );
  });

  it('processes a record with a traceparent in a child span whose context the record then carries; one without, untouched', () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test');
    const record: RawRecord = { topic: 'in', partition: 1, offset: 7, key: null, value: null, timestamp: 0, headers: header(PARENT) };
    let seen: RawRecord | undefined;
    processTraced(tracer, record, (r) => (seen = r));
    const [span] = exporter.getFinishedSpans();
    assert.equal(span!.name, 'in process');
    assert.equal(span!.parentSpanContext?.spanId, 'b7ad6b7169203331');
    assert.equal(contextFromHeaders(seen!.headers) && trace.getSpanContext(contextFromHeaders(seen!.headers)!)?.spanId, span!.spanContext().spanId);
    const plain = { ...record, headers: [] };
    processTraced(tracer, plain, (r) => (seen = r));
    assert.equal(seen, plain);
    assert.equal(exporter.getFinishedSpans().length, 1);
  });
});
