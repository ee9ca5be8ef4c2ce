import { strict as assert } from 'node:assert';
import type { Connection } from '../../../src/fanout/connection';
import type { FanoutContext } from '../../../src/fanout/context';
import { PartitionHistory, type Publication } from '../../../src/fanout/history';
import { Hub } from '../../../src/fanout/hub';
import { FanoutMetrics } from '../../../src/fanout/metrics';
import { ProtocolError, type Filter } from '../../../src/fanout/protocol';
import type { ReadBudget } from '../../../src/fanout/read-back';
import { ReadBackQueue } from '../../../src/fanout/read-back-queue';
import { NewestWithin, RESUME_CAP } from '../../../src/fanout/resume-cap';
import { subscribe } from '../../../src/fanout/subscribe';
import { createLogger } from '../../../src/logger';

type ReadRange = (topic: string, partition: number, from: number, to: number, budget?: ReadBudget) => Promise<{ low: number; pubs: Publication[] }>;

interface Setting {
  partitions?: number;
  history?: (partition: number) => PartitionHistory;
  readBacks?: ReadBackQueue;
  readRange: ReadRange;
}

/** A fan-out with `partitions` partitions of predictions (by default one, whose history starts at offset 10) and a fake Kafka. */
function setting(o: Setting): { conn: Connection; ctx: FanoutContext; hub: Hub; delivered: Publication[] } {
  const hub = new Hub();
  const histories = Array.from({ length: o.partitions ?? 1 }, (_, p) => (o.history ?? (() => new PartitionHistory(0, 10)))(p));
  const source = {
    partitions: () => histories.map((_, p) => p),
    history: (_: string, p: number) => histories[p],
    readBacks: o.readBacks ?? new ReadBackQueue(),
    readRange: o.readRange,
  };
  const ctx = { topics: { predictions: 'p', alerts: 'a', metrics: 'm' }, source, hub, metrics: new FanoutMetrics() } as unknown as FanoutContext;
  const delivered: Publication[] = [];
  const conn = {
    subs: new Map(),
    deliver: (p: Publication) => void delivered.push(p),
    log: createLogger({ level: 'silent' }, 'test'),
  } as unknown as Connection;
  return { conn, ctx, hub, delivered };
}

const pub = (partition: number, offset: number, pad = 0): Publication => ({
  channel: 'predictions',
  topic: 'p',
  partition,
  offset,
  key: `k${offset % 100}`,
  timestamp: 0,
  receivedAt: 0,
  data: { pad: 'x'.repeat(pad) },
});
const request = (partitions: number, want: number, filter: Filter = {}) =>
  ({ id: 7, method: 'subscribe', channel: 'predictions', filter, recover: new Map(Array.from({ length: partitions }, (_, p) => [p, want])) }) as const;
type Reply = { recovered: boolean; truncated: boolean; publications: { partition: number; offset: number }[]; positions: Record<string, number> };

const resume = request(1, 3);

describe('fan-out: a resume that cannot read Kafka', () => {
  it('refused at once when the read-back queue is full: SA_ERR_WS_BUSY, temporary, and no subscription left behind', async () => {
    const { conn, ctx, hub } = setting({
      readBacks: new ReadBackQueue({ running: 1, waiting: 0, waitingPerOwner: 0 }),
      readRange: () => assert.fail('nothing is read'),
    });
    const err = await subscribe(conn, resume, [{ channel: '*' }], ctx).then(
      () => assert.fail('subscribed'),
      (e: unknown) => e as ProtocolError,
    );
    assert.ok(err instanceof ProtocolError);
    assert.deepEqual(JSON.parse(err.toReply()).error.temporary, true);
    assert.equal(err.code, 'SA_ERR_WS_BUSY');
    assert.equal(err.id, 7);
    assert.equal(conn.subs.size, 0);
    assert.equal((hub as unknown as { byChannel: Map<string, Set<unknown>> }).byChannel.get('predictions')?.size ?? 0, 0);
    assert.match(await ctx.metrics.registry.metrics(), /websocket_resumes_refused_total\{reason="busy"\} 1/);
  });
});

