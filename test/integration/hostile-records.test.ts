import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import Kafka from 'node-rdkafka';
import type avro from 'avsc';
import { loadSchema } from '../../schemas/catalog';
import { startFanout } from '../../src/app/fanout';
import { signHs256 } from '../../src/auth/jwt';
import { kafkaClientConfig, registryClientOptions, type Config } from '../../src/config';
import { AvroSerdes, DLQ_HEADERS, KafkaStreams, Serdes, StreamsBuilder } from '../../src';
import { createLogger } from '../../src/logger';
import type { AnalyticsEvent } from '../../topologies/event';
import type { MlPrediction } from '../../topologies/analytics';
import { fifteenByteRecord, varint, wire, withLeadingBlock } from '../support/avro-records';
import { call, connectedProducer, createTopic, readAll, uniqueName } from '../support/kafka';
import { useStack } from '../support/stack';
import { WsTestClient } from '../support/ws-client';

/**
 * Issue 12, finding 1 on the real broker and registry: a processor and a fan-out instance
 * that received the 15-byte record (a writer schema's leading map block claiming 2^52
 * entries) keep processing the records after it.
 */
describe('hostile Avro records on the real broker: the instances that read them keep going', function () {
  this.timeout(120_000);
  const config = useStack();
  const registry = (): SchemaRegistry => new SchemaRegistry(registryClientOptions(config().schemaRegistry));

  /** Registers the schema with a leading map under the topic's subject (compatible: the field has a default); its id. */
  async function hostileWriterId(topic: string, schema: avro.Schema): Promise<number> {
    const { id } = await registry().register({ type: SchemaType.AVRO, schema: JSON.stringify(withLeadingBlock(schema, 'map')) }, { subject: `${topic}-value` });
    return id;
  }

  async function produce(producer: Kafka.Producer, topic: string, records: [string, Buffer][]): Promise<void> {
    for (const [key, value] of records) producer.produce(topic, 0, value, Buffer.from(key), Date.now());
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
  }

  it('processor: the 15-byte record and its 21-byte sibling go to the dead-letter topic with the reason; the records after them are processed', async () => {
    const input = uniqueName('hostile-in');
    const output = uniqueName('hostile-out');
    const applicationId = uniqueName('hostile-app');
    await createTopic(config(), input, 1);
    await createTopic(config(), output, 1);
    const schema = loadSchema('analytics-event.avsc');
    const writer = new AvroSerdes(registry()).serde<AnalyticsEvent>({ schema });
    await writer.prepare(input);
    const ownId = writer.serialize(input, event(0))!.readUInt32BE(1);
    const hostileId = await hostileWriterId(input, schema);
    const fifteen = fifteenByteRecord(hostileId);
    const ownSchema = wire(ownId, [...new Array<number>(8).fill(0), ...varint(2 ** 52)]); // eight empty fields, then metrics claims 2^52 entries
    const producer = await connectedProducer(config());
    try {
      await produce(producer, input, [
        ['before', writer.serialize(input, event(1))!],
        ['fifteen', fifteen],
        ['own-schema', ownSchema],
        ...Array.from({ length: 5 }, (_, i): [string, Buffer] => [`after-${i}`, writer.serialize(input, event(10 + i))!]),
      ]);
    } finally {
      await call((cb) => producer.disconnect((err) => cb(err)));
    }

    const b = new StreamsBuilder();
    b.stream(input, { keySerde: Serdes.String(), valueSerde: new AvroSerdes(registry(), { maxRecordBytes: 64 * 1024 }).serde<AnalyticsEvent>({ schema }) })
      .mapValues((e) => `${e?.event_type}:${e?.value}`)
      .to(output, { keySerde: Serdes.String(), valueSerde: Serdes.String() });
    const streams = new KafkaStreams(b.build(), {
      applicationId,
      kafka: kafkaClientConfig(config().kafka),
      logger: createLogger({ level: 'error' }),
      handleSignals: false,
    });
    await streams.start();
    let out: Awaited<ReturnType<typeof readAll>> = [];
    try {
      const deadline = Date.now() + 60_000;
      while (out.length < 6 && Date.now() < deadline) out = await readAll(config(), output, 'read_committed', 6, 500);
      assert.equal(streams.state, 'RUNNING');
    } finally {
      await streams.close();
    }
    assert.deepEqual(
      out.map((r) => r.value),
      ['CLICK:1', 'CLICK:10', 'CLICK:11', 'CLICK:12', 'CLICK:13', 'CLICK:14'],
    );

    const dlq = await readWithHeaders(`${applicationId}-dlq`, 2);
    assert.deepEqual(
      dlq.map((d) => d.key),
      ['fifteen', 'own-schema'],
    );
    assert.deepEqual(dlq[0]!.value, fifteen);
    assert.equal(dlq[0]!.value.length, 15);
    for (const d of dlq) assert.equal(d.headers[DLQ_HEADERS.code], 'SA_ERR_DESERIALIZATION');
    assert.equal(
      dlq[0]!.headers[DLQ_HEADERS.message],
      `a record from "${input}" (schema id ${hostileId}) is refused before decoding: map block claims 4503599627370496 entries, but only 0 bytes are left, in field extra (byte 5 of 15)`,
    );
    assert.equal(
      dlq[1]!.headers[DLQ_HEADERS.message],
      `a record from "${input}" (schema id ${ownId}) is refused before decoding: map block claims 4503599627370496 entries, but only 0 bytes are left, in field metrics (byte 13 of 21)`,
    );
    assert.equal(dlq[1]!.headers[DLQ_HEADERS.offset], '2');
  });

  it('fan-out: a WebSocket client receives the predictions after the 15-byte record, and the undecodable counter rose', async () => {
    const topics = { predictions: uniqueName('hostile-p'), alerts: uniqueName('hostile-a'), metrics: uniqueName('hostile-m') };
    for (const t of Object.values(topics)) await createTopic(config(), t, 1);
    const secret = `hostile-records-${randomUUID()}`;
    const fanoutConfig: Config = {
      ...config(),
      topics: { ...config().topics, ...topics },
      websocket: { ...config().websocket, host: '127.0.0.1', port: 0, adminPort: 0 },
      auth: { ...config().auth, jwtSecret: secret },
    };
    const schema = loadSchema('ml-prediction.avsc');
    const writer = new AvroSerdes(registry()).serde<MlPrediction>({ schema });
    await writer.prepare(topics.predictions);
    const hostileId = await hostileWriterId(topics.predictions, schema);
    const app = await startFanout(fanoutConfig, createLogger({ level: 'error' }, 'hostile-fanout'));
    const producer = await connectedProducer(config());
    try {
      const token = signHs256({ sub: 'test', channels: ['*'], exp: Math.floor(Date.now() / 1000) + 600 }, secret);
      const c = await WsTestClient.connect(`${app.url.replace(/^http/, 'ws')}/ws`, { token });
      await c.request('subscribe', { channel: 'predictions' });
      const keys = ['after-0', 'after-1', 'after-2'];
      await produce(producer, topics.predictions, [
        ['fifteen', fifteenByteRecord(hostileId)],
        ...keys.map((k): [string, Buffer] => [k, writer.serialize(topics.predictions, prediction(k))!]),
      ]);
      await c.waitFor('the predictions after the 15-byte record', () => keys.every((k) => c.pushes('predictions').some((p) => p.pub.key === k)), 30_000);
      assert.ok(!c.pushes().some((p) => p.pub.key === 'fifteen'));
      assert.match(await (await fetch(`${app.adminUrl}/metrics`)).text(), new RegExp(`fanout_records_undecodable_total\\{topic="${topics.predictions}"\\} 1`));
      await c.close();
    } finally {
      await call((cb) => producer.disconnect((err) => cb(err)));
      await app.close();
    }
  });

  async function readWithHeaders(topic: string, expect: number): Promise<{ key: string; value: Buffer; headers: Record<string, string> }[]> {
    const consumer = new Kafka.KafkaConsumer(
      { ...kafkaClientConfig(config().kafka), 'group.id': uniqueName('hostile-reader'), 'isolation.level': 'read_committed', 'enable.auto.commit': false },
      { 'auto.offset.reset': 'earliest' },
    );
    await call((cb) => consumer.connect({ timeout: 15_000 }, (err) => cb(err)));
    consumer.subscribe([topic]);
    const out: Kafka.Message[] = [];
    const deadline = Date.now() + 30_000;
    while (out.length < expect && Date.now() < deadline) out.push(...(await call<Kafka.Message[]>((cb) => consumer.consume(100, cb))));
    await call((cb) => consumer.disconnect((err) => cb(err)));
    return out.map((m) => ({
      key: m.key?.toString() ?? '',
      value: m.value!,
      headers: Object.fromEntries((m.headers ?? []).flatMap((h) => Object.entries(h).map(([k, v]) => [k, v.toString()]))),
    }));
  }
});

/** Event times of today: the broker's retention (7 days by event time) would delete records from 2023 at its next check, in the middle of a test. */
const RECENT = Date.now() - 3_600_000;

function event(i: number): AnalyticsEvent {
  return {
    event_id: randomUUID(),
    event_type: 'CLICK',
    entity_id: 'acct-1',
    user_id: null,
    session_id: null,
    event_time: RECENT + i,
    value: i,
    currency: null,
    metrics: { latency_ms: i },
    properties: { page: '/' },
    source: 'test',
    schema_version: 1,
  };
}

function prediction(key: string): MlPrediction {
  return {
    entity_id: key,
    window_start: 0,
    window_end: 60_000,
    score: 0.9,
    label: 'anomaly',
    flagged: true,
    threshold: 0.5,
    model_name: 'm1',
    model_version: '1',
    features: { events: 1 },
    event_time: Date.now(),
    processing_time: Date.now(),
  };
}
