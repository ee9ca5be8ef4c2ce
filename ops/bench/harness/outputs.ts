/** Reading a whole topic as committed (read_committed), partition by partition, through the Kafka seam. */
import { type ClientSettings, rdkafkaClients } from '../../../src/kafka';

export interface OutputRecord {
  key: Buffer | null;
  value: Buffer | null;
  partition: number;
  offset: number;
}

/** Every committed record of `topic`, in partition order; bounded by the partitions' end offsets when it starts. */
export async function readTopic(client: ClientSettings, topic: string, partitions: number, timeoutMs = 120_000): Promise<OutputRecord[]> {
  const consumer = await rdkafkaClients.consumer(
    { ...client, 'group.id': `bench-read-${topic}`, 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
    { consumeTimeoutMs: 500, connectTimeoutMs: 15_000 },
  );
  const out: OutputRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    for (let partition = 0; partition < partitions; partition++) {
      const end = (await consumer.queryWatermarks(topic, partition, 10_000)).high;
      if (end <= 0) continue;
      consumer.assign([{ topic, partition, offset: 0 }]);
      for (;;) {
        if (Date.now() > deadline) throw new Error(`reading ${topic} timed out after ${timeoutMs} ms`);
        const batch = await consumer.consume(5_000);
        for (const m of batch) if (m.offset < end) out.push({ key: m.key, value: m.value, partition, offset: m.offset });
        // Transaction markers take offsets but are never returned: the position says when the end is reached.
        const position = consumer.position([{ topic, partition }])[0]?.offset ?? 0;
        if (position >= end || (batch.at(-1)?.offset ?? -1) >= end - 1) break;
      }
      consumer.unassign();
    }
  } finally {
    await consumer.disconnect();
  }
  return out;
}
