/** Topic creation over node-rdkafka's admin client, with the project's client settings. */
import Kafka from 'node-rdkafka';
import type { LibrdkafkaConfig } from '../config';

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  config?: Record<string, string>;
}

const TOPIC_ALREADY_EXISTS = 36;

/** Creates each topic unless it exists; returns the names it created. */
export async function createTopics(client: LibrdkafkaConfig, topics: TopicSpec[], timeoutMs = 15000): Promise<string[]> {
  const admin = Kafka.AdminClient.create({ ...client });
  const created: string[] = [];
  try {
    for (const t of topics) {
      const made = await new Promise<boolean>((resolve, reject) => {
        const spec = { topic: t.name, num_partitions: t.partitions, replication_factor: t.replicationFactor, config: t.config ?? {} };
        admin.createTopic(spec, timeoutMs, (err) => {
          if (!err) return resolve(true);
          if (err.code === TOPIC_ALREADY_EXISTS) return resolve(false);
          reject(err);
        });
      });
      if (made) created.push(t.name);
    }
  } finally {
    admin.disconnect();
  }
  return created;
}
