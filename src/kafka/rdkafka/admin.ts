/** The Admin interface over node-rdkafka: metadata through a short-lived producer, topics through its AdminClient. */
import Kafka, { type LibrdKafkaError } from 'node-rdkafka';
import type { Admin } from '../clients';
import { ERR, type ClientSettings, type ClusterInfo, type TopicDeletion, type TopicSpec } from '../types';

export class RdKafkaAdmin implements Admin {
  constructor(private readonly settings: ClientSettings) {}

  clusterInfo(timeoutMs: number): Promise<ClusterInfo> {
    const producer = new Kafka.Producer({ ...this.settings, 'socket.timeout.ms': timeoutMs, 'log.connection.close': false });
    return new Promise<ClusterInfo>((resolve, reject) => {
      producer.connect({ timeout: timeoutMs }, (err, metadata) => {
        // A failed connect already tore the client down; only a connected one needs closing.
        if (err) return reject(err);
        producer.disconnect(() => undefined);
        resolve({
          brokers: metadata.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port })),
          topics: new Map(metadata.topics.map((t) => [t.name, { partitions: t.partitions.length, replicas: t.partitions[0]?.replicas.length ?? 0 }])),
        });
      });
    });
  }

  async createTopics(topics: readonly TopicSpec[], timeoutMs: number): Promise<string[]> {
    const admin = Kafka.AdminClient.create({ ...this.settings });
    const created: string[] = [];
    try {
      for (const t of topics) {
        const made = await new Promise<boolean>((resolve, reject) => {
          const spec = { topic: t.name, num_partitions: t.partitions, replication_factor: t.replicationFactor, config: t.config ?? {} };
          admin.createTopic(spec, timeoutMs, (err) => {
            if (!err) return resolve(true);
            if (err.code === ERR.TOPIC_ALREADY_EXISTS) return resolve(false);
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

  /**
   * One request at a time: node-rdkafka holds its admin lock for a whole deletion anyway.
   * A topic that fails does not stop the others; `timeoutMs` is the whole call's budget,
   * and what it leaves undeleted is reported as failed.
   */
  async deleteTopics(names: readonly string[], timeoutMs: number): Promise<TopicDeletion> {
    const admin = Kafka.AdminClient.create({ ...this.settings });
    const deadline = Date.now() + timeoutMs;
    const result: TopicDeletion = { deleted: [], failed: [] };
    try {
      for (const topic of names) {
        const left = deadline - Date.now();
        if (left <= 0) {
          result.failed.push({ topic, reason: 'not tried: the time for deleting ran out' });
          continue;
        }
        const err = await new Promise<LibrdKafkaError | undefined>((resolve) =>
          admin.deleteTopic(topic, Math.min(left, 30_000), (e) => resolve(e ?? undefined)),
        );
        if (!err) result.deleted.push(topic);
        else if (err.code !== ERR.UNKNOWN_TOPIC_OR_PART) result.failed.push({ topic, reason: err.message });
      }
    } finally {
      admin.disconnect();
    }
    return result;
  }
}
