import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Kafka from 'node-rdkafka';
import { clusterInfo } from '../../ops/kafka/admin';
import { kafkaClientConfig, loadConfig } from '../../src/config';
import { cleanEnv, runTs } from '../support/cli';
import { call, uniqueName } from '../support/kafka';

/**
 * The node count is a parameter of the local stack: a three-node KRaft cluster on one
 * machine, with replicated internal topics, for the failure tests of later steps.
 */
describe('npm run stack -- up --nodes 3 (real three-node cluster)', function () {
  this.timeout(300_000);
  // Fixed ports below the kernel's ephemeral range (32768+), so no client connection can hold one.
  const env = cleanEnv({
    STREAMING_STACK__DIR: mkdtempSync(join(tmpdir(), 'sa-3node-')),
    STREAMING_STACK__KAFKA_PORT: '29092',
    STREAMING_STACK__CONTROLLER_PORT: '29192',
    STREAMING_STACK__BROKER_HEAP_MB: '256',
    // Only Kafka is under test here; an "external" registry URL keeps the registry out.
    STREAMING_SCHEMA_REGISTRY__URL: 'http://127.0.0.1:1',
    STREAMING_TOPICS__EVENTS: 'three-node-events',
  });

  after(async () => {
    await runTs('ops/kafka/cli.ts', ['down', '--purge'], env, 120_000);
  });

  it('starts three brokers, replicates new topics three ways and commits transactions', async () => {
    const up = await runTs('ops/kafka/cli.ts', ['up', '--nodes', '3'], env, 240_000);
    assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
    assert.match(up.stdout, /kafka: starting 3 node\(s\) \(127\.0\.0\.1:29092, 127\.0\.0\.1:29093, 127\.0\.0\.1:29094\)/);

    const config = loadConfig({ ...env, STREAMING_STACK__NODES: '3' });
    assert.deepEqual(config.kafka.bootstrapServers, ['127.0.0.1:29092', '127.0.0.1:29093', '127.0.0.1:29094']);
    const info = await clusterInfo(kafkaClientConfig(config.kafka), 10_000);
    assert.deepEqual(info.brokers.map((b) => b.port).sort(), [29092, 29093, 29094]);
    assert.deepEqual(info.topics.get('three-node-events'), { partitions: 6, replicas: 3 });

    const producer = new Kafka.Producer({ ...kafkaClientConfig(config.kafka), 'transactional.id': uniqueName('three-node') });
    await call((cb) => producer.connect({ timeout: 15_000 }, (err) => cb(err)));
    try {
      await call((cb) => producer.initTransactions(30_000, (err) => cb(err)));
      await call((cb) => producer.beginTransaction((err) => cb(err)));
      producer.produce('three-node-events', 0, Buffer.from('replicated'), null);
      await call((cb) => producer.commitTransaction(30_000, (err) => cb(err)));
    } finally {
      await call((cb) => producer.disconnect((err) => cb(err)));
    }

    const status = await runTs('ops/kafka/cli.ts', ['status', '--nodes', '3'], env);
    assert.equal((status.stdout.match(/kafka node \d: .* running, pid \d+/g) ?? []).length, 3, status.stdout);
  });
});
