/** Reading whole partitions up to known offsets, for the verifier. */
import { type ClientSettings, rdkafkaConsumer, type RdKafka } from '../kafka';

type Isolation = 'read_committed' | 'read_uncommitted';

export async function openConsumer(client: ClientSettings, groupId: string, isolation: Isolation): Promise<RdKafka.KafkaConsumer> {
  const consumer = rdkafkaConsumer({ ...client, 'group.id': groupId, 'enable.auto.commit': false, 'isolation.level': isolation }, {});
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 15_000 }, (err) => (err ? reject(err) : resolve())));
  return consumer;
}

export function closeConsumer(consumer: RdKafka.KafkaConsumer): Promise<void> {
  return new Promise((resolve) => consumer.disconnect(() => resolve()));
}

export async function partitionCount(consumer: RdKafka.KafkaConsumer, topic: string): Promise<number> {
  const md = await new Promise<RdKafka.Metadata>((resolve, reject) =>
    consumer.getMetadata({ topic, timeout: 10_000 }, (err, m) => (err ? reject(err) : resolve(m))),
  );
  const t = md.topics.find((x) => x.name === topic);
  if (!t || t.partitions.length === 0) throw new Error(`topic "${topic}" does not exist`);
  return t.partitions.length;
}

/** High offset as this consumer's isolation level sees it: the high watermark, or the last stable offset under read_committed. */
export function highOffset(consumer: RdKafka.KafkaConsumer, topic: string, partition: number): Promise<number> {
  return new Promise((resolve, reject) => consumer.queryWatermarkOffsets(topic, partition, 10_000, (err, o) => (err ? reject(err) : resolve(o.highOffset))));
}

/** Values (as strings) of one partition from offset 0 up to `end` (exclusive). */
export async function readPartition(
  consumer: RdKafka.KafkaConsumer,
  topic: string,
  partition: number,
  end: number,
  timeoutMs = 120_000,
): Promise<{ key: string; value: string; offset: number }[]> {
  const out: { key: string; value: string; offset: number }[] = [];
  if (end <= 0) return out;
  consumer.assign([{ topic, partition, offset: 0 }]);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const batch = await new Promise<RdKafka.Message[]>((resolve, reject) => consumer.consume(5000, (err, m) => (err ? reject(err) : resolve(m))));
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
