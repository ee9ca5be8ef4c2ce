/**
 * The Kafka seam: the client interfaces the runtime owns (clients.ts), the shapes they
 * speak (types.ts), and the node-rdkafka adapter (rdkafka/). Everything above imports
 * Kafka from here.
 */
import { RdKafkaAdmin, rdkafkaClients } from './rdkafka';
import type { ClientSettings, ClusterInfo, TopicDeletion, TopicSpec } from './types';

export { innermost } from './clients';
export type {
  Admin,
  Consumer,
  ConsumerHooks,
  KafkaClientSupplier,
  Producer,
  ProducerOptions,
  RebalanceKind,
  RebalanceListener,
  RestoreConsumer,
} from './clients';
export { batchOf, type RecordBatch, restoreConsumerOver } from './record-batch';
export { ERR } from './types';
export type {
  ClientSettings,
  ClusterInfo,
  ConsumedRecord,
  Header,
  Headers,
  KafkaClientError,
  TopicPartition,
  TopicDeletion,
  TopicPartitionOffset,
  TopicSpec,
  Watermarks,
} from './types';
export { rdkafkaClients, recordByRecordClients, JAVA_PARTITIONER } from './rdkafka';

/** Brokers and topics through the default supplier (tools and the app's checks). */
export function clusterInfo(settings: ClientSettings, timeoutMs: number): Promise<ClusterInfo> {
  return rdkafkaClients.admin(settings).clusterInfo(timeoutMs);
}

/** Creates each topic unless it exists, through the default supplier; returns the names it created. */
export function createTopics(settings: ClientSettings, topics: readonly TopicSpec[], timeoutMs = 15_000): Promise<string[]> {
  return rdkafkaClients.admin(settings).createTopics(topics, timeoutMs);
}

/** Deletes the topics through node-rdkafka (the local stack's clean-up), within `timeoutMs` in all. */
export function deleteTopics(settings: ClientSettings, names: readonly string[], timeoutMs: number): Promise<TopicDeletion> {
  return new RdKafkaAdmin(settings).deleteTopics(names, timeoutMs);
}
