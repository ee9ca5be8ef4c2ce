/** Cluster metadata (brokers, topics) over node-rdkafka, with the project's client settings. */
import Kafka from 'node-rdkafka';
import type { LibrdkafkaConfig } from '../config';

export interface ClusterInfo {
  brokers: { id: number; host: string; port: number }[];
  /** Topic name → partition count and replicas of its first partition. */
  topics: Map<string, { partitions: number; replicas: number }>;
}

/** Brokers and topics, or throws when no broker answers in time. */
export function clusterInfo(client: LibrdkafkaConfig, timeoutMs: number): Promise<ClusterInfo> {
  const producer = new Kafka.Producer({ ...client, 'socket.timeout.ms': timeoutMs, 'log.connection.close': false });
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
