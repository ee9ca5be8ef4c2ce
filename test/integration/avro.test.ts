import { strict as assert } from 'node:assert';
import { JAVA_PARTITIONER } from '../../src/kafka';
import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import Kafka from 'node-rdkafka';
import { kafkaClientConfig, registryClientOptions } from '../../src/config';
import { AvroSerdes, DLQ_HEADERS, KafkaStreams, SerdeError, Serdes, StreamsBuilder } from '../../src';
import { createLogger } from '../../src/logger';
import { loadSchema } from '../../schemas/catalog';
import { call, createTopic, readAll, uniqueName } from '../support/kafka';
import { useStack } from '../support/stack';
import { runTs } from '../support/cli';
import type { AnalyticsEvent } from '../../topologies/event';

/** Event times of today: the broker's retention (7 days by event time) would delete records from 2023 at its next check, in the middle of a test. */
const RECENT = Date.now() - 3_600_000;

function event(i: number): AnalyticsEvent {
  return {
    event_id: randomUUID(),
    event_type: i % 7 === 0 ? 'PURCHASE' : 'PAGE_VIEW',
    entity_id: `acct-${i % 5}`,
    user_id: `u-${i}`,
    session_id: null,
    event_time: RECENT + i,
    value: i % 7 === 0 ? 19.99 : null,
    currency: i % 7 === 0 ? 'EUR' : null,
    metrics: { latency_ms: i },
    properties: { page: `/p/${i}` },
    source: 'test',
    schema_version: 1,
  };
}

