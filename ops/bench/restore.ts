/**
 * npm run bench -- restore: a store of `--keys` keys restored from its changelog into
 * RocksDB by a fresh instance (no checkpoint): changelog records/s, on the local broker.
 */
import { JAVA_PARTITIONER } from '../../src/kafka';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Kafka from 'node-rdkafka';
import { createTopics } from '../../src/kafka';
import { kafkaClientConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { KafkaStreams } from '../../src/runtime/kafka-streams';
import { Serdes } from '../../src/serdes';
import { StreamsBuilder } from '../../src/streams/dsl/builder';
import { cpuMeter, type Say } from './load';

export interface RestoreBenchOptions {
  keys: number;
  partitions: number;
}

const S = Serdes.String();
const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`;

export async function benchRestore(config: Config, o: RestoreBenchOptions, say: Say): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const applicationId = `bench-restore-${id}`;
  const input = `${applicationId}-in`;
  const changelog = `${applicationId}-counts-changelog`;
  const client = kafkaClientConfig(config.kafka);
  await createTopics(client, [
    { name: input, partitions: o.partitions, replicationFactor: -1 },
    { name: changelog, partitions: o.partitions, replicationFactor: -1, config: { 'cleanup.policy': 'compact' } },
  ]);
  say(
    `restore benchmark: a count store of ${o.keys.toLocaleString('en-US')} keys restored into RocksDB from its changelog by a fresh instance (no checkpoint), ${o.partitions} partitions, on the local broker`,
  );
  // The changelog as the application would have written it: one record per key, the count as a Long.
  const producer = new Kafka.Producer(
    {
      ...client,
      'linger.ms': 20,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 1_000_000,
      'compression.codec': 'lz4',
    } as Kafka.ProducerGlobalConfig,
    JAVA_PARTITIONER,
  );
  await new Promise<void>((ok, fail) => producer.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  let started = Date.now();
  const long = Serdes.Long();
  for (let i = 0; i < o.keys; i++) {
    for (;;) {
      try {
        producer.produce(changelog, null, long.serialize(changelog, (i % 97) + 1), Buffer.from(`key-${i}`), Date.now());
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }
  await new Promise<void>((ok, fail) => producer.flush(120_000, (err) => (err ? fail(err) : ok())));
  await new Promise<void>((r) => producer.disconnect(() => r()));
  say(`changelog: ${o.keys.toLocaleString('en-US')} records written in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const b = new StreamsBuilder();
  b.stream(input, { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count({ name: 'counts' });
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-restore-'));
  const lines: { msg?: string; records?: number; durationMs?: number; recordsPerSecond?: number }[] = [];
  const logger = createLogger({ level: 'info' }, 'bench', { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) });
  const streams = new KafkaStreams(b.build(), { applicationId, stateDir, kafka: kafkaClientConfig(config.kafka), logger, handleSignals: false });
  try {
    started = Date.now();
    const cpu = cpuMeter(config);
    await streams.start();
    await new Promise<void>((resolve) => (streams.state === 'RUNNING' ? resolve() : streams.on('stateChange', (s) => s === 'RUNNING' && resolve())));
    const usage = cpu.stop(Date.now() - started);
    const done = lines.find((l) => l.msg === 'state stores restored');
    if (!done) throw new Error('the instance became RUNNING without restoring: was the changelog written?');
    say(
      `restored ${done.records!.toLocaleString('en-US')} changelog records in ${(done.durationMs! / 1000).toFixed(2)} s = ${done.recordsPerSecond!.toLocaleString('en-US')} records/s (start to RUNNING: ${((Date.now() - started) / 1000).toFixed(1)} s); RSS ${mib(process.memoryUsage().rss)}`,
    );
    say(`  CPU from start to RUNNING: this process ${usage.self}% of one core, broker ${usage.broker}% of one core`);
    for (const l of lines.filter((x) => x.msg === 'restoring state stores')) say(`  progress: ${JSON.stringify(l)}`);
  } finally {
    await streams.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
