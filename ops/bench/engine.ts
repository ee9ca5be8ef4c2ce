/**
 * The engine benchmark: a stateless exactly-once pipeline, Avro in → mapValues → Avro out,
 * on the local broker.
 *   1. throughput: a backlog of N events is written first, then the application drains it;
 *      input events/s = N / (time from its first to its last committed offset);
 *   2. latency: events are produced at a steady rate while a read_committed consumer
 *      measures record timestamp → visible in the output (p50/p95/p99);
 *   CPU of this process (application + load + measuring consumer) and of the broker.
 */
import type { AnalyticsEvent, EventType } from '../../topologies/event';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { loadSchema } from '../../schemas/catalog';
import { createTopics } from '../../src/kafka';
import { kafkaClientConfig, registryClientOptions, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { KafkaStreams } from '../../src/runtime/kafka-streams';
import { AvroSerdes, Serdes } from '../../src/serdes';
import { StreamsBuilder } from '../../src/streams/dsl/builder';
import { connectProducer, cpuMeter, measureLatency, produce, waitDrained, type Say } from './load';
import { percentiles, summariseProfile } from './report';

export interface EngineBenchOptions {
  records: number;
  partitions: number;
  rate: number;
  seconds: number;
  /** The application's commitIntervalMs (the trade-off between throughput and latency). */
  commitInterval: number;
  profile: boolean;
}

/** The analytics event the topology reads: the domain's own type. */
type Event = AnalyticsEvent;
const TYPES: readonly EventType[] = ['PAGE_VIEW', 'CLICK', 'SEARCH', 'ADD_TO_CART', 'PURCHASE'];
const SUMMARY = {
  type: 'record',
  name: 'EventSummary',
  namespace: 'bench',
  fields: [
    { name: 'entity_id', type: 'string' },
    { name: 'kind', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'event_time', type: 'long' },
  ],
};

function event(i: number, now: number): Event {
  return {
    event_id: randomUUID(),
    event_type: TYPES[i % TYPES.length]!,
    entity_id: `acct-${i % 5000}`,
    user_id: `u-${i % 20000}`,
    session_id: null,
    event_time: now,
    value: i % 5 === 4 ? (i % 97) + 0.99 : null,
    currency: null,
    metrics: { latency_ms: i % 300 },
    properties: { page: '/checkout' },
    source: 'bench',
    schema_version: 1,
  };
}

export async function benchEngine(config: Config, o: EngineBenchOptions, say: Say): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const input = `bench-${id}-in`;
  const output = `bench-${id}-out`;
  const client = kafkaClientConfig(config.kafka);
  await createTopics(
    client,
    [input, output].map((name) => ({ name, partitions: o.partitions, replicationFactor: -1 })),
  );
  const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry)));
  const inSerde = avro.serde<Event>({ schema: loadSchema('analytics-event.avsc') });
  await inSerde.prepare(input);

  say(
    `engine benchmark: Avro in → mapValues → Avro out, exactly_once_v2, commit interval ${o.commitInterval} ms, ${o.partitions} partitions, on the local broker (2 cores shared by broker, application and load generator)`,
  );
  const producer = await connectProducer(client);
  const started = Date.now();
  await produce(producer, input, o.records, 0, (i) => inSerde.serialize(input, event(i, Date.now()))!);
  say(`backlog: ${o.records} events written in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const b = new StreamsBuilder();
  b.stream(input, { keySerde: Serdes.Bytes(), valueSerde: avro.serde<Event>({ schema: loadSchema('analytics-event.avsc') }) })
    .mapValues((e) => ({ entity_id: e!.entity_id, kind: e!.event_type.toLowerCase(), amount: e!.value ?? 0, event_time: e!.event_time }))
    .to(output, {
      keySerde: Serdes.Bytes(),
      valueSerde: avro.serde<{ entity_id: string; kind: string; amount: number; event_time: number }>({ schema: SUMMARY as never }),
    });
  const applicationId = `bench-${id}`;
  const streams = new KafkaStreams(b.build(), {
    applicationId,
    kafka: kafkaClientConfig(config.kafka),
    logger: createLogger({ level: 'warn' }),
    handleSignals: false,
    commitIntervalMs: o.commitInterval,
  });
  const profiler = o.profile ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const cpu = cpuMeter(config);
  await streams.start();
  const drain = await waitDrained(client, applicationId, input, o.partitions, o.records);
  const usage = cpu.stop(drain.lastMs - drain.firstMs);
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync('bench-engine.cpuprofile', JSON.stringify(profile));
    say('CPU profile of the throughput phase: bench-engine.cpuprofile (open in Chrome DevTools); top self time:');
    for (const line of summariseProfile(profile, 12)) say(`  ${line}`);
  }
  const seconds = (drain.lastMs - drain.firstMs) / 1000;
  say(`throughput: ${o.records} events committed in ${seconds.toFixed(2)} s = ${Math.round(o.records / seconds).toLocaleString('en-US')} events/s`);
  say(`  CPU during it: this process ${usage.self}% of one core (application + measuring), broker ${usage.broker}% of one core`);
  const commits = (await streams.metrics.getMetricsAsJSON()).find((m) => m.name === 'streams_commit_duration_ms')!.values as {
    metricName?: string;
    value: number;
  }[];
  const count = commits.find((v) => v.metricName === 'streams_commit_duration_ms_count')?.value ?? 0;
  const sum = commits.find((v) => v.metricName === 'streams_commit_duration_ms_sum')?.value ?? 0;
  say(
    `  commits: ${count}, mean ${(sum / Math.max(1, count)).toFixed(1)} ms each = ${Math.round((sum / (drain.lastMs - drain.firstMs)) * 100)}% of the wall time spent waiting on commits`,
  );

  const latencies = await measureLatency(client, producer, output, o, (i) => inSerde.serialize(input, event(i, Date.now()))!, input, say);
  const p = percentiles(latencies, [50, 95, 99]);
  say(
    `latency at ${o.rate} events/s for ${o.seconds} s (record timestamp → visible read_committed): p50 ${p[0]} ms, p95 ${p[1]} ms, p99 ${p[2]} ms (${latencies.length} of ${o.rate * o.seconds} records seen)`,
  );
  await streams.close();
  await new Promise<void>((r) => producer.disconnect(() => r()));
}
