import { strict as assert } from 'node:assert';
import { kafkaClientConfig } from '../../src/config';
import { rdkafkaClients, restoreConsumerOver } from '../../src/kafka';
import { nativeBatchReader } from '../../src/kafka/rdkafka/batch-consumer';
import type { RdKafkaConsumer } from '../../src/kafka/rdkafka/consumer';
import { nativeGroupReader } from '../../src/kafka/rdkafka/group-batch';
import { restoreConsumerContract } from '../support/restore-consumer-contract';
import { createTopic, uniqueName } from '../support/kafka';
import { useStack } from '../support/stack';

const config = useStack();
const base = () => ({
  clients: rdkafkaClients,
  settings: kafkaClientConfig(config().kafka),
  createTopic: (name: string, partitions: number) => createTopic(config(), name, partitions),
  unique: uniqueName,
  patienceMs: 30_000,
});
restoreConsumerContract('the native batch reader on the real broker', () => ({ ...base(), restoreConsumer: rdkafkaClients.restoreConsumer! }));
restoreConsumerContract("node-rdkafka's consumer on the real broker", () => ({
  ...base(),
  restoreConsumer: async (settings) => restoreConsumerOver(await rdkafkaClients.consumer(settings, { consumeTimeoutMs: 100 }), 'the before'),
}));

describe('the native batch readers', () => {
  it('is built by npm run build and loads on the librdkafka node-rdkafka loaded', async () => {
    const native = nativeBatchReader();
    assert.notEqual(typeof native, 'string', String(native));
    const c = await rdkafkaClients.restoreConsumer!({ ...kafkaClientConfig(config().kafka), 'group.id': uniqueName('native') });
    assert.equal(c.reads, 'batch');
    await c.disconnect();
  });

  it("the processing consumer reads whole batches from node-rdkafka's own consumer", async () => {
    const c = (await rdkafkaClients.consumer(
      { ...kafkaClientConfig(config().kafka), 'group.id': uniqueName('group-batch') },
      { consumeTimeoutMs: 10 },
    )) as RdKafkaConsumer;
    try {
      assert.equal(c.reads, 'batch', String(nativeGroupReader()));
    } finally {
      await c.disconnect();
    }
  });

  it('answers settings librdkafka refuses and out-of-range arguments with errors, not a crash', async () => {
    await assert.rejects(rdkafkaClients.restoreConsumer!({ ...kafkaClientConfig(config().kafka), 'no.such.setting': 'x' }), (e: Error & { code: number }) => {
      assert.equal(e.code, -186);
      assert.match(e.message, /no\.such\.setting/);
      return true;
    });
    // Without a group there is no consumer queue to read: refused, not a crash at the first read.
    await assert.rejects(rdkafkaClients.restoreConsumer!({ ...kafkaClientConfig(config().kafka) }), /needs a group\.id/);
    // node-rdkafka's own callback switches are not librdkafka properties: left out, not refused.
    const c = await rdkafkaClients.restoreConsumer!({ ...kafkaClientConfig(config().kafka), 'group.id': uniqueName('native'), dr_cb: true });
    try {
      await assert.rejects(c.consumeBatch(0), /max 1–1000000/);
      await assert.rejects(c.consumeBatch(2_000_000), /max 1–1000000/);
      assert.throws(() => c.assign([{ topic: '', partition: 0, offset: 0 }]), /topic name/);
      assert.throws(() => c.assign([{ topic: 't', partition: -1, offset: 0 }]), /partition >= 0/);
      assert.throws(() => c.assign([{ topic: 'x'.repeat(600), partition: 0, offset: 0 }]), /topic name/);
      await assert.rejects(c.queryWatermarks('t', -3, 1000), /partition >= 0/);
      // Still usable after the refusals.
      assert.equal((await c.consumeBatch(10)).length, 0);
    } finally {
      await c.disconnect();
    }
  });
});
