import { strict as assert } from 'node:assert';
import type avro from 'avsc';
import { loadSchema } from '../../../schemas/catalog';
import { AvroSerde, AvroSerdes, SerdeError } from '../../../src/serdes';
import { fakeRegistry, fifteenByteRecord, varint, wire, withLeadingBlock } from '../../support/avro-records';

/**
 * Records that claim more than they hold (issue 12, finding 1): each must end at once
 * in a SerdeError that says what was wrong and where, before avsc loops over a count.
 */
const SCHEMAS = ['analytics-event.avsc', 'ml-prediction.avsc', 'streaming-alert.avsc'] as const;
/** Zero bytes that encode every field before the schema's own map (empty strings, 0, null branches). */
const BEFORE_MAP: Record<string, number | undefined> = { 'analytics-event.avsc': 8, 'ml-prediction.avsc': 23, 'streaming-alert.avsc': undefined };
const LEADING_MAP = 100;
const LEADING_ARRAY = 101;
const FAST_MS = 500;

async function serdeFor(file: string, options: { maxRecordBytes?: number } = {}): Promise<{ serde: AvroSerde<unknown>; ownId: number }> {
  const schema = loadSchema(file);
  const serde = new AvroSerdes(
    fakeRegistry({ [LEADING_MAP]: withLeadingBlock(schema, 'map'), [LEADING_ARRAY]: withLeadingBlock(schema, 'array') }),
    options,
  ).serde<unknown>({ schema });
  await serde.prepare('t');
  const ownId = (serialized(serde) ?? Buffer.alloc(5)).readUInt32BE(1);
  await serde.prepareBatch('t', [wire(LEADING_MAP, []), wire(LEADING_ARRAY, [])]);
  return { serde, ownId };
}

function serialized(serde: AvroSerde<unknown>): Buffer | null {
  return serde.serialize('t', sample(serde.name));
}

function sample(name: string): unknown {
  if (name.includes('AnalyticsEvent'))
    return {
      event_id: 'e-1',
      event_type: 'CLICK',
      entity_id: 'acct-1',
      user_id: 'u',
      session_id: null,
      event_time: 5,
      value: 2.5,
      currency: 'EUR',
      metrics: { a: 1 },
      properties: { p: 'q' },
      source: 'web',
      schema_version: 1,
    };
  if (name.includes('MlPrediction'))
    return {
      entity_id: 'acct-1',
      window_start: 0,
      window_end: 60_000,
      score: 0.9,
      label: 'anomaly',
      flagged: true,
      threshold: 0.5,
      model_name: 'm',
      model_version: '1',
      features: { events: 3 },
      event_time: 5,
      processing_time: 6,
    };
  return {
    alert_id: 'a@0',
    entity_id: 'acct-1',
    kind: 'anomaly',
    severity: 'HIGH',
    score: 0.9,
    threshold: 0.5,
    window_start: 0,
    window_end: 60_000,
    model_name: 'm',
    model_version: '1',
    event_time: 5,
    message: 'm',
  };
}

/** Refused quickly with a SerdeError whose message matches. */
function assertRefused(serde: AvroSerde<unknown>, bytes: Buffer, message: RegExp): void {
  const started = Date.now();
  assert.throws(
    () => serde.deserialize('t', bytes),
    (err: unknown) => err instanceof SerdeError && message.test(err.message),
  );
  assert.ok(Date.now() - started < FAST_MS, `refused in ${Date.now() - started} ms`);
}

