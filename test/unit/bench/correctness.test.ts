import { strict as assert } from 'node:assert';
import avro from 'avsc';
import { loadSchema } from '../../../schemas/catalog';
import { SUMMARY_SCHEMA } from '../../../ops/bench/app/topologies';
import { diff, project } from '../../../ops/bench/harness/correctness';
import type { OutputRecord } from '../../../ops/bench/harness/outputs';

/** The benchmark's correctness check on outputs made here: what it compares, and that it finds each kind of difference. */
const framed = (schema: object, value: object, id = 1): Buffer => {
  const body = avro.Type.forSchema(schema as avro.Schema).toBuffer(value);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, body]);
};
const rec = (key: string, value: Buffer | string, offset = 0): OutputRecord => ({
  key: Buffer.from(key),
  value: typeof value === 'string' ? Buffer.from(value) : value,
  partition: 0,
  offset,
});

describe('bench correctness check (ops/bench/harness/correctness.ts)', () => {
  it('windowed: only the last value per key@window counts, so sides that emitted different intermediate updates agree', () => {
    const a = project('windowed', { counts: [rec('k@0', '1'), rec('k@0', '2', 1)], sums: [rec('k@0', '9')] });
    const b = project('windowed', { counts: [rec('k@0', '2')], sums: [rec('k@0', '5'), rec('k@0', '9', 1)] });
    assert.deepEqual(diff(a, b, ['A', 'B']), { keys: 2, differences: [], differing: 0 });
  });

  it('windowed: a different final value, and a key only one side has, are both reported', () => {
    const a = project('windowed', { counts: [rec('k@0', '3'), rec('j@0', '1')], sums: [] });
    const b = project('windowed', { counts: [rec('k@0', '2')], sums: [] });
    const d = diff(a, b, ['A', 'B']);
    assert.equal(d.differing, 2);
    assert.match(d.differences.join('\n'), /counts k@0: A "3" ≠ B "2"/);
    assert.match(d.differences.join('\n'), /counts j@0: only A has it/);
  });

  it('engine: a multiset of (key, decoded value): a record missing on one side or written twice is a difference, schema ids are not', () => {
    const s = { entity_id: 'a', kind: 'click', amount: 0, event_time: 1 };
    const one = rec('a', framed(SUMMARY_SCHEMA, s, 1));
    const sameOtherId = rec('a', framed(SUMMARY_SCHEMA, s, 99));
    assert.equal(diff(project('engine', { output: [one] }), project('engine', { output: [sameOtherId] }), ['A', 'B']).differing, 0);
    assert.equal(diff(project('engine', { output: [one, one] }), project('engine', { output: [one] }), ['A', 'B']).differing, 1);
  });

  it('pipeline: the last prediction per entity and window; scores equal within 1e-5, flags and features exactly', () => {
    const schema = loadSchema('ml-prediction.avsc') as object;
    const p = (score: number, flagged: boolean, events = 3) => ({
      entity_id: 'e',
      window_start: 0,
      window_end: 60_000,
      score,
      label: flagged ? 'anomaly' : 'normal',
      flagged,
      threshold: 0.5,
      model_name: 'm',
      model_version: '1',
      features: { events },
      event_time: 1,
      processing_time: 2,
    });
    const a = project('pipeline', { predictions: [rec('e', framed(schema, p(0.1, false, 1))), rec('e', framed(schema, p(0.3, false)), 1)] });
    assert.equal(diff(a, project('pipeline', { predictions: [rec('e', framed(schema, p(0.300001, false)))] }), ['A', 'B']).differing, 0);
    assert.equal(diff(a, project('pipeline', { predictions: [rec('e', framed(schema, p(0.31, false)))] }), ['A', 'B']).differing, 1);
    assert.equal(diff(a, project('pipeline', { predictions: [rec('e', framed(schema, p(0.3, true)))] }), ['A', 'B']).differing, 1);
    assert.equal(diff(a, project('pipeline', { predictions: [rec('e', framed(schema, p(0.3, false, 4)))] }), ['A', 'B']).differing, 1);
  });
});
