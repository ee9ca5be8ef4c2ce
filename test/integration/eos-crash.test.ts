import { strict as assert } from 'node:assert';
import Kafka from 'node-rdkafka';
import { kafkaClientConfig, type Config } from '../../src/config';
import { runEosVerification } from '../../src/eos-verify/runner';
import { verifyEos, type VerifyResult } from '../../src/eos-verify/verify';
import { call, createTopic, uniqueName } from '../support/kafka';
import { cleanEnv } from '../support/cli';
import { useStack } from '../support/stack';

/**
 * Apache Kafka's method for proving exactly-once (streams_eos_test.py): the application
 * runs as separate processes, is killed with SIGKILL (or joined and left by a second
 * instance) while input flows, and the verifier recomputes the output from the input.
 */
/**
 * Every running aggregate as recomputed from the input: `min` emits every update (one per
 * input), `sum` emits through its cache (one per key per commit, so fewer, each checked).
 */
function assertAggregates(result: VerifyResult, inputs: number): void {
  const [sum, min] = result.aggregates;
  assert.deepEqual([sum?.name, sum?.wrongKeys, min?.name, min?.wrongKeys, min?.actual], ['sum', 0, 'min', 0, inputs], result.report.join('\n'));
  assert.ok(sum!.actual > 0 && sum!.actual <= inputs, `sum: ${sum!.actual} outputs for ${inputs} inputs`);
}

describe('exactly-once under crashes and rebalances (real broker, child processes)', function () {
  this.timeout(300_000);
  const config = useStack();
  const lines: string[] = [];
  const run = (
    records: number,
    kills: number,
    bounces: number,
    repartition = false,
    checkpointFault?: 'delete' | 'garbage',
    threads = 1,
  ): ReturnType<typeof runEosVerification> =>
    runEosVerification({
      client: kafkaClientConfig(config().kafka),
      appEnv: cleanEnv({}),
      records,
      partitions: 3,
      keys: 100,
      rate: 20_000,
      kills,
      bounces,
      repartition,
      checkpointFault,
      threads,
      say: (l) => lines.push(l),
    });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stdout.write(`${lines.join('\n')}\n`);
    lines.length = 0;
  });

  it('SIGKILL three times during 100,000 records: nothing lost, nothing duplicated, no hanging transaction', async () => {
    const result = await run(100_000, 3, 0);
    assert.equal(lines.filter((l) => l.startsWith('kill ')).length, 3);
    // RocksDB stores come back from their checkpoints: only the changelogs' tails are read.
    assert.equal(lines.filter((l) => l.endsWith('stores restored from their checkpoint')).length, 3, lines.join('\n'));
    assert.deepEqual(result.report.slice(0, 1), ['ALL-RECORDS-DELIVERED'], result.report.join('\n'));
    assert.equal(result.inputRecords, 100_000);
    assert.equal(result.echoRecords, 100_000);
    assert.deepEqual(result.hangingPartitions, []);
    // The running sum and min per key come from RocksDB stores brought back after every kill.
    assertAggregates(result, 100_000);
  });

  it('a second instance joining and leaving twice under load: verified the same way', async () => {
    const result = await run(60_000, 0, 2);
    assert.equal(lines.filter((l) => / joins$/.test(l)).length, 2);
    assert.equal(result.passed, true, result.report.join('\n'));
    assert.equal(result.echoRecords, 60_000);
  });

  it('through a repartition topic (two sub-topologies), SIGKILL twice: still exactly once', async () => {
    const result = await run(50_000, 2, 0, true);
    assert.equal(result.passed, true, result.report.join('\n'));
    assert.equal(result.echoRecords, 50_000);
    assertAggregates(result, 50_000);
  });

  it('two stream threads per instance (a process each), the whole instance SIGKILLed twice and a second one joining and leaving: still exactly once', async () => {
    const result = await run(60_000, 2, 1, false, undefined, 2);
    assert.ok(lines.includes('instance-1 runs stream threads 1, 2, one process each'), lines.join('\n'));
    assert.equal(lines.filter((l) => l.startsWith('kill ')).length, 2);
    assert.equal(result.passed, true, result.report.join('\n'));
    assert.equal(result.echoRecords, 60_000);
    assert.deepEqual(result.hangingPartitions, []);
    assertAggregates(result, 60_000);
  });

  for (const fault of ['delete', 'garbage'] as const) {
    it(`checkpoints ${fault === 'delete' ? 'deleted' : 'overwritten with garbage'} before each restart: the stores are wiped and rebuilt, and every aggregate is still exact`, async () => {
      const result = await run(40_000, 2, 0, false, fault);
      assert.equal(lines.filter((l) => l.startsWith('checkpoint fault: ') && !l.startsWith('checkpoint fault: 0 ')).length, 2, lines.join('\n'));
      assert.equal(lines.filter((l) => l.endsWith('stores wiped and restored from the beginning (no usable checkpoint)')).length, 2, lines.join('\n'));
      assert.equal(result.passed, true, result.report.join('\n'));
      assertAggregates(result, 40_000);
    });
  }

  it('the verifier does catch a lost and a duplicated record', async () => {
    const input = uniqueName('verifier-in');
    const echo = uniqueName('verifier-echo');
    const applicationId = uniqueName('verifier-app');
    await createTopic(config(), input, 1);
    await createTopic(config(), echo, 1);
    await write(config(), input, ['a=0', 'a=1', 'a=2']);
    await write(config(), echo, ['a=0', 'a=0', 'a=2']); // 1 lost, 0 duplicated
    await commitGroupOffset(config(), applicationId, input, 3);
    const result = await verifyEos({ client: kafkaClientConfig(config().kafka), applicationId, input, echo, settleMs: 1000 });
    assert.equal(result.passed, false);
    assert.equal(result.report[0], 'EOS-VERIFICATION-FAILED');
    assert.equal(result.missing, 1);
    assert.equal(result.duplicated, 1);
  });
});

async function write(config: Config, topic: string, records: string[]): Promise<void> {
  const producer = new Kafka.Producer({ ...kafkaClientConfig(config.kafka) });
  await call((cb) => producer.connect({ timeout: 15_000 }, (err) => cb(err)));
  for (const r of records) {
    const [key, value] = r.split('=');
    producer.produce(topic, 0, Buffer.from(value!), Buffer.from(key!));
  }
  await call((cb) => producer.flush(10_000, (err) => cb(err)));
  await call((cb) => producer.disconnect((err) => cb(err)));
}

async function commitGroupOffset(config: Config, groupId: string, topic: string, offset: number): Promise<void> {
  const consumer = new Kafka.KafkaConsumer({ ...kafkaClientConfig(config.kafka), 'group.id': groupId, 'enable.auto.commit': false }, {});
  await call((cb) => consumer.connect({ timeout: 15_000 }, (err) => cb(err)));
  consumer.assign([{ topic, partition: 0 }]);
  consumer.commitSync([{ topic, partition: 0, offset }]);
  await call((cb) => consumer.disconnect((err) => cb(err)));
}
