import { strict as assert } from 'node:assert';
import { SerdeError, Serdes } from '../../../src';

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
});
