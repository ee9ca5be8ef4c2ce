import { strict as assert } from 'node:assert';
import type avro from 'avsc';
import { loadSchema } from '../../../schemas/catalog';
import { AvroSerde, AvroSerdes, SerdeError } from '../../../src/serdes';
import { fakeRegistry, hiddenCountRecord, negativeBlock, varint, wire, withLeadingBlock } from '../../support/avro-records';

/**
 * Negative block counts whose byte size disagrees with their entries. A writer-only field
 * is skipped by avsc, and a negative block is skipped by its declared size: when that size
 * is not where the entries end, avsc reads on from bytes the bounds check read as
 * something else — e.g. a map count hidden in what the check took for a key's text, which
 * avsc then loops over. Each must be refused by the check, at once.
 */
const SCHEMAS = ['analytics-event.avsc', 'ml-prediction.avsc', 'streaming-alert.avsc'] as const;
const LEADING_MAP = 100;
const LEADING_ARRAY = 101;
const FAST_MS = 500;
/** Without the check, avsc loops over it for seconds (2^22 took 47 ms); bounded, so that a regression fails instead of hanging. */
const HIDDEN = 2 ** 27;

const SAMPLES: Record<string, unknown> = {
  'analytics-event.avsc': {
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
  },
  'ml-prediction.avsc': {
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
  },
  'streaming-alert.avsc': {
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
  },
};

/** The reader's serde, knowing the leading-map and leading-array writers; `own`: the body of the sample in the reader's schema. */
async function serdeFor(file: string): Promise<{ serde: AvroSerde<unknown>; own: number[] }> {
  const schema = loadSchema(file);
  const serde = new AvroSerdes(
    fakeRegistry({ [LEADING_MAP]: withLeadingBlock(schema, 'map'), [LEADING_ARRAY]: withLeadingBlock(schema, 'array') }),
  ).serde<unknown>({ schema });
  await serde.prepare('t');
  await serde.prepareBatch('t', [wire(LEADING_MAP, []), wire(LEADING_ARRAY, [])]);
  return { serde, own: [...serde.serialize('t', SAMPLES[file])!.subarray(5)] };
}

function assertRefused(serde: AvroSerde<unknown>, bytes: Buffer, message: RegExp): void {
  const started = Date.now();
  assert.throws(
    () => serde.deserialize('t', bytes),
    (err: unknown) => err instanceof SerdeError && /refused before decoding/.test(err.message) && message.test(err.message),
  );
  assert.ok(Date.now() - started < FAST_MS, `refused in ${Date.now() - started} ms`);
}

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** One map entry: the key "k", then a double. */
const ENTRY = [...varint(1), 0x6b, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f];

describe('Avro serde: negative block counts whose byte size disagrees with their entries', () => {
  for (const file of SCHEMAS) {
    describe(file, () => {
      it('a leading map the reader lacks: a size that is not where its entries end is refused; the right size reads', async () => {
        const { serde, own } = await serdeFor(file);
        assert.deepEqual(plain(serde.deserialize('t', wire(LEADING_MAP, [...negativeBlock(1, ENTRY.length, ENTRY), 0, ...own]))), plain(SAMPLES[file]));
        for (const size of [ENTRY.length - 1, ENTRY.length + 1, 0]) {
          assertRefused(
            serde,
            wire(LEADING_MAP, [...negativeBlock(1, size, ENTRY), 0, ...own]),
            new RegExp(`map block claims ${size} bytes, but its 1 entries take ${ENTRY.length}, in field extra \\(byte 5 of`),
          );
        }
        // Two blocks, the second one wrong: the check keeps count of the entries across blocks.
        assertRefused(
          serde,
          wire(LEADING_MAP, [...negativeBlock(1, ENTRY.length, ENTRY), ...negativeBlock(1, 3, ENTRY), 0, ...own]),
          /map block claims 3 bytes, but its 1 entries take 10, in field extra \(byte 17 of/,
        );
      });

      it('a leading array of nulls the reader lacks: a size above 0 is refused (its entries take no bytes); size 0 reads', async () => {
        const { serde, own } = await serdeFor(file);
        assert.deepEqual(plain(serde.deserialize('t', wire(LEADING_ARRAY, [...negativeBlock(1, 0, []), 0, ...own]))), plain(SAMPLES[file]));
        assertRefused(
          serde,
          wire(LEADING_ARRAY, [...negativeBlock(1, 2, []), 0, ...own]),
          /array block claims 2 bytes, but its 1 entries take 0, in field extra/,
        );
      });

      it('the nested count: a map count hidden in what the check reads as a key is refused at once', async () => {
        const { serde, own } = await serdeFor(file);
        const record = hiddenCountRecord(LEADING_MAP, HIDDEN, own);
        assertRefused(serde, record, /map block claims 1 bytes, but its 1 entries take 14, in field extra \(byte 5 of/);
        // The same with an array of nulls: skipped by its size 2, avsc lands in the reader's first string, on a count.
        const count = varint(HIDDEN);
        const first = [...varint(count.length), ...count, ...own.slice(1 + own[0]! / 2)]; // the first field (a string) holds the count
        assertRefused(
          serde,
          wire(LEADING_ARRAY, [...negativeBlock(1, 2, []), 0, ...first]),
          /array block claims 2 bytes, but its 1 entries take 0, in field extra/,
        );
      });
    });
  }

  it("nested blocks and fixed-width items: the inner block's size is checked too", async () => {
    const reader = { type: 'record', name: 'R', fields: [{ name: 'n', type: 'long' }] } as avro.Schema;
    const writer = {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'extra', type: { type: 'array', items: { type: 'map', values: 'double' } }, default: [] },
        { name: 'd', type: { type: 'array', items: 'double' }, default: [] },
        ...(reader as { fields: unknown[] }).fields,
      ],
    } as avro.Schema;
    const serde = new AvroSerde<unknown>(fakeRegistry({ 7: writer }), { schema: reader });
    await serde.prepareBatch('t', [wire(7, [])]);
    const doubles = (n: number): number[] => new Array<number>(8 * n).fill(0);
    const good = [...varint(1), ...negativeBlock(1, ENTRY.length, ENTRY), 0, 0, ...negativeBlock(2, 16, doubles(2)), 0, ...varint(42)];
    assert.deepEqual(plain(serde.deserialize('t', wire(7, good))), { n: 42 });
    assertRefused(
      serde,
      wire(7, [...varint(1), ...negativeBlock(1, 1, ENTRY), 0, 0, 0, ...varint(42)]),
      /map block claims 1 bytes, but its 1 entries take 10, in field extra\[0\] \(byte 6 of/,
    );
    assertRefused(
      serde,
      wire(7, [0, ...negativeBlock(2, 8, doubles(2)), 0, ...varint(42)]),
      /array block claims 8 bytes, but its 2 entries take 16, in field d/,
    );
  });
});