describe('Avro serdes with the real schema registry', function () {
  this.timeout(120_000);
  const config = useStack();
  const schema = loadSchema('analytics-event.avsc');
  const avro = (): AvroSerdes => new AvroSerdes(new SchemaRegistry(registryClientOptions(config().schemaRegistry)));

  it('round-trips an analytics event in the Confluent wire format; a fresh client decodes it after prepareBatch', async () => {
    const topic = uniqueName('avro-rt');
    const writer = avro().serde<AnalyticsEvent>({ schema });
    await writer.prepare(topic);
    const e = event(7);
    const bytes = writer.serialize(topic, e)!;
    assert.equal(bytes[0], 0);
    const registryId = await new SchemaRegistry(registryClientOptions(config().schemaRegistry)).getLatestSchemaId(`${topic}-value`);
    assert.equal(bytes.readUInt32BE(1), registryId);

    const reader = avro().serde<AnalyticsEvent>({ schema });
    assert.throws(
      () => reader.deserialize(topic, bytes),
      (err: unknown) => err instanceof SerdeError && /unknown/.test(err.message),
    );
    await reader.prepareBatch(topic, [bytes, null]);
    assert.deepEqual({ ...reader.deserialize(topic, bytes) }, e);
  });

  it('reads records written with an older schema into the new one, filling defaults', async () => {
    const topic = uniqueName('avro-evolve');
    const v1 = {
      type: 'record',
      name: 'AnalyticsEvent',
      namespace: 'io.streaminganalytics.events',
      fields: [
        { name: 'event_id', type: 'string' },
        { name: 'entity_id', type: 'string' },
        { name: 'event_time', type: 'long' },
      ],
    } as const;
    const old = avro().serde<{ event_id: string; entity_id: string; event_time: number }>({ schema: v1 as never });
    await old.prepare(topic);
    const bytes = old.serialize(topic, { event_id: 'e-1', entity_id: 'acct-1', event_time: 5 })!;
    const current = avro().serde<AnalyticsEvent>({ schema });
    await current.prepare(topic); // BACKWARD-compatible new version of the subject
    await current.prepareBatch(topic, [bytes]);
    const read = current.deserialize(topic, bytes)!;
    assert.equal(read.entity_id, 'acct-1');
    assert.equal(read.event_type, 'OTHER');
    assert.equal(read.value, null);
    assert.deepEqual({ ...read.metrics }, {});
    assert.equal(read.source, 'unknown');
  });

  it('names the field when a value does not match, and refuses bytes that are not the wire format', async () => {
    const topic = uniqueName('avro-bad');
    const serde = avro().serde<AnalyticsEvent>({ schema });
    await serde.prepare(topic);
    assert.throws(
      () => serde.serialize(topic, { ...event(1), entity_id: 42 as unknown as string }),
      (err: unknown) => err instanceof SerdeError && /at entity_id/.test(err.message),
    );
    assert.throws(
      () => serde.deserialize(topic, Buffer.from('{"json":true}')),
      (err: unknown) => err instanceof SerdeError && /wire format/.test(err.message),
    );
    // Records larger than the serde's reusable encoding buffer, and a normal one after them, round-trip.
    for (const size of [40_000, 200_000, 10]) {
      const big = { ...event(2), properties: { note: 'x'.repeat(size) } };
      assert.equal(serde.deserialize(topic, serde.serialize(topic, big))!.properties.note!.length, size);
    }
  });

  it('runs Avro in → mapValues → Avro out under exactly-once, with a poison pill sent to the dead-letter topic', async () => {
    const input = uniqueName('avro-in');
    const output = uniqueName('avro-out');
    const applicationId = uniqueName('avro-app');
    await createTopic(config(), input, 2);
    await createTopic(config(), output, 2);
    const inSerde = avro().serde<AnalyticsEvent>({ schema });
    await inSerde.prepare(input);
    const producer = new Kafka.Producer({ ...kafkaClientConfig(config().kafka) } as Kafka.ProducerGlobalConfig, JAVA_PARTITIONER);
    await call((cb) => producer.connect({ timeout: 15_000 }, (err) => cb(err)));
    for (let i = 0; i < 200; i++) {
      const e = event(i);
      producer.produce(input, null, inSerde.serialize(input, e), Buffer.from(e.entity_id), e.event_time);
      if (i === 100) producer.produce(input, 0, Buffer.from('not avro at all'), Buffer.from('poison'), Date.now());
    }
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await call((cb) => producer.disconnect((err) => cb(err)));

    const summary = {
      type: 'record',
      name: 'EventSummary',
      fields: [
        { name: 'entity_id', type: 'string' },
        { name: 'kind', type: 'string' },
        { name: 'amount', type: 'double' },
      ],
    };
    const b = new StreamsBuilder();
    b.stream(input, { keySerde: Serdes.String(), valueSerde: avro().serde<AnalyticsEvent>({ schema }) })
      .filter((_k, v): v is AnalyticsEvent => v !== null)
      .mapValues((v) => ({ entity_id: v.entity_id, kind: v.event_type.toLowerCase(), amount: v.value ?? 0 }))
      .to(output, { keySerde: Serdes.String(), valueSerde: avro().serde<{ entity_id: string; kind: string; amount: number }>({ schema: summary as never }) });
    const streams = new KafkaStreams(b.build(), {
      applicationId,
      kafka: kafkaClientConfig(config().kafka),
      logger: createLogger({ level: 'warn' }),
      handleSignals: false,
    });
    await streams.start();
    let out: Awaited<ReturnType<typeof readAll>> = [];
    try {
      const deadline = Date.now() + 60_000;
      while (out.length < 200 && Date.now() < deadline) out = await readAll(config(), output, 'read_committed', 0, 500);
    } finally {
      await streams.close();
    }
    assert.equal(out.length, 200);
    const decoder = avro().serde<{ entity_id: string; kind: string; amount: number }>({ schema: summary as never });
    const raw = await readRaw(output, 200);
    await decoder.prepareBatch(output, raw);
    const decoded = raw.map((r) => decoder.deserialize(output, r)!);
    assert.equal(decoded.filter((d) => d.kind === 'purchase').length, 29, `${decoded.length} decoded, e.g. ${JSON.stringify(decoded.slice(0, 3))}`);
    assert.ok(decoded.every((d) => d.kind !== 'purchase' || d.amount === 19.99));

    const dlq = await readAllWithHeaders(`${applicationId}-dlq`, 1);
    assert.equal(dlq.length, 1);
    assert.equal(dlq[0]!.value, 'not avro at all');
    assert.equal(dlq[0]!.headers[DLQ_HEADERS.code], 'SA_ERR_DESERIALIZATION');
    assert.equal(dlq[0]!.headers[DLQ_HEADERS.topic], input);
    assert.equal(dlq[0]!.headers[DLQ_HEADERS.partition], '0');
    assert.match(dlq[0]!.headers[DLQ_HEADERS.message]!, /not in the Confluent Avro wire format/);
  });

  async function readRaw(topic: string, expectAtLeast: number): Promise<Buffer[]> {
    return (await consumeAll(topic, expectAtLeast)).map((m) => m.value!);
  }

  async function readAllWithHeaders(topic: string, expectAtLeast: number): Promise<{ value: string; headers: Record<string, string> }[]> {
    return (await consumeAll(topic, expectAtLeast)).map((m) => ({
      value: m.value!.toString(),
      headers: Object.fromEntries((m.headers ?? []).flatMap((h) => Object.entries(h).map(([k, v]) => [k, v.toString()]))),
    }));
  }

  /** Every record of the topic: at least `expectAtLeast` (joining the group on a fresh broker can take seconds), then until 2 s pass without one. */
  async function consumeAll(topic: string, expectAtLeast: number): Promise<Kafka.Message[]> {
    const consumer = new Kafka.KafkaConsumer(
      { ...kafkaClientConfig(config().kafka), 'group.id': uniqueName('avro-reader'), 'isolation.level': 'read_committed', 'enable.auto.commit': false },
      { 'auto.offset.reset': 'earliest' },
    );
    await call((cb) => consumer.connect({ timeout: 15_000 }, (err) => cb(err)));
    consumer.subscribe([topic]);
    const out: Kafka.Message[] = [];
    let quietSince = Date.now();
    const deadline = Date.now() + 30_000;
    while ((out.length < expectAtLeast && Date.now() < deadline) || Date.now() - quietSince < 2_000) {
      const batch = await call<Kafka.Message[]>((cb) => consumer.consume(500, cb));
      if (batch.length > 0) quietSince = Date.now();
      out.push(...batch);
    }
    await call((cb) => consumer.disconnect((err) => cb(err)));
    return out;
  }
});

describe('npm run schemas (real registry)', function () {
  this.timeout(60_000);
  useStack();

  it('registers the catalogue under <topic>-value, idempotently', async () => {
    const topic = uniqueName('schemas-cli');
    const env = { ...process.env, STREAMING_TOPICS__EVENTS: topic };
    const first = await runTs('schemas/register.ts', ['register'], env);
    assert.equal(first.code, 0, first.stderr);
    const m = new RegExp(`^registered schemas/analytics-event\\.avsc as ${topic}-value \\(id (\\d+)\\)$`, 'm').exec(first.stdout);
    assert.ok(m, first.stdout);
    const again = await runTs('schemas/register.ts', ['register'], env);
    assert.match(again.stdout, new RegExp(`as ${topic}-value \\(id ${m[1]}\\)`), 'the same schema keeps its id');
  });

  it('answers an unknown command with the usage', async () => {
    const res = await runTs('schemas/register.ts', ['upload'], process.env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^SA_ERR_USAGE: unknown command "upload"\n {2}→ usage: npm run schemas -- register\|list/);
  });
});
