import { strict as assert } from 'node:assert';
import { loadSchema } from '../../../schemas/catalog';
import { Decoder } from '../../../src/fanout/decode';
import type { ConsumedRecord } from '../../../src/kafka';
import { createLogger } from '../../../src/logger';
import { AvroSerdes, SerdeError, type AvroSerde, type Serde } from '../../../src/serdes';
import { fakeRegistry, hiddenCountRecord, negativeBlock, varint, wire, withLeadingBlock } from '../../support/avro-records';
import { below, mulberry32 } from '../../support/prng';

/**
 * Fuzzing the Avro decoders of the processor and the fan-out (issue 12, finding 1) with a
 * fixed seed: random bytes, mutated valid records (bit flips, truncations, huge varints
 * spliced in), and writer-only blocks with a negative count whose byte size is not where
 * their entries end (avsc skips such a block by its size, and would read on from bytes the
 * bounds check read as something else). Every case must end in a value or a SerdeError —
 * the fan-out's Decoder in undefined and a count — never in another exception, and never
 * hang: each case is bounded by a generous time guard that only a hang can trip.
 */
const SEED = 0x5eed_0012;
const CASE_GUARD_MS = 2_000;
const LEADING_MAP = 100;
const LEADING_ARRAY = 101;

type Random = () => number;

function text(r: Random, max: number): string {
  return Array.from({ length: below(r, max + 1) }, () => String.fromCharCode(97 + below(r, 26))).join('');
}

function numbers(r: Random): Record<string, number> {
  return Object.fromEntries(Array.from({ length: below(r, 4) }, () => [text(r, 6), r() * 100]));
}

const VALUES: Record<string, (r: Random) => unknown> = {
  'analytics-event.avsc': (r) => ({
    event_id: text(r, 36),
    event_type: ['CLICK', 'PURCHASE', 'LOGIN'][below(r, 3)],
    entity_id: text(r, 12),
    user_id: r() < 0.5 ? null : text(r, 8),
    session_id: null,
    event_time: below(r, 2 ** 41),
    value: r() < 0.5 ? null : r() * 1000,
    currency: r() < 0.5 ? null : 'EUR',
    metrics: numbers(r),
    properties: Object.fromEntries(Array.from({ length: below(r, 4) }, () => [text(r, 5), text(r, 10)])),
    source: text(r, 8),
    schema_version: below(r, 3),
  }),
  'ml-prediction.avsc': (r) => ({
    entity_id: text(r, 12),
    window_start: below(r, 2 ** 41),
    window_end: below(r, 2 ** 41),
    score: r(),
    label: text(r, 8),
    flagged: r() < 0.5,
    threshold: r(),
    model_name: text(r, 8),
    model_version: text(r, 3),
    features: numbers(r),
    event_time: below(r, 2 ** 41),
    processing_time: below(r, 2 ** 41),
  }),
  'streaming-alert.avsc': (r) => ({
    alert_id: text(r, 20),
    entity_id: text(r, 12),
    kind: text(r, 8),
    severity: ['LOW', 'HIGH'][below(r, 2)],
    score: r(),
    threshold: r(),
    window_start: below(r, 2 ** 41),
    window_end: below(r, 2 ** 41),
    model_name: text(r, 8),
    model_version: text(r, 3),
    event_time: below(r, 2 ** 41),
    message: text(r, 30),
  }),
};

/** A huge or hostile varint: a block count or length of 2^k, negative, or 10 bytes of continuation. */
function hugeVarint(r: Random): number[] {
  const k = 20 + below(r, 44);
  switch (below(r, 4)) {
    case 0:
      return varint(2 ** Math.min(k, 52));
    case 1:
      return varint(-(2 ** Math.min(k, 52)));
    case 2:
      return varint(2 ** Math.min(k, 52), 10);
    default:
      return new Array<number>(10 + below(r, 3)).fill(0xff);
  }
}

/** A size other than `actual`, from 0 to `actual + room`. */
function wrongSize(r: Random, actual: number, room: number): number {
  const size = below(r, actual + room);
  return size >= actual ? size + 1 : size;
}

