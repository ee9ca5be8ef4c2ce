import { strict as assert } from 'node:assert';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avroTypes from 'avsc';
import { loadSchema } from '../../../schemas/catalog';
import { AvroSerdes, DLQ_HEADERS, Serdes, StreamsBuilder, TopologyTestDriver } from '../../../src';
import { Decoder } from '../../../src/fanout/decode';
import { createLogger } from '../../../src/logger';
import type { AnalyticsEvent } from '../../../topologies/event';
import type { Serde } from '../../../src/serdes';
import { fakeRegistry, fifteenByteRecord, httpRegistry, wire, withLeadingBlock } from '../../support/avro-records';

const HOSTILE_ID = 100;
const event: AnalyticsEvent = {
  event_id: 'e-1',
  event_type: 'PURCHASE',
  entity_id: 'acct-1',
  user_id: null,
  session_id: null,
  event_time: 1_700_000_000_000,
  value: 9.5,
  currency: 'EUR',
  metrics: {},
  properties: {},
  source: 'test',
  schema_version: 1,
};

describe('the 15-byte record in a topology and in the fan-out decoder', () => {
  it('processor: goes to the dead-letter topic with the reason in its headers, and the next good record is processed', async () => {
    const schema = loadSchema('analytics-event.avsc');
    const avro = new AvroSerdes(fakeRegistry({ [HOSTILE_ID]: withLeadingBlock(schema, 'map') }));
    const serde = avro.serde<AnalyticsEvent>({ schema });
    const b = new StreamsBuilder();
    b.stream('events', { keySerde: Serdes.String(), valueSerde: serde })
      .mapValues((e) => `${e?.event_type} ${e?.value}`)
      .to('out', { keySerde: Serdes.String(), valueSerde: Serdes.String() });
    const driver = new TopologyTestDriver(b.build(), { applicationId: 'hostile' });
    const bad = fifteenByteRecord(HOSTILE_ID);
    await serde.prepare('events'); // the good record's schema id, as a producer registers it
    await serde.prepareBatch('events', [bad]); // what the runtime does for each batch (the test driver does not)
    const input = driver.createInputTopic('events', Serdes.String(), serde);
    const started = Date.now();
    input.pipeRawInput(Buffer.from('acct-1'), bad);
    input.pipeInput('acct-1', event);
    assert.ok(Date.now() - started < 1000);

    assert.deepEqual(driver.createOutputTopic('out', Serdes.String(), Serdes.String()).readValuesToList(), ['PURCHASE 9.5']);
    const dlq = driver.createOutputTopic('hostile-dlq', Serdes.Bytes(), Serdes.Bytes()).readRecordsToList();
    assert.equal(dlq.length, 1);
    assert.deepEqual(dlq[0]!.value, bad, 'the raw bytes, untouched');
    const header = (key: string): string | undefined => dlq[0]!.headers.find((h) => h.key === key)?.value.toString();
    assert.equal(header(DLQ_HEADERS.code), 'SA_ERR_DESERIALIZATION');
    assert.equal(
      header(DLQ_HEADERS.message),
      'a record from "events" (schema id 100) is refused before decoding: map block claims 4503599627370496 entries, but only 0 bytes are left, in field extra (byte 5 of 15)',
    );
    assert.equal(header(DLQ_HEADERS.offset), '0');
  });

  for (const file of ['ml-prediction.avsc', 'streaming-alert.avsc']) {
    it(`fan-out (${file}): the Decoder skips and counts it, and decodes the next record`, async () => {
      const schema = loadSchema(file);
      const serde = new AvroSerdes(fakeRegistry({ [HOSTILE_ID]: withLeadingBlock(schema, 'array') })).serde<unknown>({ schema });
      await serde.prepareBatch('p', [fifteenByteRecord(HOSTILE_ID)]);
      const undecodable: string[] = [];
      const decoder = new Decoder(createLogger({ level: 'silent' }), (topic) => undecodable.push(topic));
      const t = { channel: 'predictions' as const, topic: 'p', serde: serde as Serde<unknown> };
      const message = (value: Buffer, offset: number) => ({ topic: 'p', partition: 0, offset, key: Buffer.from('k'), value, timestamp: 1, headers: [] });
      assert.equal(decoder.publication(t, message(fifteenByteRecord(HOSTILE_ID), 0), 5), undefined);
      assert.deepEqual(undecodable, ['p']);
      await serde.prepare('p'); // the schema id a producer of good records writes with
      const record = serde.serialize(
        'p',
        file.startsWith('ml')
          ? {
              entity_id: 'k',
              window_start: 0,
              window_end: 1,
              score: 0.7,
              label: 'x',
              flagged: true,
              threshold: 0.5,
              model_name: 'm',
              model_version: '1',
              features: {},
              event_time: 1,
              processing_time: 2,
            }
          : {
              alert_id: 'a',
              entity_id: 'k',
              kind: 'x',
              severity: 'LOW',
              score: 0.7,
              threshold: 0.5,
              window_start: 0,
              window_end: 1,
              model_name: 'm',
              model_version: '1',
              event_time: 1,
              message: 'm',
            },
      )!;
      assert.equal((decoder.publication(t, message(record, 1), 5)!.data as { score: number }).score, 0.7);
      assert.deepEqual(undecodable, ['p']);
    });
  }
});

