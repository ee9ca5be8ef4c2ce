/**
 * One contract for the Kafka clients the runtime relies on, run on the in-memory fake
 * (test/unit/kafka/fake-contract.test.ts) and on the node-rdkafka adapter against the real
 * broker (test/integration/kafka-contract.test.ts): the fake the runtime's broker-free
 * suite uses behaves as librdkafka does in every respect checked here.
 */
import { strict as assert } from 'node:assert';
import type { ClientSettings, ConsumedRecord, Consumer, KafkaClientSupplier, Producer, TopicPartition } from '../../src/kafka';
import { partitionBy } from '../../src/partitioner';
import { classify } from '../../src/runtime/txn-errors';

export interface ContractSetup {
  clients: KafkaClientSupplier;
  /** Connection settings every client starts from. */
  settings: ClientSettings;
  createTopic(name: string, partitions: number): Promise<void>;
  unique(prefix: string): string;
  /** Longest a step may wait for the broker (rebalances are slow on a real one). */
  patienceMs: number;
}

export function kafkaClientContract(name: string, setup: () => ContractSetup): void {
  describe(`Kafka client contract: ${name}`, function () {
    this.timeout(120_000);
    const open: { disconnect(t: number): Promise<void> }[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.disconnect(5_000).catch(() => undefined)));
    });

    const s = (): ContractSetup => setup();
    const txProducer = async (): Promise<Producer> => {
      const p = await s().clients.producer(
        { ...s().settings, 'transactional.id': s().unique('contract-txn'), 'enable.idempotence': true, acks: 'all', 'linger.ms': 5 },
        { javaPartitioner: true },
      );
      open.push(p);
      await p.initTransactions(30_000);
      return p;
    };
    const reader = async (isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'): Promise<Consumer> => {
      const c = await s().clients.consumer(
        { ...s().settings, 'group.id': s().unique('contract-reader'), 'enable.auto.commit': false, 'isolation.level': isolation, 'enable.partition.eof': true },
        { consumeTimeoutMs: 100 },
      );
      open.push({ disconnect: () => c.disconnect() });
      return c;
    };
    /** Consumes until `enough` says so or the patience runs out. */
    const readUntil = async (c: Consumer, enough: (got: ConsumedRecord[]) => boolean): Promise<ConsumedRecord[]> => {
      const got: ConsumedRecord[] = [];
      const deadline = Date.now() + s().patienceMs;
      while (!enough(got) && Date.now() < deadline) got.push(...(await c.consume(100)));
      return got;
    };
    const text = (b: Buffer | null): string | null => (b === null ? null : b.toString());

    it('shows a committed transaction to read_committed consumers, in order with keys, headers and timestamps, and never an aborted one', async () => {
      const topic = s().unique('contract-visible');
      await s().createTopic(topic, 1);
      const p = await txProducer();
      await p.beginTransaction();
      for (const v of ['a', 'b', 'c']) p.produce(topic, 0, Buffer.from(v), Buffer.from(`k-${v}`), 1_700_000_000_000, [{ key: 'h', value: Buffer.from(v) }]);
      await p.commitTransaction(30_000);
      await p.beginTransaction();
      for (const v of ['x', 'y']) p.produce(topic, 0, Buffer.from(v), null, Date.now());
      // As the runtime does: in-flight records are delivered before the abort (an abort racing them fails, librdkafka#4849).
      await p.flush(10_000);
      await p.abortTransaction(30_000);
      await p.beginTransaction();
      p.produce(topic, 0, Buffer.from('d'), null, Date.now());
      await p.commitTransaction(30_000);

      const c = await reader();
      c.assign([{ topic, partition: 0, offset: 0 }]);
      const got = await readUntil(c, (g) => g.some((r) => text(r.value) === 'd'));
      assert.deepEqual(
        got.map((r) => text(r.value)),
        ['a', 'b', 'c', 'd'],
      );
      assert.deepEqual(
        got.slice(0, 3).map((r) => [text(r.key), r.timestamp, r.headers.map((h) => `${h.key}=${h.value.toString()}`).join()]),
        [
          ['k-a', 1_700_000_000_000, 'h=a'],
          ['k-b', 1_700_000_000_000, 'h=b'],
          ['k-c', 1_700_000_000_000, 'h=c'],
        ],
      );
      assert.equal(got[3]!.key, null);
      assert.deepEqual(got[3]!.headers, []);
      assert.ok(
        got.every((r, i) => i === 0 || r.offset > got[i - 1]!.offset),
        'offsets increase',
      );
      assert.ok(got[3]!.offset > got[2]!.offset + 3, 'the aborted records and both markers took offsets');
    });

    it('keeps a read_committed consumer, and the last stable offset, before a transaction still open', async () => {
      const topic = s().unique('contract-lso');
      await s().createTopic(topic, 1);
      const p = await txProducer();
      await p.beginTransaction();
      p.produce(topic, 0, Buffer.from('first'), null, Date.now());
      await p.commitTransaction(30_000);
      const c = await reader();
      c.assign([{ topic, partition: 0, offset: 0 }]);
      assert.deepEqual(
        (await readUntil(c, (g) => g.length >= 1)).map((r) => text(r.value)),
        ['first'],
      );
      const stable = (await c.queryWatermarks(topic, 0, 10_000)).high;
      await p.beginTransaction();
      p.produce(topic, 0, Buffer.from('pending'), null, Date.now());
      await p.flush(10_000);
      assert.equal((await c.queryWatermarks(topic, 0, 10_000)).high, stable, 'the open transaction is past the last stable offset');
      assert.deepEqual(await c.consume(10), [], 'nothing of the open transaction is read');
      await p.commitTransaction(30_000);
      assert.ok((await c.queryWatermarks(topic, 0, 10_000)).high > stable);
      assert.deepEqual(
        (await readUntil(c, (g) => g.length >= 1)).map((r) => text(r.value)),
        ['pending'],
      );
    });

    it('reports the end of a partition, answers -1 for offsets never committed, and seeks', async () => {
      const topic = s().unique('contract-seek');
      await s().createTopic(topic, 1);
      const p = await txProducer();
      await p.beginTransaction();
      for (const v of ['0', '1', '2']) p.produce(topic, 0, Buffer.from(v), null, Date.now());
      await p.commitTransaction(30_000);
      const c = await reader();
      const ends: TopicPartition[] = [];
      const stop = c.onPartitionEof((tp) => ends.push(tp));
      c.assign([{ topic, partition: 0, offset: 0 }]);
      assert.deepEqual(c.position([{ topic, partition: 0 }]), [{ topic, partition: 0, offset: -1 }], 'no position before anything was fetched');
      await readUntil(c, () => ends.length > 0);
      stop();
      assert.deepEqual(ends[0], { topic, partition: 0 });
      assert.deepEqual(await c.committed([{ topic, partition: 0 }], 10_000), [{ topic, partition: 0, offset: -1 }]);
      await c.seek({ topic, partition: 0, offset: 1 }, 10_000);
      const again = await readUntil(c, (g) => g.length >= 2);
      assert.deepEqual(
        again.map((r) => text(r.value)),
        ['1', '2'],
      );
      assert.ok(c.position([{ topic, partition: 0 }])[0]!.offset > again[1]!.offset);
    });

    it("makes offsets sent to a transaction the group's committed offsets when it commits, and not when it aborts", async () => {
      const topic = s().unique('contract-offsets');
      await s().createTopic(topic, 2);
      const group = s().unique('contract-group');
      const events: { kind: string; partitions: TopicPartition[] }[] = [];
      const member = await s().clients.consumer(
        {
          ...s().settings,
          'group.id': group,
          'enable.auto.commit': false,
          'isolation.level': 'read_committed',
          'partition.assignment.strategy': 'cooperative-sticky',
        },
        {
          consumeTimeoutMs: 100,
          onRebalance: (kind, partitions) => {
            events.push({ kind, partitions });
            if (kind === 'assign') member.incrementalAssign(partitions);
            else member.incrementalUnassign(partitions);
          },
        },
      );
      open.push({ disconnect: () => member.disconnect() });
      member.subscribe([topic]);
      await readUntil(member, () => events.length > 0);
      assert.deepEqual(events[0]!.kind, 'assign');
      assert.deepEqual(events[0]!.partitions.map((tp) => tp.partition).sort(), [0, 1], 'a single member is assigned every partition');

      const p = await txProducer();
      await p.beginTransaction();
      p.produce(topic, 0, Buffer.from('v'), null, Date.now());
      // Through a pass-through wrapper, as an application's supplier may add one: `inner` leads to the client.
      const wrapped: Consumer = new Proxy(member, { get: (target, prop) => (prop === 'inner' ? target : Reflect.get(target, prop, target)) });
      await p.sendOffsetsToTransaction(
        [
          { topic, partition: 0, offset: 5 },
          { topic, partition: 1, offset: 3 },
        ],
        wrapped,
        30_000,
      );
      await p.commitTransaction(30_000);
      assert.deepEqual(
        (
          await member.committed(
            [
              { topic, partition: 0 },
              { topic, partition: 1 },
            ],
            10_000,
          )
        ).map((o) => o.offset),
        [5, 3],
      );
      await p.beginTransaction();
      await p.sendOffsetsToTransaction([{ topic, partition: 0, offset: 9 }], member, 30_000);
      await p.abortTransaction(30_000);
      assert.deepEqual(
        (await member.committed([{ topic, partition: 0 }], 10_000)).map((o) => o.offset),
        [5],
      );
    });

    it('places keyed records as Java clients do with javaPartitioner (murmur2), else as librdkafka does (CRC32)', async () => {
      const topic = s().unique('contract-placement');
      await s().createTopic(topic, 4);
      const keys = Array.from({ length: 12 }, (_, i) => Buffer.from(`key-${i}`));
      for (const java of [true, false]) {
        const p = await s().clients.producer({ ...s().settings, 'enable.idempotence': true, 'linger.ms': 0 }, { javaPartitioner: java });
        open.push(p);
        for (const k of keys) p.produce(topic, null, Buffer.from(java ? 'java' : 'default'), k, Date.now());
        await p.flush(10_000);
      }
      const c = await reader('read_uncommitted');
      c.assign(Array.from({ length: 4 }, (_, partition) => ({ topic, partition, offset: 0 })));
      const got = await readUntil(c, (g) => g.length >= keys.length * 2);
      for (const r of got) {
        const partitioner = text(r.value) === 'java' ? 'murmur2' : 'crc32';
        assert.equal(r.partition, partitionBy(partitioner, r.key!, 4), `${text(r.key)} by ${partitioner}`);
      }
      assert.equal(got.length, keys.length * 2);
    });

    it('adds partitions from a given offset (incrementalAssign), and knows the topic from its own metadata', async () => {
      const topic = s().unique('contract-incremental');
      await s().createTopic(topic, 2);
      const p = await txProducer();
      await p.beginTransaction();
      for (const v of ['0', '1', '2']) p.produce(topic, 1, Buffer.from(v), null, Date.now());
      await p.commitTransaction(30_000);
      const c = await reader();
      assert.equal((await c.metadata(10_000)).topics.get(topic)?.partitions, 2);
      c.assign([]);
      c.incrementalAssign([{ topic, partition: 1, offset: 1 }]);
      assert.deepEqual(
        (await readUntil(c, (g) => g.length >= 2)).map((r) => `${r.partition}:${text(r.value)}`),
        ['1:1', '1:2'],
      );
    });

    it('fences the older of two producers with one transactional.id: its next transactional call fails as fatal', async () => {
      const topic = s().unique('contract-fence');
      await s().createTopic(topic, 1);
      const id = s().unique('contract-fenced');
      const settings = { ...s().settings, 'transactional.id': id, 'enable.idempotence': true, acks: 'all' };
      const older = await s().clients.producer(settings);
      open.push(older);
      await older.initTransactions(30_000);
      await older.beginTransaction();
      older.produce(topic, 0, Buffer.from('zombie'), null, Date.now());
      const newer = await s().clients.producer(settings);
      open.push(newer);
      await newer.initTransactions(30_000);
      const err = await older.commitTransaction(30_000).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err !== undefined, 'the fenced producer cannot commit');
      assert.equal(classify(err), 'fatal');
      const c = await reader();
      c.assign([{ topic, partition: 0, offset: 0 }]);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(
        (await c.consume(10)).map((r) => text(r.value)),
        [],
        'nothing of the fenced transaction is visible',
      );
    });
  });
}
