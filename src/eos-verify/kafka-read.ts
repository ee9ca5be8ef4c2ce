/** Reading whole partitions up to known offsets, for the verifier, through the Kafka seam's interfaces. */
import { rdkafkaClients, type Admin, type ClientSettings, type Consumer } from '../kafka';

type Isolation = 'read_committed' | 'read_uncommitted';

/** A consumer outside any group's rebalancing, with the admin client that tells partition counts. */
export interface ReadConsumer {
  consumer: Consumer;
  admin: Admin;
}

export async function openConsumer(client: ClientSettings, groupId: string, isolation: Isolation): Promise<ReadConsumer> {
  const settings = { ...client, 'group.id': groupId, 'enable.auto.commit': false, 'isolation.level': isolation };
  const consumer = await rdkafkaClients.consumer(settings, { consumeTimeoutMs: 1_000, connectTimeoutMs: 15_000 });
  return { consumer, admin: rdkafkaClients.admin(client) };
}

export function closeConsumer(reader: ReadConsumer): Promise<void> {
  return reader.consumer.disconnect();
}

export async function partitionCount(reader: ReadConsumer, topic: string): Promise<number> {
  const partitions = (await reader.admin.clusterInfo(10_000)).topics.get(topic)?.partitions ?? 0;
  if (partitions === 0) throw new Error(`topic "${topic}" does not exist`);
  return partitions;
}

/** High offset as this consumer's isolation level sees it: the high watermark, or the last stable offset under read_committed. */
export async function highOffset(reader: ReadConsumer, topic: string, partition: number): Promise<number> {
  return (await reader.consumer.queryWatermarks(topic, partition, 10_000)).high;
}

/** Values (as strings) of one partition from offset 0 up to `end` (exclusive). */
export async function readPartition(
  reader: ReadConsumer,
  topic: string,
  partition: number,
  end: number,
  timeoutMs = 120_000,
): Promise<{ key: string; value: string; offset: number }[]> {
  const out: { key: string; value: string; offset: number }[] = [];
  if (end <= 0) return out;
  const consumer = reader.consumer;
  consumer.assign([{ topic, partition, offset: 0 }]);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const batch = await consumer.consume(5000);
      for (const m of batch) {
        if (m.offset >= end) return out;
        out.push({ key: m.key?.toString() ?? '', value: m.value?.toString() ?? '', offset: m.offset });
      }
      // Transaction markers occupy offsets but are never returned: the position tells when the end is reached.
      const position = consumer.position([{ topic, partition }])[0]?.offset ?? 0;
      if (position >= end || (batch.at(-1)?.offset ?? -1) >= end - 1) return out;
    }
    throw new Error(`reading ${topic}/${partition} up to offset ${end} timed out`);
  } finally {
    consumer.unassign();
  }
}