describe('Avro serde: records that claim more than they hold', () => {
  for (const file of SCHEMAS) {
    describe(file, () => {
      it('the 15-byte record (a leading map or array block claiming 2^52 entries) is refused at once, naming the block', async () => {
        const { serde } = await serdeFor(file);
        const map = fifteenByteRecord(LEADING_MAP);
        assert.equal(map.length, 15);
        assertRefused(
          serde,
          map,
          /schema id 100\) is refused before decoding: map block claims 4503599627370496 entries, but only 0 bytes are left, in field extra \(byte 5 of 15\)/,
        );
        assertRefused(serde, fifteenByteRecord(LEADING_ARRAY), /array block claims 4503599627370496 entries, but only 0 bytes are left, in field extra/);
      });

      it('2^26 entries (seconds of looping in avsc) and a negative count with a huge byte size are refused too', async () => {
        const { serde } = await serdeFor(file);
        assertRefused(serde, fifteenByteRecord(LEADING_MAP, 2 ** 26), /map block claims 67108864 entries/);
        assertRefused(serde, wire(LEADING_ARRAY, [...varint(-(2 ** 26)), ...varint(2 ** 40), 0]), /array block claims 1099511627776 bytes, but 1 are left/);
        assertRefused(serde, wire(LEADING_ARRAY, [...varint(-3), ...varint(-1), 0, 0, 0]), /array block claims -1 bytes/);
      });

      if (BEFORE_MAP[file] !== undefined) {
        it('its own schema: the map block claiming 2^52 or 2^26 entries is refused', async () => {
          const { serde, ownId } = await serdeFor(file);
          const prefix = new Array<number>(BEFORE_MAP[file]!).fill(0);
          for (const n of [2 ** 52, 2 ** 26])
            assertRefused(
              serde,
              wire(ownId, [...prefix, ...varint(n)]),
              new RegExp(`map block claims ${n} entries, but only 0 bytes are left, in field (metrics|features)`),
            );
          // A block of one entry whose key claims more bytes than are left.
          assertRefused(
            serde,
            wire(ownId, [...prefix, ...varint(1), ...varint(2 ** 40), 0x61]),
            /map key length 1099511627776 runs past the end \(1 bytes left\), in field (metrics|features)\[0\]/,
          );
        });
      }

      it('a string or bytes length past the end, or negative, is refused', async () => {
        const { serde, ownId } = await serdeFor(file);
        assertRefused(
          serde,
          wire(ownId, [...varint(2 ** 31), 0x61, 0x62]),
          /string length 2147483648 runs past the end \(2 bytes left\), in field (event_id|entity_id|alert_id) \(byte 5 of 12\)/,
        );
        assertRefused(serde, wire(ownId, [...varint(-5), 0x61]), /string length -5 is negative/);
      });

      it('a record larger than maxRecordBytes is refused before it is parsed; a good record still decodes', async () => {
        const { serde } = await serdeFor(file, { maxRecordBytes: 1024 });
        const good = serialized(serde)!;
        assert.deepEqual(JSON.parse(JSON.stringify(serde.deserialize('t', good))), JSON.parse(JSON.stringify(sample(serde.name))));
        const big = Buffer.concat([good, Buffer.alloc(1025 - good.length)]);
        assertRefused(serde, big, /a record from "t" is 1025 bytes, more than the 1024 allowed \(maxRecordBytes\)/);
      });
    });
  }

  it("maxRecordBytes defaults to 1 MiB, and a serde's own option wins over its AvroSerdes'", async () => {
    const schema = loadSchema('ml-prediction.avsc');
    const plain = new AvroSerdes(fakeRegistry()).serde<unknown>({ schema });
    assertRefused(plain, Buffer.alloc(1_048_577), /1048577 bytes, more than the 1048576 allowed/);
    const own = new AvroSerdes(fakeRegistry(), { maxRecordBytes: 100 }).serde<unknown>({ schema, maxRecordBytes: 50 });
    assertRefused(own, Buffer.alloc(51), /51 bytes, more than the 50 allowed/);
    assert.throws(() => new AvroSerdes(fakeRegistry(), { maxRecordBytes: 0 }).serde({ schema }), {
      code: 'SA_ERR_STREAMS_CONFIG',
      message: /maxRecordBytes must be a whole number of bytes ≥ 5, not 0/,
    });
  });

  it('varints longer than 10 bytes, union branches and enum indexes out of range are refused', async () => {
    const { serde, ownId } = await serdeFor('analytics-event.avsc');
    assertRefused(
      serde,
      wire(ownId, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
      /a number is longer than 10 bytes, in field event_id/,
    );
    assertRefused(serde, wire(ownId, [0, 0x80]), /a number runs past the end of the record, in field event_type/);
    assertRefused(
      serde,
      wire(ownId, [0, ...varint(12)]),
      /enum index 12 is outside the 12 symbols of io\.streaminganalytics\.events\.EventType, in field event_type/,
    );
    assertRefused(serde, wire(ownId, [0, 0, 0, ...varint(2)]), /union branch 2 does not exist \(the union has 2\), in field user_id/);
    assertRefused(serde, wire(ownId, [0, 0, 0, 0, 0, 0, 2, 1, 2, 3]), /the record ends inside a double \(8 bytes, 3 left\), in field value/);
  });

  it("each entry counts as one byte even when it encodes to none: blocks of nulls cannot add up past the record's length", () => {
    const nulls = { type: 'record', name: 'Nulls', fields: [{ name: 'n', type: { type: 'array', items: 'null' } }] } as avro.Schema;
    const serde = new AvroSerde<unknown>(fakeRegistry(), { schema: nulls });
    return serde.prepare('t').then(() => {
      const one = serde.serialize('t', { n: [null] })!;
      const id = one.readUInt32BE(1);
      assert.deepEqual(JSON.parse(JSON.stringify(serde.deserialize('t', one))), { n: [null] });
      // The price of the rule: two nulls at the end of a record (2 entries, 1 byte left) are refused, though valid Avro.
      assertRefused(serde, serde.serialize('t', { n: [null, null] })!, /array block claims 2 entries, but only 1 bytes are left, in field n/);
      // 3 then 3 nulls: 6 entries, but the record has 4 bytes after the first count.
      assertRefused(serde, wire(id, [...varint(3), ...varint(3), 0, 0]), /array block claims 3 entries, but only 0 bytes are left, in field n \(byte 6 of 9\)/);
      // Many 2-byte blocks of ~1000 nulls: avsc would push a million nulls from 1.5 kB.
      const blocks = Buffer.from(Array.from({ length: 700 }, () => varint(1000)).flat());
      assertRefused(serde, wire(id, [...blocks, 0]), /array block claims 1000 entries, but only \d+ bytes are left/);
    });
  });

  it('bytes and fixed past the end are refused', async () => {
    const blob = {
      type: 'record',
      name: 'Blob',
      fields: [
        { name: 'b', type: 'bytes' },
        { name: 'f', type: { type: 'fixed', name: 'Four', size: 4 } },
      ],
    } as avro.Schema;
    const serde = new AvroSerde<unknown>(fakeRegistry(), { schema: blob });
    await serde.prepare('t');
    const id = serde.serialize('t', { b: Buffer.from('ab'), f: Buffer.from('wxyz') })!.readUInt32BE(1);
    assertRefused(serde, wire(id, [...varint(2 ** 40), 1, 2]), /bytes length 1099511627776 runs past the end \(2 bytes left\), in field b/);
    assertRefused(serde, wire(id, [...varint(1), 7, 1, 2, 3]), /the record ends inside a Four \(4 bytes, 3 left\), in field f \(byte 7 of 10\)/);
  });

  it('recursive schemas: nesting deeper than 128 levels is refused instead of overflowing the stack', async () => {
    const list = { type: 'record', name: 'Link', fields: [{ name: 'next', type: ['null', 'Link'] }] } as avro.Schema;
    const serde = new AvroSerde<unknown>(fakeRegistry(), { schema: list });
    await serde.prepare('t');
    const id = serde.serialize('t', { next: { next: null } })!.readUInt32BE(1);
    assert.deepEqual(JSON.parse(JSON.stringify(serde.deserialize('t', wire(id, [2, 2, 0])))), { next: { next: { next: null } } });
    const deep = [...new Array<number>(100_000).fill(2), 0];
    assertRefused(serde, wire(id, deep), /values nest deeper than 128 levels, in field next\.next\.next.*…\(\d+ more\)…/);
  });

  it('a schema id the registry answers with something that is not a usable Avro schema: that record alone is refused, the id is not fetched again', async () => {
    const registry = fakeRegistry({ 7: new Error('unknown type: "decimalish"') });
    const serde = new AvroSerde<unknown>(registry, { schema: loadSchema('ml-prediction.avsc') });
    await serde.prepareBatch('t', [wire(7, [0]), wire(8, [0])]);
    await serde.prepareBatch('t', [wire(7, [0])]);
    assert.equal(registry.requests, 2);
    assertRefused(serde, wire(7, [0]), /schema id 7 of a record from "t" cannot be used: unknown type: "decimalish"/);
    assertRefused(serde, wire(8, [0]), /schema id 8 of a record from "t" is unknown to the registry/);
    const down = fakeRegistry({ 9: Object.assign(new Error('connect ECONNREFUSED'), { status: 400 }) });
    await assert.rejects(
      new AvroSerde<unknown>(down, { schema: loadSchema('ml-prediction.avsc') }).prepareBatch('t', [wire(9, [0])]),
      (err: unknown) => err instanceof SerdeError && /cannot fetch schema id 9/.test(err.message),
      'a registry that did not answer: the batch is retried',
    );
    const reset = fakeRegistry({ 9: new Error('socket hang up') });
    await assert.rejects(
      new AvroSerde<unknown>(reset, { schema: loadSchema('ml-prediction.avsc') }).prepareBatch('t', [wire(9, [0])]),
      /cannot fetch schema id 9/,
      'a network failure without a status is not taken for an unusable schema',
    );
  });

  it('a writer schema the application cannot resolve is refused with a SerdeError, every time', async () => {
    const other = { type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] } as avro.Schema;
    const serde = new AvroSerde<unknown>(fakeRegistry({ 5: other }), { schema: loadSchema('ml-prediction.avsc') });
    await serde.prepareBatch('t', [wire(5, [2])]);
    for (let i = 0; i < 2; i++)
      assertRefused(serde, wire(5, [2]), /schema id 5\) cannot be decoded: schema id 5 cannot be read as Avro\(io\.streaminganalytics\.ml\.MlPrediction\)/);
  });
});
