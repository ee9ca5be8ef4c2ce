/**
 * One contract for restore consumers (Kafka Streams' restore consumer: assign, read in
 * batches, watermarks), run on every implementation: the native batch reader and
 * node-rdkafka's consumer on the real broker (test/integration/restore-consumer.test.ts),
 * and the in-memory fake (test/unit/kafka/fake-contract.test.ts).
 */
import { strict as assert } from 'node:assert';
import type { ClientSettings, RecordBatch, RestoreConsumer, TopicPartition } from '../../src/kafka';
import type { ContractSetup } from './kafka-contract';

export interface RestoreContractSetup extends ContractSetup {
  restoreConsumer(settings: ClientSettings): Promise<RestoreConsumer>;
}

interface Read {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
}

export function restoreConsumerContract(name: string, setup: () => RestoreContractSetup): void {
  describe(`restore consumer contract: ${name}`, function () {
    this.timeout(120_000);
    const open: RestoreConsumer[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.disconnect().catch(() => undefined)));
    });
    const s = (): RestoreContractSetup => setup();
    const text = (b: Buffer | null): string | null => (b === null ? null : b.toString());
    const connect = async (): Promise<RestoreConsumer> => {
      const c = await s().restoreConsumer({
        ...s().settings,
        'group.id': s().unique('contract-restore'),
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        'enable.partition.eof': true,
      });
      open.push(c);
      return c;
    };
    /** Records as plain values, and the partitions reported at their end, until every one of `partitions` ended. */
    const readToEnd = async (c: RestoreConsumer, partitions: number): Promise<{ records: Read[]; eof: TopicPartition[] }> => {
      const records: Read[] = [];
      const eof: TopicPartition[] = [];
      const deadline = Date.now() + s().patienceMs;
      while (eof.length < partitions && Date.now() < deadline) {
        const b: RecordBatch = await c.consumeBatch(1000);
        for (let i = 0; i < b.length; i++)
          records.push({ topic: b.topic(i), partition: b.partition(i), offset: b.offset(i), key: text(b.key(i)), value: text(b.value(i)) });
        eof.push(...b.eof.map((e) => ({ topic: e.topic, partition: e.partition })));
      }
      return { records, eof };
    };
    /** One committed transaction of these [key, value] pairs on partition 0, then one aborted, then one more committed. */
    const write = async (topic: string, partitions: number, pairs: [string | null, string | null][]): Promise<void> => {
      await s().createTopic(topic, partitions);
      const p = await s().clients.producer({ ...s().settings, 'transactional.id': s().unique('contract-txn'), 'enable.idempotence': true, acks: 'all' });
      try {
        await p.initTransactions(30_000);
        await p.beginTransaction();
        for (let part = 0; part < partitions; part++)
          for (const [k, v] of pairs) p.produce(topic, part, v === null ? null : Buffer.from(v), k === null ? null : Buffer.from(k), Date.now());
        await p.commitTransaction(30_000);
        await p.beginTransaction();
        p.produce(topic, 0, Buffer.from('aborted'), Buffer.from('aborted'), Date.now());
        await p.flush(10_000);
        await p.abortTransaction(30_000);
        await p.beginTransaction();
        p.produce(topic, 0, Buffer.from('last'), Buffer.from('last'), Date.now());
        await p.commitTransaction(30_000);
      } finally {
        await p.disconnect(5_000);
      }
    };

    it('reads committed records in order, keys and values as bytes or null, never an aborted one, and reports the end at the last stable offset', async () => {
      const topic = s().unique('contract-restore-read');
      await write(topic, 1, [
        ['a', '1'],
        ['b', null],
        [null, '3'],
        ['', ''],
      ]);
      const c = await connect();
      const { high } = await c.queryWatermarks(topic, 0, 10_000);
      c.assign([{ topic, partition: 0, offset: 0 }]);
      const { records, eof } = await readToEnd(c, 1);
      assert.deepEqual(
        records.map((r) => [r.key, r.value]),
        [
          ['a', '1'],
          ['b', null],
          [null, '3'],
          ['', ''],
          ['last', 'last'],
        ],
      );
      assert.ok(
        records.every((r, i) => r.topic === topic && r.partition === 0 && (i === 0 || r.offset > records[i - 1]!.offset)),
        'one partition, offsets rising',
      );
      assert.deepEqual(eof, [{ topic, partition: 0 }]);
      assert.ok(high > records.at(-1)!.offset, 'the end offset is past the last record (its commit marker)');
    });

    it('reads from the assigned offset, every partition of several topics once', async () => {
      const one = s().unique('contract-restore-a');
      const two = s().unique('contract-restore-b');
      await write(one, 2, [['k', 'v']]);
      await write(two, 1, [
        ['x', 'y'],
        ['z', 'w'],
      ]);
      const c = await connect();
      c.assign([
        { topic: one, partition: 0, offset: 1 },
        { topic: one, partition: 1, offset: 0 },
        { topic: two, partition: 0, offset: 0 },
      ]);
      const { records, eof } = await readToEnd(c, 3);
      const seen = (t: string, p: number) =>
        records
          .filter((r) => r.topic === t && r.partition === p)
          .map((r) => r.value)
          .sort();
      assert.deepEqual(seen(one, 0), ['last'], 'from offset 1: the aborted record is skipped and the first one was before the offset');
      assert.deepEqual(seen(one, 1), ['v']);
      assert.deepEqual(seen(two, 0), ['last', 'w', 'y']);
      assert.deepEqual(eof.map((e) => `${e.topic}:${e.partition}`).sort(), [`${one}:0`, `${one}:1`, `${two}:0`].sort());
    });

    it('refuses to read once disconnected, and a second disconnect is harmless', async () => {
      const c = await connect();
      await c.disconnect();
      assert.equal(c.isConnected(), false);
      await assert.rejects(c.consumeBatch(10));
      await c.disconnect();
    });
  });
}
