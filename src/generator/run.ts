/**
 * Runs the event generator in real time against Kafka: events in Avro (the registered
 * analytics-event schema) on the events topic, keyed by entity_id, with the event time as
 * the record timestamp. The rate is reached by simulating as many entities as it takes
 * (measured on the generator itself at start), so the events keep their structure —
 * sessions, bursts, the few attackers — at any rate. A progress line every 5 s.
 */
import { rdkafkaClients, type Headers, type Producer } from '../kafka';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { loadSchema } from '../../schemas/catalog';
import { kafkaClientConfig, registryClientOptions, type Config } from '../config';
import { StreamingError } from '../errors';
import { AvroSerdes } from '../serdes';
import type { AnalyticsEvent } from '../../topologies/event';
import { EventGenerator } from './events';
import { SpanKind } from '@opentelemetry/api';
import { startTracing, traceparentOf, TRACEPARENT } from '../tracing';

export interface GeneratorRun {
  config: Config;
  /** Events per second to aim at. */
  rate: number;
  /** Stop after this many seconds (default: until `signal` aborts). */
  durationS?: number;
  seed?: number;
  say: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Events are sent in ticks of this many ms, each with its own event time: an event waits at
 * most a tick before it is sent, as a real source sends events as they happen. (At 100 ms
 * the wait was half of npm start's event → dashboard p50, measured by npm run bench -- e2e.)
 */
const TICK_MS = 10;

/** Events per second one simulated entity produces on average (a quick simulation of the generator itself). */
export function eventsPerEntitySecond(): number {
  const start = Date.UTC(2026, 0, 1);
  const entities = 1_000;
  const hours = 2;
  const n = new EventGenerator({ seed: 1, entities, startMs: start }).eventsBetween(start + 3_600_000, start + (hours + 1) * 3_600_000).length;
  return n / (entities * hours * 3_600);
}

/**
 * Fast-forwards a generator to the present: events before now are generated and dropped,
 * repeatedly, until the simulation is within 50 ms of the wall clock (fast-forwarding many
 * entities takes a while itself). A generator that cannot keep up with the clock gives up
 * after ten rounds rather than chasing it forever. Returns the simulated time reached.
 */
export function catchUp(generator: EventGenerator, clock: () => number = Date.now): number {
  let at = clock();
  generator.eventsBetween(at, at);
  for (let round = 0; round < 10 && clock() - at > 50; round++) {
    at = clock();
    generator.eventsBetween(at, at);
  }
  return at;
}

export async function runGenerator(o: GeneratorRun): Promise<{ sent: number }> {
  const entities = Math.max(1, Math.round(o.rate / eventsPerEntitySecond()));
  const topic = o.config.topics.events;
  const serde = new AvroSerdes(new SchemaRegistry(registryClientOptions(o.config.schemaRegistry))).serde<AnalyticsEvent>({
    schema: loadSchema('analytics-event.avsc'),
  });
  try {
    await serde.prepare(topic);
  } catch (cause) {
    throw new StreamingError('SA_ERR_SCHEMA_REGISTRATION', `cannot get a schema id for ${topic}-value: ${(cause as Error).message}`, {
      cause,
      hint: 'start the registry (npm run stack -- up) or register the schemas (npm run schemas -- register)',
    });
  }
  const settings = {
    ...kafkaClientConfig(o.config.kafka),
    'enable.idempotence': true,
    // Batches of a few ms (a tick is 10 ms): the latency a dashboard sees starts at the event time.
    'linger.ms': 5,
    'queue.buffering.max.messages': 1_000_000,
    'delivery.report.only.error': true,
  };
  const producer = await rdkafkaClients.producer(settings, { javaPartitioner: true, pollIntervalMs: 100, connectTimeoutMs: 15_000 }).catch((err: unknown) => {
    throw new StreamingError('SA_ERR_KAFKA_UNREACHABLE', `the generator cannot reach Kafka: ${(err as Error).message}`, { cause: err });
  });
  const tracing = o.config.tracing.otlpEndpoint
    ? startTracing({ endpoint: o.config.tracing.otlpEndpoint, serviceName: 'streaming-analytics-generator', samplePercent: o.config.tracing.samplePercent })
    : undefined;
  const generator = new EventGenerator({ seed: o.seed ?? Date.now() % 1_000_000, entities, startMs: Date.now() - 900_000 });
  const now = catchUp(generator); // a quarter of an hour simulated first: sessions and bursts are under way
  o.say(
    `generator: ${entities.toLocaleString('en-US')} simulated entities for about ${o.rate.toLocaleString('en-US')} events/s → ${topic}${o.durationS ? ` for ${o.durationS} s` : ''}`,
  );
  let sent = 0;
  let last = now;
  let lastReport = now;
  let sentAtReport = 0;
  const until = o.durationS ? now + o.durationS * 1000 : Infinity;
  try {
    while (!o.signal?.aborted && last < until) {
      await new Promise((r) => setTimeout(r, TICK_MS));
      const to = Math.min(Date.now(), until);
      for (const e of generator.eventsBetween(last, to)) {
        const { anomalous: _label, ...event } = e;
        // A sampled event starts a trace: its send span's context travels in the record's headers.
        const span = tracing?.tracer.startSpan(`${topic} send`, {
          kind: SpanKind.PRODUCER,
          attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': topic },
        });
        const headers: Headers | undefined = span?.isRecording() ? [{ key: TRACEPARENT, value: Buffer.from(traceparentOf(span)) }] : undefined;
        await produce(producer, topic, serde.serialize(topic, event), e.entity_id, e.event_time, headers);
        span?.end();
        sent++;
      }
      last = to;
      if (to - lastReport >= 5_000) {
        o.say(
          `generator: ${sent.toLocaleString('en-US')} events sent, ${Math.round(((sent - sentAtReport) * 1000) / (to - lastReport)).toLocaleString('en-US')}/s over the last ${Math.round((to - lastReport) / 1000)} s`,
        );
        lastReport = to;
        sentAtReport = sent;
      }
    }
  } finally {
    await producer.flush(10_000).catch(() => undefined);
    await producer.disconnect(5_000);
    await tracing?.shutdown().catch(() => undefined);
  }
  o.say(`generator: done, ${sent.toLocaleString('en-US')} events sent`);
  return { sent };
}

async function produce(producer: Producer, topic: string, value: Buffer | null, key: string, timestamp: number, headers?: Headers): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      producer.produce(topic, null, value, Buffer.from(key), timestamp, headers);
      return;
    } catch (err) {
      if (attempt >= 200) throw err;
      await new Promise((r) => setTimeout(r, 10)); // the local queue is full: let the broker catch up
    }
  }
}
