/** Small promise wrappers over node-rdkafka for integration tests. */
import { JAVA_PARTITIONER } from '../../src/kafka';
import { randomUUID } from 'node:crypto';
import Kafka from 'node-rdkafka';
import { createTopics } from '../../ops/kafka/admin';
import { kafkaClientConfig, type Config } from '../../src/config';

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTopic(config: Config, name: string, partitions = 1): Promise<void> {
  await createTopics(kafkaClientConfig(config.kafka), [{ name, partitions, replicationFactor: -1 }]);
}

export function call<T = void>(fn: (cb: (err: Kafka.LibrdKafkaError | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

export async function connectedProducer(config: Config, extra: Kafka.ProducerGlobalConfig = {}): Promise<Kafka.Producer> {
  const producer = new Kafka.Producer({ ...kafkaClientConfig(config.kafka), dr_cb: true, ...extra }, JAVA_PARTITIONER);
  await call((cb) => producer.connect({ timeout: 15000 }, (err) => cb(err)));
  producer.setPollInterval(50);
  return producer;
}

export interface Consumed {
  value: string;
  partition: number;
  offset: number;
}

/**
 * Reads a whole topic from the beginning until no record arrives for `quietMs`
 * (after at least `expectAtLeast` records), with the given isolation level.
 */
export async function readAll(
  config: Config,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
  expectAtLeast: number,
  quietMs = 2000,
): Promise<Consumed[]> {
  const consumer = new Kafka.KafkaConsumer(
    {
      ...kafkaClientConfig(config.kafka),
      'group.id': uniqueName('it-reader'),
      'enable.auto.commit': false,
      'isolation.level': isolation,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await call((cb) => consumer.connect({ timeout: 15000 }, (err) => cb(err)));
  consumer.subscribe([topic]);
  const out: Consumed[] = [];
  const deadline = Date.now() + 30_000;
  let lastRecordAt = Date.now();
  try {
    while (Date.now() < deadline) {
      const batch = await call<Kafka.Message[]>((cb) => consumer.consume(100, cb));
      for (const m of batch) out.push({ value: m.value?.toString() ?? '', partition: m.partition, offset: m.offset });
      if (batch.length > 0) lastRecordAt = Date.now();
      else if (out.length >= expectAtLeast && Date.now() - lastRecordAt > quietMs) break;
    }
  } finally {
    await call((cb) => consumer.disconnect((err) => cb(err)));
  }
  return out;
}

/** Keyed integers: key `k<i mod keys>`, value i. */
export async function produceInput(config: Config, topic: string, count: number, keys = 10): Promise<void> {
  const producer = new Kafka.Producer({ ...kafkaClientConfig(config.kafka), 'enable.idempotence': true } as Kafka.ProducerGlobalConfig, JAVA_PARTITIONER);
  await call((cb) => producer.connect({ timeout: 15_000 }, (err) => cb(err)));
  for (let i = 0; i < count; i++) producer.produce(topic, null, Buffer.from(String(i)), Buffer.from(`k${i % keys}`), Date.now());
  await call((cb) => producer.flush(30_000, (err) => cb(err)));
  await call((cb) => producer.disconnect((err) => cb(err)));
}

export async function waitFor(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