describe('fan-out: what a resume reads and holds is bounded by the reply cap', () => {
  it('50 partitions each 10,000 behind: each reads back only its share (100 records), and the reply has the newest 100 of each, truncated, with live pushes joining on', async () => {
    const requested = new Map<number, number>();
    let returned = 0;
    let hub!: Hub;
    const s = setting({
      partitions: 50,
      history: () => new PartitionHistory(0, 10_000), // nothing in memory: offsets 0–9,999 are in Kafka only
      readRange: async (_topic, partition, from, to) => {
        requested.set(partition, (requested.get(partition) ?? 0) + (to - from));
        const pubs = Array.from({ length: to - from }, (_, i) => pub(partition, from + i)); // a source that knows no budget
        returned += pubs.length;
        if (partition === 7) hub.publish(pub(7, 10_000)); // live while the resume reads
        return { low: 0, pubs };
      },
    });
    hub = s.hub;
    const { result, goLive } = await subscribe(s.conn, request(50, 0), [{ channel: '*' }], s.ctx);
    assert.equal(requested.size, 50);
    assert.deepEqual(new Set(requested.values()), new Set([100]), 'no partition is read past its share of the 5,000');
    assert.equal(returned, RESUME_CAP.records);
    const r = result as Reply;
    assert.equal(r.truncated, true);
    assert.equal(r.recovered, false);
    assert.equal(r.publications.length, 5_000);
    for (let p = 0; p < 50; p++) {
      assert.deepEqual(
        r.publications.filter((x) => x.partition === p).map((x) => x.offset),
        Array.from({ length: 100 }, (_, i) => 9_900 + i),
        `partition ${p}: its newest 100, in order`,
      );
      assert.equal(r.positions[String(p)], 9_999);
    }
    goLive();
    assert.deepEqual(
      s.delivered.map((p) => [p.partition, p.offset]),
      [[7, 10_000]],
      'the live one follows at its position + 1',
    );
  });

  it('a partition whose history fills its share is not read from Kafka at all', async () => {
    const s = setting({
      partitions: 50,
      history: (partition) => {
        const h = new PartitionHistory(100, 9_900);
        for (let o = 9_900; o < 10_000; o++) h.add(pub(partition, o));
        return h;
      },
      readRange: () => assert.fail('the history alone fills the reply'),
    });
    const r = (await subscribe(s.conn, request(50, 0), [{ channel: '*' }], s.ctx)).result as Reply;
    assert.equal(r.publications.length, 5_000);
    assert.deepEqual([r.truncated, r.recovered], [true, false]);
  });

  it('a few huge records: a read-back holds at most its byte share while reading, and the reply stays within 4 MiB', async () => {
    const MiB = 1024 * 1024;
    const huge = new Set([9_990, 9_980, 9_500]);
    const most = new Map<number, { bytes: number; share: number }>();
    const s = setting({
      partitions: 2,
      history: () => new PartitionHistory(0, 10_000),
      readRange: async (_topic, partition, from, to, budget) => {
        assert.ok(budget, 'the read is given its budget');
        const window = new NewestWithin(budget); // as read-back.ts keeps records while reading
        let bytes = 0;
        for (let o = from; o < to; o++) {
          const p = pub(partition, o, huge.has(o) ? MiB : 200);
          if (budget.keep(p)) window.add(p);
          bytes = Math.max(bytes, window.kept().bytes);
        }
        most.set(partition, { bytes, share: budget.bytes });
        budget.kept = window.kept();
        return { low: 0, pubs: budget.kept.pubs };
      },
    });
    const { result } = await subscribe(s.conn, request(2, 0), [{ channel: '*' }], s.ctx);
    const r = result as Reply;
    const reply = (p: number): { partition: number; offset: number }[] => r.publications.filter((x) => x.partition === p);
    const bytes = (p: number): number => reply(p).reduce((n, x) => n + Buffer.byteLength(JSON.stringify(x)) + 1, 0);
    assert.deepEqual(
      reply(0).map((x) => x.offset),
      Array.from({ length: 19 }, (_, i) => 9_981 + i),
      'partition 0: its newest that fit in half the bytes, one huge record and the small ones after it',
    );
    assert.deepEqual(
      reply(1).map((x) => x.offset),
      Array.from({ length: 499 }, (_, i) => 9_501 + i),
      'partition 1: what partition 0 left of the bytes too, two huge records',
    );
    assert.deepEqual(
      [...most.values()].map((m) => m.share),
      [2 * MiB, 4 * MiB - bytes(0)],
    );
    for (const [p, m] of most) assert.ok(m.bytes <= m.share, `partition ${p} held ${m.bytes} bytes at most, within its share`);
    assert.ok(Buffer.byteLength(JSON.stringify(r.publications)) <= RESUME_CAP.bytes);
    assert.deepEqual([r.truncated, r.recovered], [true, false]);
  });

  it('a filtered resume reads the whole gap but keeps only what matches: few matching records are all recovered', async () => {
    const requested = new Map<number, number>();
    const s = setting({
      partitions: 2,
      history: () => new PartitionHistory(0, 10_000),
      readRange: async (_topic, partition, from, to, given) => {
        requested.set(partition, to - from);
        const budget = given!;
        const window = new NewestWithin(budget);
        for (let o = from; o < to; o++) if (budget.keep(pub(partition, o))) window.add(pub(partition, o));
        budget.kept = window.kept();
        return { low: 0, pubs: budget.kept.pubs };
      },
    });
    const r = (await subscribe(s.conn, request(2, 0, { keys: ['k7'] }), [{ channel: '*' }], s.ctx)).result as Reply;
    assert.deepEqual([...requested.values()], [10_000, 10_000]);
    assert.deepEqual([r.truncated, r.recovered], [false, true]);
    assert.equal(r.publications.length, 200);
    assert.ok(r.publications.every((x) => x.offset % 100 === 7));
  });
});
