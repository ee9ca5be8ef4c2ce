/**
 * The Kafka clients the runtime works with, as small interfaces it owns. One adapter maps
 * them onto node-rdkafka (rdkafka/); the tests' in-memory broker implements them too, and
 * one contract suite (test/support/kafka-contract.ts) holds both to the same behaviour.
 * As in Kafka Streams, a KafkaClientSupplier makes them, so an application (or a test)
 * can hand the runtime its own.
 *
 * Settings are librdkafka properties as the runtime chooses them (group.id,
 * transactional.id, isolation.level…): an implementation honours at least those the
 * runtime's guarantees rest on.
 */
import type {
  ClientSettings,
  ClusterInfo,
  ConsumedRecord,
  KafkaClientError,
  TopicPartition,
  TopicDeletion,
  TopicPartitionOffset,
  TopicSpec,
  Watermarks,
  Headers,
} from './types';
import type { RecordBatch } from './record-batch';

export type RebalanceKind = 'assign' | 'revoke';
export type RebalanceListener = (kind: RebalanceKind, partitions: TopicPartition[]) => void;

export interface ConsumerHooks {
  /** A group member's incremental (cooperative) rebalances; the listener answers with incrementalAssign/Unassign. */
  onRebalance?: RebalanceListener;
  /** Longest consume() waits for a record after the first (ms). */
  consumeTimeoutMs: number;
  /** Longest the connection may take before consumer() rejects (ms). Default 30000. */
  connectTimeoutMs?: number;
}

export interface Consumer {
  /**
   * The consumer this one wraps, when it is a wrapper (metrics, logging): a producer's
   * sendOffsetsToTransaction follows it to the client of its own supplier, whose group
   * metadata fences zombies. Undefined on a supplier's own consumers.
   */
  readonly inner?: Consumer | undefined;
  subscribe(topics: readonly string[]): void;
  /** Up to `max` records; fewer once the partitions are read to their end. */
  consume(max: number): Promise<ConsumedRecord[]>;
  /** Adds partitions: from the given offset, else the committed one (else the reset policy). */
  incrementalAssign(partitions: readonly (TopicPartition & { offset?: number })[]): void;
  incrementalUnassign(partitions: readonly TopicPartition[]): void;
  /** Outside a group: read these partitions from these offsets. */
  assign(partitions: readonly TopicPartitionOffset[]): void;
  unassign(): void;
  /** The group's committed offsets; -1 where none is committed. */
  committed(partitions: readonly TopicPartition[], timeoutMs: number): Promise<TopicPartitionOffset[]>;
  seek(to: TopicPartitionOffset, timeoutMs: number): Promise<void>;
  /** At-least-once: commits offsets outside any transaction, synchronously. */
  commitSync(offsets: readonly TopicPartitionOffset[]): void;
  /** The next offset to read, per partition; -1 where not known yet. */
  position(partitions: readonly TopicPartition[]): TopicPartitionOffset[];
  /** Watermarks from the last fetch, without a round trip; undefined when none is known. */
  cachedWatermarks(topic: string, partition: number): Watermarks | undefined;
  queryWatermarks(topic: string, partition: number, timeoutMs: number): Promise<Watermarks>;
  /** Brokers and topics as this consumer's own connection sees them (refreshing its metadata). */
  metadata(timeoutMs: number): Promise<ClusterInfo>;
  /** Called when a partition is read to its end; returns a function that stops the calls. */
  onPartitionEof(listener: (tp: TopicPartition) => void): () => void;
  isConnected(): boolean;
  /** Leaves the group (revoking its partitions first, through onRebalance) and closes. */
  disconnect(): Promise<void>;
}

export interface Producer {
  initTransactions(timeoutMs: number): Promise<void>;
  beginTransaction(): Promise<void>;
  /** Queues one record; throws a KafkaClientError (e.g. ERR.QUEUE_FULL) when it cannot. */
  produce(topic: string, partition: number | null, value: Buffer | null, key: Buffer | null, timestamp: number, headers?: Headers): void;
  /** Serves delivery reports (frees queue space). */
  poll(): void;
  /** Adds the consumer's offsets, with its group metadata, to the open transaction. */
  sendOffsetsToTransaction(offsets: readonly TopicPartitionOffset[], consumer: Consumer, timeoutMs: number): Promise<void>;
  commitTransaction(timeoutMs: number): Promise<void>;
  abortTransaction(timeoutMs: number): Promise<void>;
  flush(timeoutMs: number): Promise<void>;
  /** Failed deliveries only (a successful one costs no callback). */
  onDeliveryError(listener: (err: KafkaClientError) => void): void;
  isConnected(): boolean;
  disconnect(timeoutMs: number): Promise<void>;
}

export interface Admin {
  /** Brokers and topics; throws when no broker answers in time. */
  clusterInfo(timeoutMs: number): Promise<ClusterInfo>;
  /** Creates each topic unless it exists; returns the names it created. */
  createTopics(topics: readonly TopicSpec[], timeoutMs: number): Promise<string[]>;
  /**
   * Deletes each topic that exists within `timeoutMs` in all (the broker removes their
   * files later); one that fails does not stop the others. Optional: the engine never
   * deletes topics; the local stack's clean-up does.
   */
  deleteTopics?(names: readonly string[], timeoutMs: number): Promise<TopicDeletion>;
}

export interface ProducerOptions {
  /** Place keyed records as Java clients do (murmur2), not librdkafka's default crc32. */
  javaPartitioner?: boolean;
  /** How often delivery reports are served in the background (ms). Default 20. */
  pollIntervalMs?: number;
  /** Longest the connection may take before producer() rejects (ms). Default 30000. */
  connectTimeoutMs?: number;
}

/**
 * Kafka Streams' restore consumer: outside any group, it only assigns partitions and reads
 * them, a batch at a time (restoration's hot loop).
 */
export interface RestoreConsumer {
  /** How it reads, for the log: 'batch' (a whole fetch at once) or 'records (why not batch)'. */
  readonly reads: string;
  assign(partitions: readonly TopicPartitionOffset[]): void;
  unassign(): void;
  /** Up to `max` records, and the partitions read to their end; fewer once the partitions are read to their end. */
  consumeBatch(max: number): Promise<RecordBatch>;
  queryWatermarks(topic: string, partition: number, timeoutMs: number): Promise<Watermarks>;
  isConnected(): boolean;
  disconnect(): Promise<void>;
}

/** Makes the clients (Kafka Streams' KafkaClientSupplier); each resolves connected. */
export interface KafkaClientSupplier {
  consumer(settings: ClientSettings, hooks: ConsumerHooks): Promise<Consumer>;
  /** Optional: without it, restoration reads through consumer() (restoreConsumerOver). */
  restoreConsumer?(settings: ClientSettings): Promise<RestoreConsumer>;
  producer(settings: ClientSettings, options?: ProducerOptions): Promise<Producer>;
  admin(settings: ClientSettings): Admin;
}

/** The supplier's own consumer under any wrappers (at most 16 deep: a cycle is not followed forever). */
export function innermost(consumer: Consumer): Consumer {
  let c = consumer;
  for (let depth = 0; c.inner !== undefined && depth < 16; depth++) c = c.inner;
  return c;
}
