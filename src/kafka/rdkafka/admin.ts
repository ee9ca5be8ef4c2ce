/** The Admin interface over node-rdkafka: metadata through a short-lived producer, topics through its AdminClient. */
import Kafka from 'node-rdkafka';
import type { Admin } from '../clients';
import { ERR, type ClientSettings, type ClusterInfo, type TopicSpec } from '../types';

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

  /** A few requests at a time: thousands of deletions in one go would queue behind each other in the controller anyway. */
  async deleteTopics(names: readonly string[], timeoutMs: number): Promise<string[]> {
    const admin = Kafka.AdminClient.create({ ...this.settings });
    const deleted: string[] = [];
    const remove = (topic: string): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        admin.deleteTopic(topic, timeoutMs, (err) => {
          if (!err) deleted.push(topic);
          if (!err || err.code === ERR.UNKNOWN_TOPIC_OR_PART) return resolve();
          reject(err);
        });
      });
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < names.length) await remove(names[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, names.length) }, worker));
    } finally {
      admin.disconnect();
    }
    return deleted;
  }
}

const DELETE_CONCURRENCY = 16;
