/**
 * The engine benchmark: a stateless exactly-once pipeline, Avro in → mapValues → Avro out,
 * on the local broker.
 *   1. throughput: a backlog of N events is written first, then the application drains it;
 *      input events/s = N / (time from its first to its last committed offset);
 *   2. latency: events are produced at a steady rate while a read_committed consumer
 *      measures record timestamp → visible in the output (p50/p95/p99);
 *   CPU of this process (application + load + measuring consumer) and of the broker.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import Kafka from 'node-rdkafka';
import { brokerNodes } from '../kafka/broker';
import { runningPid } from '../kafka/process';
import { loadSchema } from '../../schemas/catalog';
import { createTopics } from '../../src/admin/topics';
import { JAVA_PARTITIONER } from '../../src/config/clients';
import { kafkaClientConfig, registryClientOptions, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { KafkaStreams } from '../../src/runtime/kafka-streams';
import { AvroSerdes, Serdes } from '../../src/serdes';
import { StreamsBuilder } from '../../src/streams/builder';
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

type Say = (line: string) => void;

interface Event { event_id: string; event_type: string; entity_id: string; user_id: string | null; session_id: string | null; event_time: number; value: number | null; currency: string | null; metrics: Record<string, number>; properties: Record<string, string>; source: string; schema_version: number }
const TYPES = ['PAGE_VIEW', 'CLICK', 'SEARCH', 'ADD_TO_CART', 'PURCHASE'];
const SUMMARY = { type: 'record', name: 'EventSummary', namespace: 'bench', fields: [{ name: 'entity_id', type: 'string' }, { name: 'kind', type: 'string' }, { name: 'amount', type: 'double' }, { name: 'event_time', type: 'long' }] };

function event(i: number, now: number): Event {
  return { event_id: randomUUID(), event_type: TYPES[i % TYPES.length]!, entity_id: `acct-${i % 5000}`, user_id: `u-${i % 20000}`, session_id: null, event_time: now, value: i % 5 === 4 ? (i % 97) + 0.99 : null, currency: null, metrics: { latency_ms: i % 300 }, properties: { page: '/checkout' }, source: 'bench', schema_version: 1 };
}

export async function benchEngine(config: Config, o: EngineBenchOptions, say: Say): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const input = `bench-${id}-in`;
  const output = `bench-${id}-out`;
  const client = kafkaClientConfig(config.kafka);
  await createTopics(client, [input, output].map((name) => ({ name, partitions: o.partitions, replicationFactor: -1 })));
  const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry)));
  const inSerde = avro.serde<Event>({ schema: loadSchema('analytics-event.avsc') });
  await inSerde.prepare(input);

  say(`engine benchmark: Avro in → mapValues → Avro out, exactly_once_v2, commit interval ${o.commitInterval} ms, ${o.partitions} partitions, on the local broker (2 cores shared by broker, application and load generator)`);
  const producer = await connectProducer(client);
  let started = Date.now();
  await produce(producer, input, o.records, 0, (i) => inSerde.serialize(input, event(i, Date.now()))!);
  say(`backlog: ${o.records} events written in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const b = new StreamsBuilder();
  b.stream(input, { keySerde: Serdes.Bytes(), valueSerde: avro.serde<Event>({ schema: loadSchema('analytics-event.avsc') }) })
    .mapValues((e) => ({ entity_id: e!.entity_id, kind: e!.event_type.toLowerCase(), amount: e!.value ?? 0, event_time: e!.event_time }))
    .to(output, { keySerde: Serdes.Bytes(), valueSerde: avro.serde<{ entity_id: string; kind: string; amount: number; event_time: number }>({ schema: SUMMARY as never }) });
  const applicationId = `bench-${id}`;
  const streams = new KafkaStreams(b.build(), { applicationId, kafka: config.kafka, logger: createLogger({ level: 'warn' }), handleSignals: false, commitIntervalMs: o.commitInterval });
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
  const commits = (await streams.metrics.getMetricsAsJSON()).find((m) => m.name === 'streams_commit_duration_ms')!.values as { metricName?: string; value: number }[];
  const count = commits.find((v) => v.metricName === 'streams_commit_duration_ms_count')?.value ?? 0;
  const sum = commits.find((v) => v.metricName === 'streams_commit_duration_ms_sum')?.value ?? 0;
  say(`  commits: ${count}, mean ${(sum / Math.max(1, count)).toFixed(1)} ms each = ${Math.round((sum / (drain.lastMs - drain.firstMs)) * 100)}% of the wall time spent waiting on commits`);

  const latencies = await measureLatency(client, producer, output, o, (i) => inSerde.serialize(input, event(i, Date.now()))!, input, say);
  const p = percentiles(latencies, [50, 95, 99]);
  say(`latency at ${o.rate} events/s for ${o.seconds} s (record timestamp → visible read_committed): p50 ${p[0]} ms, p95 ${p[1]} ms, p99 ${p[2]} ms (${latencies.length} of ${o.rate * o.seconds} records seen)`);
  await streams.close();
  await new Promise<void>((r) => producer.disconnect(() => r()));
}

async function connectProducer(client: Record<string, string | number | boolean>): Promise<Kafka.Producer> {
  const producer = new Kafka.Producer({ ...client, 'linger.ms': 10, 'batch.num.messages': 10_000, 'queue.buffering.max.messages': 1_000_000, 'enable.idempotence': true } as Kafka.ProducerGlobalConfig, JAVA_PARTITIONER);
  await new Promise<void>((ok, fail) => producer.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  producer.setPollInterval(50);
  return producer;
}

/** Writes `count` events; with a rate, paces them in 1 ms steps. */
async function produce(producer: Kafka.Producer, topic: string, count: number, rate: number, value: (i: number) => Buffer): Promise<void> {
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    for (;;) {
      try {
        producer.produce(topic, null, value(i), Buffer.from(`acct-${i % 5000}`), Date.now());
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    if (rate > 0 && i % 100 === 99) await new Promise((r) => setTimeout(r, Math.max(0, started + ((i + 1) / rate) * 1000 - Date.now())));
  }
  await new Promise<void>((ok, fail) => producer.flush(60_000, (err) => (err ? fail(err) : ok())));
}

async function waitDrained(client: Record<string, string | number | boolean>, groupId: string, topic: string, partitions: number, total: number): Promise<{ firstMs: number; lastMs: number }> {
  const consumer = new Kafka.KafkaConsumer({ ...client, 'group.id': groupId, 'enable.auto.commit': false } as Kafka.ConsumerGlobalConfig, {});
  await new Promise<void>((ok, fail) => consumer.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
  let firstMs = 0;
  try {
    for (;;) {
      const committed = await new Promise<{ offset?: number }[]>((ok, fail) => consumer.committed(tps, 5_000, (err, r) => (err ? fail(err) : ok(r))));
      const done = committed.reduce((a, c) => a + Math.max(0, c.offset ?? 0), 0);
      if (done > 0 && firstMs === 0) firstMs = Date.now();
      if (done >= total) return { firstMs, lastMs: Date.now() };
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await new Promise<void>((r) => consumer.disconnect(() => r()));
  }
}

async function measureLatency(client: Record<string, string | number | boolean>, producer: Kafka.Producer, output: string, o: EngineBenchOptions, value: (i: number) => Buffer, input: string, say: Say): Promise<number[]> {
  const consumer = new Kafka.KafkaConsumer({ ...client, 'group.id': `latency-${randomUUID()}`, 'isolation.level': 'read_committed', 'enable.auto.commit': false, 'fetch.wait.max.ms': 10 } as Kafka.ConsumerGlobalConfig, {});
  await new Promise<void>((ok, fail) => consumer.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  // From the current end of every partition, fixed before the first measured record is
  // produced: every one of them is then read (none skipped by a late offset look-up).
  const ends = await Promise.all(Array.from({ length: o.partitions }, (_, partition) =>
    new Promise<number>((ok, fail) => consumer.queryWatermarkOffsets(output, partition, 10_000, (err, w) => (err ? fail(err) : ok(w.highOffset))))));
  consumer.assign(ends.map((offset, partition) => ({ topic: output, partition, offset })));
  consumer.setDefaultConsumeTimeout(20);
  const latencies: number[] = [];
  let stop = false;
  const reading = (async () => {
    while (!stop || latencies.length < o.rate * o.seconds) {
      const batch = await new Promise<Kafka.Message[]>((ok) => consumer.consume(1000, (err, m) => ok(err ? [] : m)));
      const now = Date.now();
      for (const m of batch) latencies.push(now - (m.timestamp ?? now));
      if (stop && batch.length === 0) break;
    }
  })();
  say(`latency phase: producing ${o.rate} events/s for ${o.seconds} s…`);
  await produce(producer, input, o.rate * o.seconds, o.rate, value);
  await new Promise((r) => setTimeout(r, 2_000));
  stop = true;
  await reading;
  await new Promise<void>((r) => consumer.disconnect(() => r()));
  return latencies;
}

function cpuMeter(config: Config): { stop(wallMs: number): { self: number; broker: number } } {
  const self = process.cpuUsage();
  const pid = runningPid(brokerNodes(config.stack)[0]!.pidFile);
  const brokerTicks = (): number => {
    if (pid === undefined) return NaN;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const broker0 = brokerTicks();
  return {
    stop(wallMs: number) {
      const used = process.cpuUsage(self);
      return {
        self: Math.round(((used.user + used.system) / 1000 / wallMs) * 100),
        broker: Math.round((((brokerTicks() - broker0) * 10) / wallMs) * 100),
      };
    },
  };
}
