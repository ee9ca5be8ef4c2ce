import { strict as assert } from 'node:assert';
import type Kafka from 'node-rdkafka';
import { useStack } from '../support/stack';
import { call, connectedProducer, createTopic, readAll, uniqueName } from '../support/kafka';

describe('local Kafka: transactions through node-rdkafka (real broker)', function () {
  this.timeout(120_000);
  const config = useStack();
  let producer: Kafka.Producer | undefined;

  afterEach(async () => {
    if (producer?.isConnected()) await call((cb) => producer!.disconnect((err) => cb(err)));
    producer = undefined;
  });

  async function produceIn(p: Kafka.Producer, topic: string, values: string[]): Promise<void> {
    for (const v of values) p.produce(topic, 0, Buffer.from(v), null);
    await call((cb) => p.flush(10_000, (err) => cb(err)));
  }

  it('shows a committed transaction to read_committed consumers and hides an aborted one', async () => {
    const topic = uniqueName('it-txn');
    await createTopic(config(), topic);
    producer = await connectedProducer(config(), { 'transactional.id': uniqueName('it-txn-producer') });
    await call((cb) => producer!.initTransactions(15_000, (err) => cb(err)));

    await call((cb) => producer!.beginTransaction((err) => cb(err)));
    await produceIn(producer, topic, ['committed-1', 'committed-2', 'committed-3']);
    await call((cb) => producer!.commitTransaction(15_000, (err) => cb(err)));

    await call((cb) => producer!.beginTransaction((err) => cb(err)));
    await produceIn(producer, topic, ['aborted-1', 'aborted-2']);
    await call((cb) => producer!.abortTransaction(15_000, (err) => cb(err)));

    const committed = await readAll(config(), topic, 'read_committed', 3);
    assert.deepEqual(
      committed.map((r) => r.value),
      ['committed-1', 'committed-2', 'committed-3'],
    );

    // The aborted records did reach the log: a read_uncommitted reader sees them, so
    // the read_committed result above is the broker's filtering, not a lost produce.
    const everything = await readAll(config(), topic, 'read_uncommitted', 5);
    assert.deepEqual(
      everything.map((r) => r.value),
      ['committed-1', 'committed-2', 'committed-3', 'aborted-1', 'aborted-2'],
    );
  });

  it('fences the older producer when a second one starts with the same transactional.id', async () => {
    const topic = uniqueName('it-fence');
    await createTopic(config(), topic);
    const txnId = uniqueName('it-fence-producer');
    producer = await connectedProducer(config(), { 'transactional.id': txnId });
    await call((cb) => producer!.initTransactions(15_000, (err) => cb(err)));
    const successor = await connectedProducer(config(), { 'transactional.id': txnId });
    try {
      await call((cb) => successor.initTransactions(15_000, (err) => cb(err)));
      await call((cb) => producer!.beginTransaction((err) => cb(err)));
      producer.produce(topic, 0, Buffer.from('zombie'), null);
      const err = await call((cb) => producer!.commitTransaction(15_000, (e) => cb(e))).then(
        () => undefined,
        (e: Kafka.LibrdKafkaError) => e,
      );
      assert.ok(err, 'the fenced producer must not commit');
      assert.equal(err.isFatal, true, `expected a fatal (fenced) error, got ${err.message}`);
      const seen = await readAll(config(), topic, 'read_committed', 0, 1500);
      assert.deepEqual(seen, []);
    } finally {
      await call((cb) => successor.disconnect((e) => cb(e)));
    }
  });
});
