import { strict as assert } from 'node:assert';
import type { Publication } from '../../../src/fanout/history';
import { capResume } from '../../../src/fanout/resume-cap';

const pubs = (partition: number, from: number, n: number, pad = 0): Publication[] =>
  Array.from({ length: n }, (_, i) => ({ channel: 'predictions', topic: 't', partition, offset: from + i, key: `k${i}`, timestamp: 0, receivedAt: 0, data: { pad: 'x'.repeat(pad) } }));
const offsets = (ps: Publication[]): number[] => ps.map((p) => p.offset);

describe('fan-out: the resume reply cap', () => {
  it('leaves a reply within both caps as it is', () => {
    const r = capResume([pubs(0, 10, 3), pubs(1, 0, 2)], { records: 5, bytes: 1 << 20 });
    assert.equal(r.truncated, false);
    assert.deepEqual(r.partitions.map(offsets), [[10, 11, 12], [0, 1]]);
  });

  it('past the record cap: the newest of every partition, shared round-robin, each still in offset order', () => {
    const r = capResume([pubs(0, 100, 50), pubs(1, 0, 3), pubs(2, 7, 50)], { records: 21, bytes: 1 << 20 });
    assert.equal(r.truncated, true);
    assert.deepEqual(r.partitions.map(offsets), [[141, 142, 143, 144, 145, 146, 147, 148, 149], [0, 1, 2], [48, 49, 50, 51, 52, 53, 54, 55, 56]]);
  });

  it('past the byte cap likewise; a partition with nothing missed stays empty', () => {
    const one = Buffer.byteLength(JSON.stringify({ topic: 't', partition: 0, offset: 100, key: 'k0', timestamp: 0, data: { pad: 'x'.repeat(1000) } })) + 1;
    const r = capResume([pubs(0, 100, 10, 1000), [], pubs(1, 100, 10, 1000)], { records: 1000, bytes: one * 4 + 10 });
    assert.equal(r.truncated, true);
    assert.deepEqual(r.partitions.map(offsets), [[108, 109], [], [108, 109]]);
  });
});
