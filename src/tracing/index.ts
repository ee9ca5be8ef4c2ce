/**
 * Tracing with OpenTelemetry, off unless an OTLP endpoint is configured
 * (STREAMING_TRACING__OTLP_ENDPOINT). The context travels in Kafka record headers as a
 * W3C `traceparent`: the generator (or any producer) starts a trace per event; the
 * processor runs each record that carries one in a CONSUMER span and hands that span's
 * context on in the record's headers, which outputs inherit (so a prediction names the
 * processing of the event that last updated its window); the fan-out pushes each
 * publication that carries one in a span of its own. Sampling follows the parent
 * (whoever started the trace decided), and roots are sampled at SAMPLE_PERCENT. Each
 * service has its own tracer provider — none is registered globally, so several in one
 * process (the tests) stay apart.
 */
import { ROOT_CONTEXT, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { Headers } from '../kafka';

export const TRACEPARENT = 'traceparent';
/** A traceparent is 55 characters; anything much longer is not one (and is not parsed). */
const MAX_TRACEPARENT = 128;
const propagator = new W3CTraceContextPropagator();
const getter = { get: (c: Record<string, string>, k: string) => c[k], keys: (c: Record<string, string>) => Object.keys(c) };
const setter = { set: (c: Record<string, string>, k: string, v: string) => void (c[k] = v) };

export interface Tracing {
  tracer: Tracer;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTLP/HTTP base URL, e.g. http://otel-collector:4318 (spans go to <url>/v1/traces). */
  endpoint: string;
  serviceName: string;
  /** Share of new traces (roots) recorded, 0–100; a trace begun elsewhere follows its own flag. */
  samplePercent: number;
}

export function startTracing(o: TracingOptions): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.samplePercent / 100) }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${o.endpoint.replace(/\/+$/, '')}/v1/traces`, timeoutMillis: 5_000 }))],
  });
  return { tracer: provider.getTracer('streaming-analytics'), shutdown: () => provider.shutdown() };
}

/** The context a record's `traceparent` header names, or undefined (none, or not a valid one). */
export function contextFromHeaders(headers: Headers | undefined): Context | undefined {
  const header = headers?.find((h) => h.key === TRACEPARENT);
  if (!header || header.value.length > MAX_TRACEPARENT) return undefined;
  return contextFromTraceparent(header.value.toString('latin1'));
}

export function contextFromTraceparent(value: string | undefined): Context | undefined {
  if (value === undefined || value.length > MAX_TRACEPARENT) return undefined;
  const ctx = propagator.extract(ROOT_CONTEXT, { [TRACEPARENT]: value }, getter);
  return trace.getSpanContext(ctx) ? ctx : undefined;
}

/** The `traceparent` that makes `span` the parent of what comes next. */
export function traceparentOf(span: Span): string {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, setter);
  return carrier[TRACEPARENT]!;
}

/** `headers` with the `traceparent` replaced (or added). */
export function withTraceparent(headers: Headers, value: string): Headers {
  return [...headers.filter((h) => h.key !== TRACEPARENT), { key: TRACEPARENT, value: Buffer.from(value, 'latin1') }];
}
