/** The load generator's producer: idempotent, batched, Java's partitioner (as both sides expect). */
import Kafka from 'node-rdkafka';
import { JAVA_PARTITIONER } from '../../../src/kafka';

export async function connectProducer(client: Record<string, string | number | boolean>): Promise<Kafka.Producer> {
  const producer = new Kafka.Producer(
    {
      ...client,
      'linger.ms': 10,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 1_000_000,
      'enable.idempotence': true,
    } as Kafka.ProducerGlobalConfig,
    JAVA_PARTITIONER,
  );
  await new Promise<void>((ok, fail) => producer.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  producer.setPollInterval(50);
  return producer;
}

export interface OutRecord {
  key: string;
  value: Buffer;
  timestamp: number;
}

/**
 * Writes `count` records, then flushes. With a rate, paces them in steps of 100 records;
 * a full local queue waits 5 ms and tries again (the generator never drops a record).
 */
export async function produceRecords(producer: Kafka.Producer, topic: string, count: number, rate: number, record: (i: number) => OutRecord): Promise<void> {
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const r = record(i);
    for (;;) {
      try {
        producer.produce(topic, null, r.value, Buffer.from(r.key), r.timestamp);
        break;
      } catch {
        await new Promise((ok) => setTimeout(ok, 5));
      }
    }
    if (rate > 0 && i % 100 === 99) await new Promise((ok) => setTimeout(ok, Math.max(0, started + ((i + 1) / rate) * 1000 - Date.now())));
  }
  await new Promise<void>((ok, fail) => producer.flush(120_000, (err) => (err ? fail(err) : ok())));
}