/**
 * A record of a leading-block writer whose block has a negative count and a byte size that
 * is not where its entries end, after `own` (the reader's fields, valid); sometimes after a
 * correct block, sometimes with a count hidden where avsc's skip lands. Hidden counts stay
 * below 2^25: without the size check avsc loops over them for up to a second — enough to
 * see, not enough to hang the run.
 */
function disagreeing(r: Random, own: readonly number[]): Buffer {
  const hidden = 2 ** (16 + below(r, 9));
  const kind = below(r, 4);
  if (kind === 0) return hiddenCountRecord(LEADING_MAP, hidden, own);
  if (kind === 1) {
    const entry = (): number[] => [...varint(1), 97 + below(r, 26), ...Array.from({ length: 8 }, () => below(r, 256))]; // a one-letter key, a double
    const n = 1 + below(r, 4);
    const entries = Array.from({ length: n }, entry).flat();
    const correct = r() < 0.3 ? negativeBlock(1, 10, entry()) : [];
    return wire(LEADING_MAP, [...correct, ...negativeBlock(n, wrongSize(r, entries.length, own.length), entries), 0, ...own]);
  }
  if (kind === 2) return wire(LEADING_ARRAY, [...negativeBlock(1 + below(r, 3), 1 + below(r, own.length), []), 0, ...own]);
  // The array's size ends in the reader's first field, a string whose text is a count.
  const count = varint(hidden);
  return wire(LEADING_ARRAY, [...negativeBlock(1, 2, []), 0, ...varint(count.length), ...count, ...own.slice(1 + own[0]! / 2)]);
}

/** One case: random bytes after a known schema id, a valid record of either writer schema, mutated, or a disagreeing block. */
function hostile(r: Random, valid: (id: number) => Buffer, ownId: number): Buffer {
  const ids = [ownId, LEADING_MAP, LEADING_ARRAY];
  const kind = below(r, 10);
  if (kind === 0) return Buffer.from(Array.from({ length: below(r, 40) }, () => below(r, 256)));
  if (kind === 1)
    return wire(
      ids[below(r, 3)]!,
      Array.from({ length: below(r, 64) }, () => below(r, 256)),
    );
  if (kind === 2) return disagreeing(r, [...valid(ownId).subarray(5)]);
  const bytes = [...valid(ids[below(r, 3)]!)];
  for (let m = 1 + below(r, 3); m > 0; m--) {
    const at = 5 + below(r, Math.max(1, bytes.length - 5));
    switch (below(r, 4)) {
      case 0:
        bytes[at] = (bytes[at] ?? 0) ^ (1 << below(r, 8));
        break;
      case 1:
        bytes.length = Math.max(5, at);
        break;
      case 2:
        bytes.splice(at, below(r, 3), ...hugeVarint(r));
        break;
      default:
        bytes.splice(at, 0, ...bytes.slice(at, at + below(r, 16)));
        break;
    }
  }
  return Buffer.from(bytes);
}

async function serdeFor(file: string): Promise<{ serde: AvroSerde<unknown>; valid: (r: Random) => (id: number) => Buffer; ownId: number }> {
  const schema = loadSchema(file);
  const registry = fakeRegistry({ [LEADING_MAP]: withLeadingBlock(schema, 'map'), [LEADING_ARRAY]: withLeadingBlock(schema, 'array') });
  const serde = new AvroSerdes(registry).serde<unknown>({ schema });
  await serde.prepare('t');
  const writers = {
    [LEADING_MAP]: new AvroSerdes(fakeRegistry()).serde<unknown>({ schema: withLeadingBlock(schema, 'map') }),
    [LEADING_ARRAY]: new AvroSerdes(fakeRegistry()).serde<unknown>({ schema: withLeadingBlock(schema, 'array') }),
  };
  for (const w of Object.values(writers)) await w.prepare('t');
  await serde.prepareBatch('t', [wire(LEADING_MAP, []), wire(LEADING_ARRAY, [])]);
  const ownId = serde.serialize('t', VALUES[file]!(mulberry32(1)))!.readUInt32BE(1);
  const valid =
    (r: Random) =>
    (id: number): Buffer => {
      const value = VALUES[file]!(r) as Record<string, unknown>;
      if (id === ownId) return serde.serialize('t', value)!;
      const w = writers[id as keyof typeof writers];
      const bytes = w.serialize('t', { ...value, extra: id === LEADING_MAP ? numbers(r) : new Array(below(r, 2)).fill(null) })!;
      bytes.writeUInt32BE(id, 1);
      return bytes;
    };
  return { serde, valid, ownId };
}

