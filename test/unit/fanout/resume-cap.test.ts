import { strict as assert } from 'node:assert';
import type { Publication } from '../../../src/fanout/history';
import { newest, NewestWithin, shareCap, sizeInReply, type ResumeCap } from '../../../src/fanout/resume-cap';

const pub = (partition: number, offset: number, pad = 0): Publication => ({
  channel: 'predictions',
  topic: 't',
  partition,
  offset,
  key: `k${offset}`,
  timestamp: 0,
  receivedAt: 0,
  data: { pad: 'x'.repeat(pad) },
});
const pubs = (partition: number, from: number, n: number, pad = 0): Publication[] => Array.from({ length: n }, (_, i) => pub(partition, from + i, pad));
const offsets = (ps: Publication[]): number[] => ps.map((p) => p.offset);

/** A reply of partitions already in memory, shared as a resume shares it. */
async function capReply(partitions: Publication[][], cap: ResumeCap): Promise<{ partitions: Publication[][]; truncated: boolean }> {
  const out = partitions.map((): Publication[] => []);
  let truncated = false;
  await shareCap(
    partitions.map((ps) => ps.length),
    cap,
    (i, share) => {
      const kept = newest(partitions[i]!, share);
      out[i] = kept.pubs;
      truncated ||= kept.leftOut;
      return kept;
    },
  );
  return { partitions: out, truncated };
}

describe('fan-out: the resume reply cap', () => {
  it('leaves a reply within both caps as it is', async () => {
    const r = await capReply([pubs(0, 10, 3), pubs(1, 0, 2)], { records: 5, bytes: 1 << 20 });
    assert.equal(r.truncated, false);
    assert.deepEqual(r.partitions.map(offsets), [
      [10, 11, 12],
      [0, 1],
    ]);
  });

  it('past the record cap: the newest of every partition, an equal share each and what one leaves to the others, each still in offset order', async () => {
    const r = await capReply([pubs(0, 100, 50), pubs(1, 0, 3), pubs(2, 7, 50)], { records: 21, bytes: 1 << 20 });
    assert.equal(r.truncated, true);
    assert.deepEqual(r.partitions.map(offsets), [
      [141, 142, 143, 144, 145, 146, 147, 148, 149],
      [0, 1, 2],
      [48, 49, 50, 51, 52, 53, 54, 55, 56],
    ]);
  });

  it('past the byte cap likewise; a partition with nothing missed takes no share and stays empty', async () => {
    const one = Buffer.byteLength(JSON.stringify({ topic: 't', partition: 0, offset: 100, key: 'k100', timestamp: 0, data: { pad: 'x'.repeat(1000) } })) + 1;
    const r = await capReply([pubs(0, 100, 10, 1000), [], pubs(1, 100, 10, 1000)], { records: 1000, bytes: one * 4 + 10 });
    assert.equal(r.truncated, true);
    assert.deepEqual(r.partitions.map(offsets), [[108, 109], [], [108, 109]]);
  });

  it('shares the cap before anything is read, fewest needed first: every share together stays within the cap', async () => {
    const shares: [number, ResumeCap][] = [];
    await shareCap([10_000, 0, 3, 10_000, 10_000], { records: 5_000, bytes: 4_000 }, (i, share) => {
      shares.push([i, share]);
      return i === 2 ? { records: 3, bytes: 300 } : share; // partition 2 needs 3; the others use all they get
    });
    assert.deepEqual(shares, [
      [2, { records: 1_250, bytes: 1_000 }],
      [0, { records: 1_665, bytes: 1_233 }],
      [3, { records: 1_666, bytes: 1_233 }],
      [4, { records: 1_666, bytes: 1_234 }],
    ]);
    assert.equal(
      shares.reduce((n, [i, s]) => n + (i === 2 ? 3 : s.records), 0),
      5_000,
    );
  });

  it('reading oldest first, holds no more than its share: older records are let go as newer ones come, however big', () => {
    const big = sizeInReply(pub(0, 100, 100_000));
    const window = new NewestWithin({ records: 1_000, bytes: big * 3 });
    let most = 0;
    for (let offset = 0; offset < 200; offset++) {
      window.add(pub(0, offset, offset === 150 ? 400_000 : 100_000)); // one record past the whole share
      most = Math.max(most, window.kept().records);
    }
    const kept = window.kept();
    assert.ok(most <= 3, `held ${most}`);
    assert.deepEqual(offsets(kept.pubs), [197, 198, 199]);
    assert.equal(kept.leftOut, true);
    assert.ok(kept.bytes <= big * 3);
    assert.deepEqual(offsets(new NewestWithin({ records: 2, bytes: 1 << 20 }).kept().pubs), []);
  });

  it("a record bigger than the share ends the partition's part there: nothing older is kept past it", () => {
    const r = newest([...pubs(0, 0, 5), pub(0, 5, 10_000), ...pubs(0, 6, 2)], { records: 100, bytes: 5_000 });
    assert.deepEqual(offsets(r.pubs), [6, 7]);
    assert.equal(r.leftOut, true);
  });
});