describe('a schema id the registry refuses to show (403, per-subject access control)', () => {
  it('processor: its records go to the dead-letter topic, the batch is not held, the next record is processed; fan-out: skipped and counted', async () => {
    const schema = loadSchema('analytics-event.avsc');
    const registry = await httpRegistry((id) =>
      id === 1 ? schema : { status: 403, body: { error_code: 40301, message: 'User is denied operation Read on Subject: secret-value' } },
    );
    try {
      const serde = new AvroSerdes(new SchemaRegistry({ host: registry.url })).serde<AnalyticsEvent>({ schema });
      const b = new StreamsBuilder();
      b.stream('events', { keySerde: Serdes.String(), valueSerde: serde })
        .mapValues((e) => `${e?.event_type}`)
        .to('out', { keySerde: Serdes.String(), valueSerde: Serdes.String() });
      const driver = new TopologyTestDriver(b.build(), { applicationId: 'refused' });
      const refused = wire(9, avroTypes.Type.forSchema(schema).toBuffer(event));
      const good = wire(1, avroTypes.Type.forSchema(schema).toBuffer(event));
      await serde.prepareBatch('events', [refused, good]); // what the runtime does for each batch: resolves, does not throw
      const input = driver.createInputTopic('events', Serdes.String(), serde);
      input.pipeRawInput(Buffer.from('acct-1'), refused);
      input.pipeRawInput(Buffer.from('acct-1'), good);
      assert.deepEqual(driver.createOutputTopic('out', Serdes.String(), Serdes.String()).readValuesToList(), ['PURCHASE']);
      const dlq = driver.createOutputTopic('refused-dlq', Serdes.Bytes(), Serdes.Bytes()).readRecordsToList();
      assert.equal(dlq.length, 1);
      assert.match(
        dlq[0]!.headers.find((h) => h.key === DLQ_HEADERS.message)!.value.toString(),
        /schema id 9 of a record from "events" cannot be fetched: the registry answered 403 \(.*denied operation Read on Subject: secret-value\)/,
      );

      const undecodable: string[] = [];
      const decoder = new Decoder(createLogger({ level: 'silent' }), (topic) => undecodable.push(topic));
      const t = { channel: 'predictions' as const, topic: 'events', serde: serde as Serde<unknown> };
      const message = (value: Buffer, offset: number) => ({ topic: 'events', partition: 0, offset, key: Buffer.from('k'), value, timestamp: 1, headers: [] });
      assert.equal(decoder.publication(t, message(refused, 0), 5), undefined);
      assert.deepEqual(undecodable, ['events']);
      assert.equal((decoder.publication(t, message(good, 1), 5)!.data as AnalyticsEvent).event_type, 'PURCHASE');
    } finally {
      await registry.close();
    }
  });
});
