import { strict as assert } from 'node:assert';
import type { Publication } from '../../../src/fanout/history';
import type { ReadBudget } from '../../../src/fanout/read-back';
import { FanoutSource } from '../../../src/fanout/source';
import type { ClientSettings, ConsumerHooks, KafkaClientSupplier } from '../../../src/kafka';
import { createLogger } from '../../../src/logger';
import { Serdes, type Serde } from '../../../src/serdes';
import { TRACEPARENT } from '../../../src/tracing';
import { FakeKafka } from '../../support/fake-kafka';
import type { Txn } from '../../support/fake-kafka/broker';

const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** The fan-out's Kafka side on the in-memory broker: topics p (2 partitions), a and m (1 each), JSON values. */
function setting(
  historyPerPartition = 5,
  phantom: Record<string, number> = {},
): {
  kafka: FakeKafka;
  source: FanoutSource;
  published: Publication[];
  undecodable: string[];
  consumers: { settings: ClientSettings; hooks: ConsumerHooks }[];
  append(
    topic: string,
    partition: number,
    value: unknown,
    o?: { key?: string; headers?: { key: string; value: Buffer }[]; txn?: Txn; timestamp?: number },
  ): number;
} {
  const kafka = new FakeKafka();
  kafka.broker.createTopic('p', 2);
  kafka.broker.createTopic('a', 1);
  kafka.broker.createTopic('m', 1);
  const consumers: { settings: ClientSettings; hooks: ConsumerHooks }[] = [];
  const clients: KafkaClientSupplier = {
    consumer: async (settings, hooks) => {
      consumers.push({ settings, hooks });
      const c = await kafka.consumer(settings, hooks);
      // `phantom`: partitions the metadata shows that cannot be read (yet)
      const metadata = c.metadata.bind(c);
      c.metadata = async () => {
        const info = await metadata();
        for (const [topic, partitions] of Object.entries(phantom)) info.topics.set(topic, { partitions, replicas: 1 });
        return info;
      };
      return c;
    },
    producer: (settings) => kafka.producer(settings),
    admin: (settings) => kafka.admin(settings),
  };
  const json = (): Serde<unknown> => Serdes.Json<unknown>({ maxBytes: 1 << 20 }) as Serde<unknown>;
  const published: Publication[] = [];
  const undecodable: string[] = [];
  const source = new FanoutSource({
    client: { 'bootstrap.servers': 'fake:0' },
    clients,
    topics: [
      { channel: 'predictions', topic: 'p', serde: json() },
      { channel: 'alerts', topic: 'a', serde: json() },
      { channel: 'metrics', topic: 'm', serde: json() },
    ],
    historyPerPartition,
    log: createLogger({ level: 'silent' }, 'source-fake'),
    onPublication: (p) => void published.push(p),
    onUndecodable: (topic) => void undecodable.push(topic),
  });
  let seq = 0;
  const append = (
    topic: string,
    partition: number,
    value: unknown,
    o: { key?: string; headers?: { key: string; value: Buffer }[]; txn?: Txn; timestamp?: number } = {},
  ): number => {
    const bytes = value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
    kafka.broker.append(
      topic,
      partition,
      o.key === undefined ? null : Buffer.from(o.key),
      bytes,
      o.timestamp ?? 1_700_000_000_000 + seq++,
      o.headers ?? [],
      o.txn,
    );
    return kafka.broker.log(topic, partition)!.length - 1;
  };
  return { kafka, source, published, undecodable, consumers, append };
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const offsets = (pubs: readonly Publication[], topic: string, partition: number): number[] =>
  pubs.filter((p) => p.topic === topic && p.partition === partition).map((p) => p.offset);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('fan-out: the Kafka source on the in-memory broker', () => {
  let s: ReturnType<typeof setting>;
  afterEach(async () => {
    await s?.source.close();
  });

  it('reads each partition read_committed from historyPerPartition back, is ready once every partition reached its end, then publishes new records decoded and in order', async () => {
    s = setting(5);
    for (let i = 0; i < 8; i++) s.append('p', 0, { i });
    s.append('p', 1, { i: 0 });
    assert.equal(s.source.ready(), false);
    await s.source.start();
    await s.source.whenReady();
    assert.deepEqual(offsets(s.published, 'p', 0), range(3, 8), 'the last 5 of partition 0');
    assert.deepEqual(offsets(s.published, 'p', 1), [0]);
    assert.deepEqual(s.source.partitions('p').sort(), [0, 1]);
    assert.deepEqual(s.source.partitions('a'), [0]);
    assert.deepEqual(
      s.source
        .history('p', 0)!
        .from(0)
        .map((p) => p.offset),
      range(3, 8),
      'the history is warm',
    );
    assert.equal(s.source.history('p', 0)!.next(), 8);

    s.append(
      'p',
      0,
      { model_name: 'm1', score: 0.9, i: 8 },
      {
        key: 'e-8',
        headers: [
          { key: 'other', value: Buffer.from('x') },
          { key: TRACEPARENT, value: Buffer.from(TRACE) },
        ],
        timestamp: 42,
      },
    );
    s.append('a', 0, { alert_id: 'x', score: 0.5 });
    s.append('m', 0, { events: 3 });
    for (let i = 9; i < 20; i++) s.append('p', i % 2, { i });
    await waitFor('the new records', () => s.published.length === 5 + 1 + 1 + 1 + 1 + 11);
    assert.deepEqual(offsets(s.published, 'p', 0), range(3, 14), 'partition 0: in order, none twice, none missed');
    assert.deepEqual(offsets(s.published, 'p', 1), range(0, 7));
    const p8 = s.published.find((p) => p.topic === 'p' && p.offset === 8)!;
    assert.deepEqual(
      { ...p8, receivedAt: 0 },
      {
        channel: 'predictions',
        topic: 'p',
        partition: 0,
        offset: 8,
        key: 'e-8',
        timestamp: 42,
        receivedAt: 0,
        data: { model_name: 'm1', score: 0.9, i: 8 },
        model: 'm1',
        score: 0.9,
        traceparent: TRACE,
      },
    );
    const alert = s.published.find((p) => p.topic === 'a')!;
    assert.deepEqual([alert.channel, alert.key, alert.data, alert.score], ['alerts', null, { alert_id: 'x', score: 0.5 }, 0.5]);
    assert.equal(s.published.find((p) => p.topic === 'm')!.channel, 'metrics');
    assert.ok(s.published.filter((p) => p.topic === 'p').every((p) => p.traceparent === undefined || p.offset === 8));
  });

  it('skips and counts a record that does not decode, skips an empty one without counting it, and publishes the next', async () => {
    s = setting(10);
    s.append('p', 0, { i: 0 });
    s.append('p', 0, Buffer.from('{ not json'));
    s.append('p', 0, null);
    s.append('p', 0, { i: 3 });
    await s.source.start();
    await s.source.whenReady();
    assert.deepEqual(offsets(s.published, 'p', 0), [0, 3]);
    assert.deepEqual(s.undecodable, ['p']);
    s.append('m', 0, Buffer.from([0xff, 0xfe]));
    s.append('m', 0, { ok: true });
    await waitFor('the record after the undecodable one', () => s.published.some((p) => p.topic === 'm'));
    assert.deepEqual(offsets(s.published, 'm', 0), [1]);
    assert.deepEqual(s.undecodable, ['p', 'm']);
  });

  it('read_committed: an open transaction holds its records back, an aborted one is never published, and markers do not count as records', async () => {
    s = setting(100);
    const txn = (): Txn => ({ state: 'open', partitions: new Set(), offsets: new Map() });
    const committed = txn();
    s.append('p', 0, { i: 0 }, { txn: committed });
    s.kafka.broker.endTxn(committed, 'committed'); // marker at 1
    const open = txn();
    s.append('p', 0, { i: 2 }, { txn: open });
    await s.source.start();
    await s.source.whenReady(); // the end is the last stable offset: the open transaction does not hold readiness back
    assert.deepEqual(offsets(s.published, 'p', 0), [0]);
    const aborted = txn();
    s.append('p', 1, { i: 0 }, { txn: aborted });
    s.kafka.broker.endTxn(aborted, 'aborted');
    s.append('p', 1, { i: 2 });
    s.kafka.broker.endTxn(open, 'committed');
    await waitFor('the committed records', () => s.published.length === 3);
    assert.deepEqual(offsets(s.published, 'p', 0), [0, 2]);
    assert.deepEqual(offsets(s.published, 'p', 1), [2], 'the aborted record and its marker are skipped');
  });

  it('reads an older range back from Kafka (within a budget when given) with a consumer of its own, closed afterwards', async () => {
    s = setting(3);
    for (let i = 0; i < 10; i++) s.append('p', 0, { i }, { key: `k${i}` });
    s.append('p', 0, Buffer.from('garbage')); // 10
    s.append('p', 0, { i: 11 });
    await s.source.start();
    await s.source.whenReady();
    assert.deepEqual(
      s.source
        .history('p', 0)!
        .from(0)
        .map((p) => p.offset),
      [9, 11],
      'offsets 9..11 were read at start: 10 does not decode',
    );
    assert.deepEqual(s.undecodable, ['p']);

    const all = await s.source.readRange('p', 0, 2, 9);
    assert.equal(all.low, 0);
    assert.deepEqual(
      all.pubs.map((p) => p.offset),
      range(2, 9),
    );
    assert.deepEqual(
      all.pubs.map((p) => [p.key, (p.data as { i: number }).i]),
      range(2, 9).map((i) => [`k${i}`, i]),
    );

    const budget: ReadBudget = { records: 2, bytes: 1 << 20, keep: () => true };
    const newest = await s.source.readRange('p', 0, 0, 9, budget);
    assert.deepEqual(
      newest.pubs.map((p) => p.offset),
      [7, 8],
      'the newest 2 of the range',
    );
    assert.deepEqual([budget.kept?.records, budget.kept?.leftOut], [2, true]);

    const across = await s.source.readRange('p', 0, 8, 100);
    assert.deepEqual(
      across.pubs.map((p) => p.offset),
      [8, 9, 11],
      'up to the end of the partition, the undecodable record skipped',
    );
    assert.deepEqual(s.undecodable, ['p', 'p'], 'and counted, as a live one is');
    assert.deepEqual((await s.source.readRange('p', 0, 20, 30)).pubs, [], 'a range past the end');
    assert.deepEqual((await s.source.readRange('p', 1, 0, 10)).pubs, [], 'an empty partition');

    const readBacks = s.kafka.consumers.slice(1);
    assert.equal(readBacks.length, 5);
    assert.ok(
      readBacks.every((c) => !c.isConnected()),
      'every read-back consumer is closed',
    );
    assert.ok(s.kafka.consumers[0]!.isConnected());
  });

  it("consumes with the fan-out's settings: no shared group, no commits, read_committed, partition ends reported", async () => {
    s = setting(5);
    s.append('p', 0, { i: 0 });
    await s.source.start();
    await s.source.whenReady();
    await s.source.readRange('p', 0, 0, 1);
    assert.equal(s.consumers.length, 2);
    for (const [i, timeout, connect] of [
      [0, 1, 15_000],
      [1, 20, 10_000],
    ] as const) {
      const { settings, hooks } = s.consumers[i]!;
      assert.deepEqual(
        { ...settings, 'group.id': 'x' },
        {
          'bootstrap.servers': 'fake:0',
          'group.id': 'x',
          'enable.auto.commit': false,
          'isolation.level': 'read_committed',
          'fetch.wait.max.ms': 10,
          'enable.partition.eof': true,
        },
      );
      assert.match(String(settings['group.id']), /^fanout-[0-9a-f-]{36}$/);
      assert.deepEqual(hooks, { consumeTimeoutMs: timeout, connectTimeoutMs: connect });
    }
    assert.notEqual(s.consumers[0]!.settings['group.id'], s.consumers[1]!.settings['group.id']);
    await s.source.close();
    assert.equal(s.kafka.consumers[0]!.isConnected(), false, 'close disconnects the consumer');
  });

  it('partitions added while reading are added from historyPerPartition back, and the others go on from where they were, none twice', async () => {
    s = setting(2);
    for (let i = 0; i < 4; i++) s.append('p', 0, { i });
    await s.source.start();
    await s.source.whenReady();
    s.append('p', 0, { i: 4 });
    await waitFor('offset 4', () => offsets(s.published, 'p', 0).includes(4));
    s.kafka.broker.topics.get('p')!.push([]); // a third partition
    s.append('p', 2, { i: 0 });
    s.append('p', 2, { i: 1 });
    s.append('p', 2, { i: 2 });
    s.append('p', 0, { i: 5 }); // perhaps not read yet when the new partition is added
    // The periodic look for new partitions (every 30 s), now.
    await (s.source as unknown as { discover(): Promise<number> }).discover();
    assert.deepEqual(s.source.partitions('p').sort(), [0, 1, 2]);
    assert.equal(s.kafka.consumers.length, 1, "the reading consumer's own metadata and watermarks: no other connection");
    await waitFor('the new partition', () => offsets(s.published, 'p', 2).length === 2);
    s.append('p', 0, { i: 6 });
    await waitFor('offset 6', () => offsets(s.published, 'p', 0).includes(6));
    assert.deepEqual(offsets(s.published, 'p', 0), range(2, 7), 'partition 0: none twice, none missed');
    assert.deepEqual(offsets(s.published, 'p', 2), [1, 2], 'the new partition: from historyPerPartition back');
    assert.equal(s.source.ready(), true);
  });

  it('a look for new partitions that fails part way still reads the partitions it found before the failure', async () => {
    const phantom: Record<string, number> = {};
    s = setting(5, phantom);
    await s.source.start();
    await s.source.whenReady();
    s.kafka.broker.topics.get('a')!.push([]);
    s.append('a', 1, { i: 0 });
    phantom.m = 2; // m[1] is in the metadata, but no consumer can read its watermarks
    const look = (s.source as unknown as { discover(): Promise<number> }).discover();
    await assert.rejects(look, /Unknown topic or partition/);
    await waitFor('a[1]', () => offsets(s.published, 'a', 1).length === 1);
    assert.deepEqual(s.source.partitions('a').sort(), [0, 1]);
    assert.deepEqual(s.source.partitions('m'), [0]);
    assert.equal(s.source.ready(), true);
  });

  it('fails to start when no consumer can be made, and closes cleanly then', async () => {
    s = setting();
    const failing = new FanoutSource({
      client: {},
      clients: {
        consumer: () => Promise.reject(new Error('no broker')),
        producer: () => Promise.reject(new Error('unused')),
        admin: () => assert.fail('unused'),
      },
      topics: [],
      historyPerPartition: 1,
      log: createLogger({ level: 'silent' }, 'source-fake'),
      onPublication: () => undefined,
      onUndecodable: () => undefined,
    });
    await assert.rejects(failing.start(), /no broker/);
    await failing.close();
  });
});
