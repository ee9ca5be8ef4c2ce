import { strict as assert } from 'node:assert';
import { SerdeError, Serdes } from '../../../src';
import { mulberry32 } from '../../support/prng';

/** Kafka's LongSerializer, through BigInt: what the Long serde must give byte for byte. */
function javaLong(n: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64BE(n);
  return out;
}

describe('Serdes', () => {
  it('String round-trips text (including non-ASCII) and passes null through', () => {
    const s = Serdes.String();
    assert.equal(s.deserialize('t', s.serialize('t', 'héllo ✓')), 'héllo ✓');
    assert.equal(s.serialize('t', null), null);
    assert.equal(s.deserialize('t', null), null);
  });

  it('String rejects bytes that are not UTF-8 with a SerdeError', () => {
    assert.throws(
      () => Serdes.String().deserialize('t', Buffer.from([0xff, 0xfe])),
      (e: unknown) => e instanceof SerdeError && e.serde === 'String' && /not valid UTF-8/.test(e.message),
    );
  });

  it('Json round-trips objects and null, and rejects invalid JSON with a SerdeError', () => {
    const j = Serdes.Json<{ a: number[]; b: { c: string } }>();
    const v = { a: [1, 2], b: { c: 'x' } };
    assert.deepEqual(j.deserialize('t', j.serialize('t', v)), v);
    assert.equal(j.deserialize('t', null), null);
    assert.throws(
      () => j.deserialize('t', Buffer.from('{"a":')),
      (e: unknown) => e instanceof SerdeError && /not valid JSON/.test(e.message),
    );
  });

  it('Bytes passes buffers through untouched', () => {
    const b = Serdes.Bytes();
    const buf = Buffer.from([0, 1, 2, 255]);
    assert.equal(b.deserialize('t', b.serialize('t', buf)), buf);
  });

  it("Long writes the bytes of Kafka's LongSerializer and reads them back, for edges and seeded values", () => {
    const L = Serdes.Long();
    const random = mulberry32(53);
    const edges = [
      0,
      1,
      -1,
      255,
      256,
      -256,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 32 - 1,
      2 ** 32,
      -(2 ** 32),
      -(2 ** 32) - 1,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ];
    const seeded = Array.from({ length: 2000 }, (_, i) => {
      const magnitude = Math.floor(random() * 2 ** (1 + (i % 53)));
      return random() < 0.5 ? -magnitude : magnitude;
    });
    for (const n of [...edges, ...seeded]) {
      const bytes = L.serialize('t', n)!;
      assert.deepEqual(bytes, javaLong(BigInt(n)), `bytes of ${n}`);
      assert.equal(L.deserialize('t', bytes), n + 0); // -0 reads back as 0: a long has no -0
    }
  });

  it('Long refuses what is not a safe whole number, and bytes beyond ±2^53 or not 8 long', () => {
    const L = Serdes.Long();
    for (const bad of [0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 53)]) assert.throws(() => L.serialize('t', bad), SerdeError);
    for (const n of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 12345n])
      assert.throws(
        () => L.deserialize('t', javaLong(n)),
        (e: unknown) => e instanceof SerdeError && e.message.includes(`${n} from "t" is beyond ±2^53`),
      );
    assert.throws(() => L.deserialize('t', Buffer.alloc(7)), /must be 8 bytes, not 7/);
    assert.equal(L.serialize('t', null), null);
    assert.equal(L.deserialize('t', null), null);
  });
});
