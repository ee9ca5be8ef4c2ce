/**
 * The shapes the engine speaks to Kafka in: plain client settings, partitions, consumed
 * records and the error a client raises. They belong to the engine, not to node-rdkafka:
 * the adapter (rdkafka/) maps the library onto them, and the in-memory fake of the tests
 * implements the same, so nothing above this folder names the library's types.
 */

/** librdkafka's global properties, e.g. { 'bootstrap.servers': 'host:9092' }. */
export type ClientSettings = Record<string, string | number | boolean>;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** The next offset to read; -1 where none is known (e.g. no committed offset). */
  offset: number;
}

export interface Header {
  readonly key: string;
  readonly value: Buffer;
}

/** Kafka record headers, as an ordered list (a key may repeat, as in Kafka). */
export type Headers = readonly Header[];

/** One consumed record, with the key as bytes (or null) and the headers as a list. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
}

/** Under read_committed, `high` is the last stable offset: records past it belong to open transactions. */
export interface Watermarks {
  low: number;
  high: number;
}

/**
 * An error from a Kafka client: librdkafka's code and, for transactional calls, its
 * class flags (an error without a flag is treated as fatal: txn-errors.ts).
 */
export interface KafkaClientError {
  message: string;
  code: number;
  isFatal?: boolean;
  isRetriable?: boolean;
  isTxnRequiresAbort?: boolean;
}

/** librdkafka's error codes the engine answers differently. */
export const ERR = {
  /** The local queue is full: poll for delivery reports, then retry. */
  QUEUE_FULL: -184,
  /** A record larger than the producer or broker allows. */
  MSG_SIZE_TOO_LARGE: 10,
  /** Reports for records purged by an abort (expected, not a failure). */
  PURGE_QUEUE: -152,
  PURGE_INFLIGHT: -151,
  TOPIC_ALREADY_EXISTS: 36,
  /** The topic (or partition) does not exist. */
  UNKNOWN_TOPIC_OR_PART: 3,
} as const;

/** What a deletion of topics did: the topics deleted, and each one that was not, with why. */
export interface TopicDeletion {
  deleted: string[];
  failed: { topic: string; reason: string }[];
}

export interface TopicSpec {
  name: string;
  partitions: number;
  /** -1: the broker's default. */
  replicationFactor: number;
  config?: Record<string, string>;
}

export interface ClusterInfo {
  brokers: { id: number; host: string; port: number }[];
  /** Topic name → partition count and replicas of its first partition. */
  topics: Map<string, { partitions: number; replicas: number }>;
}