/** Runs `decode` on `n` cases; fails on an exception other than SerdeError and on a case that takes longer than the guard. */
function fuzz(n: number, make: () => Buffer, decode: (bytes: Buffer) => void): { refused: number; decoded: number } {
  const seen = { refused: 0, decoded: 0 };
  for (let i = 0; i < n; i++) {
    const bytes = make();
    const started = Date.now();
    try {
      decode(bytes);
      seen.decoded++;
    } catch (err) {
      if (!(err instanceof SerdeError)) assert.fail(`case ${i} (${bytes.toString('hex')}) threw ${(err as Error).name}: ${(err as Error).message}`);
      seen.refused++;
    }
    const ms = Date.now() - started;
    if (ms > CASE_GUARD_MS) assert.fail(`case ${i} (${bytes.toString('hex')}) took ${ms} ms: a decoder loops over a claimed count`);
  }
  return seen;
}

describe('fuzz: Avro decoders of the processor and the fan-out (fixed seed)', function () {
  this.timeout(30_000);

  it("the processor's deserializer: 1,500 cases of the analytics event end in a value or a SerdeError", async () => {
    const r = mulberry32(SEED);
    const { serde, valid, ownId } = await serdeFor('analytics-event.avsc');
    const seen = fuzz(
      1500,
      () => hostile(r, valid(r), ownId),
      (bytes) => serde.deserialize('analytics-events', bytes),
    );
    assert.ok(seen.refused > 500 && seen.decoded > 50, `a mix of both: ${JSON.stringify(seen)}`);
  });

  it('negative counts whose byte size disagrees with their entries: 3 × 300 cases, each refused by the bounds check, before avsc reads it', async () => {
    for (const file of Object.keys(VALUES)) {
      const r = mulberry32(SEED ^ file.length);
      const { serde, valid, ownId } = await serdeFor(file);
      const seen = fuzz(
        300,
        () => disagreeing(r, [...valid(r)(ownId).subarray(5)]),
        (bytes) => {
          try {
            serde.deserialize('t', bytes);
          } catch (err) {
            if (err instanceof SerdeError && !/refused before decoding/.test(err.message))
              assert.fail(`${file}: ${bytes.toString('hex')} reached avsc: ${err.message}`);
            throw err;
          }
        },
      );
      assert.equal(seen.refused, 300, `${file}: every case is refused (${JSON.stringify(seen)})`);
    }
  });

  for (const file of ['ml-prediction.avsc', 'streaming-alert.avsc']) {
    it(`the fan-out's Decoder (${file}): 750 cases end in a publication, or in undefined and a count`, async () => {
      const r = mulberry32(SEED + file.length);
      const { serde, valid, ownId } = await serdeFor(file);
      const thrown: unknown[] = [];
      const watched: Serde<unknown> = {
        name: serde.name,
        serialize: () => null,
        deserialize: (topic, data) => {
          try {
            return serde.deserialize(topic, data);
          } catch (err) {
            thrown.push(err);
            throw err;
          }
        },
      };
      let counted = 0;
      const decoder = new Decoder(createLogger({ level: 'silent' }), () => counted++);
      const source = { channel: 'predictions' as const, topic: 't', serde: watched };
      let offset = 0;
      const seen = fuzz(
        750,
        () => hostile(r, valid(r), ownId),
        (bytes) => {
          const m: ConsumedRecord = { topic: 't', partition: 0, offset: offset++, key: Buffer.from('k'), value: bytes, timestamp: 1, headers: [] };
          if (decoder.publication(source, m, 2) === undefined) throw new SerdeError('fuzz', 'skipped');
        },
      );
      assert.equal(counted, seen.refused, 'every skipped record is counted');
      assert.ok(
        thrown.every((e) => e instanceof SerdeError),
        `only SerdeErrors: ${thrown.find((e) => !(e instanceof SerdeError))}`,
      );
      assert.ok(seen.refused > 250 && seen.decoded > 25, `a mix of both: ${JSON.stringify(seen)}`);
    });
  }
});
