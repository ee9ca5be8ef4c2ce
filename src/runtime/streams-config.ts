/**
 * The runtime's options, validated once when KafkaStreams is created. Exactly-once is
 * the default; settings that would quietly break it are refused rather than adjusted.
 */
import { rdkafkaClients, type ClientSettings, type KafkaClientSupplier } from '../kafka';
import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StreamingError } from '../errors';
import type { Logger } from '../logger';
import type { AdminServerOptions } from '../query/admin';
import { checkQueryServerOptions, type QueryServerOptions } from '../query/server';
import { PARTITIONERS, type InputPartitioner } from '../partitioner';
import { resolveOptions, type ResolvedStreamsOptions, type StreamsOptions } from '../streams/options';

/** Where state lives when stateDir is not given, relative to the working directory. */
export const DEFAULT_STATE_DIR = 'streams-state';
export const DEFAULT_CLOSE_TIMEOUT_MS = 20_000;

export type ProcessingGuarantee = 'exactly_once_v2' | 'at_least_once';

export interface StreamsConfig extends StreamsOptions {
  /**
   * The Kafka connection: librdkafka properties shared by every client of the instance
   * (bootstrap.servers, security.protocol, sasl.*, ssl.*), e.g.
   * `{ 'bootstrap.servers': 'localhost:9092' }`. The runtime adds what its guarantees need.
   */
  kafka: ClientSettings;
  /** Makes the Kafka clients (Kafka Streams' KafkaClientSupplier). Default: librdkafka through node-rdkafka. */
  clientSupplier?: KafkaClientSupplier;
  processingGuarantee?: ProcessingGuarantee;
  /** Commit at least this often (ms). Default 100 under exactly-once, 30000 under at-least-once (Kafka Streams' defaults). */
  commitIntervalMs?: number;
  /**
   * Also commit once this many input records were processed since the last commit. Default
   * 100000: under exactly-once a bound on one transaction, not the usual trigger (at 10000
   * it fired before the 100 ms interval from 100,000 events/s on, and commits took 15-17 %
   * of the time instead of 9-10 %); under at-least-once (30 s interval) the usual trigger
   * above about 3,300 records/s, and what a crash may reprocess.
   */
  commitMaxRecords?: number;
  /** Producer transaction timeout (ms), exactly-once only. Default 10000. */
  transactionTimeoutMs?: number;
  /**
   * A stable name for this instance, e.g. the StatefulSet pod name. It becomes the
   * transactional.id suffix (so a restarted instance aborts its predecessor's open
   * transaction at once) and the static group membership id. Default: random per process.
   */
  instanceId?: string;
  /** Most records taken from the consumer per poll. Default 2000. */
  maxPollRecords?: number;
  /**
   * Stream threads of this instance (Kafka Streams' num.stream.threads). Default 1. Above
   * 1, each thread is a process of its own — the program runs again in each, as with
   * Node's cluster module (see docs/streams.md, "Stream threads") — with its own consumer,
   * producer and transactions, sharing the instance's RocksDB budget, state directory,
   * metrics and query API.
   */
  numStreamThreads?: number;
  /** The program a stream thread's process runs (default: this process's main script and arguments). It must build and start the same KafkaStreams. */
  streamThreadEntry?: string;
  /** Extra librdkafka properties for the consumer / producer (advanced). */
  consumerOverrides?: ClientSettings;
  producerOverrides?: ClientSettings;
  /** Close gracefully on SIGTERM and SIGINT. Default true. */
  handleSignals?: boolean;
  /** Longest a graceful close may take before the clients are torn down (ms). Default 20000: under Kubernetes' default grace period of 30 s, so a close finishes before the SIGKILL. */
  closeTimeoutMs?: number;
  /**
   * Where this instance keeps its RocksDB state and checkpoints. Default
   * `streams-state/<applicationId>/<instanceId>` under the working directory (not the OS
   * temp directory, which reboots and tmp cleaners empty): a stable instanceId finds its
   * state again after a restart and restores only the changelog's tail.
   */
  stateDir?: string;
  /** RocksDB block cache shared by every store of this instance (bytes). Default 64 MiB. */
  rocksDbCacheBytes?: number;
  /** RocksDB write buffer (memtable) of this instance (bytes). Default 16 MiB. */
  rocksDbWriteBufferBytes?: number;
  /** Committed keys a RocksDB store of a task keeps in memory between batches. Default 100000. */
  storeMaxLoadedKeys?: number;
  /** Serve interactive queries over HTTP (see docs/queries.md). */
  queryServer?: QueryServerOptions;
  /** Serve /healthz, /readyz and /metrics on a listener of their own. */
  adminServer?: AdminServerOptions;
  /**
   * How the producers of the input topics place keys: 'murmur2' (Java clients, Kafka
   * Streams; the default), 'crc32' (librdkafka's default: node-rdkafka, kcat, Python, Go)
   * or 'unknown' (key look-ups then ask every instance). Records seen elsewhere are counted
   * and warned about.
   */
  inputPartitioner?: InputPartitioner;
  /** The Prometheus registry for this instance's metrics (default: its own); share it to serve your metrics beside them. */
  metricsRegistry?: Registry;
  /**
   * An OpenTelemetry tracer: each input record that carries a W3C `traceparent` header is
   * processed in a CONSUMER span, whose context its outputs carry on. Default: none.
   */
  tracer?: Tracer;
  logger?: Logger;
}

export interface ResolvedStreamsConfig extends ResolvedStreamsOptions {
  client: ClientSettings;
  clients: KafkaClientSupplier;
  processingGuarantee: ProcessingGuarantee;
  eos: boolean;
  commitIntervalMs: number;
  commitMaxRecords: number;
  transactionTimeoutMs: number;
  instanceId: string;
  staticMembership: boolean;
  maxPollRecords: number;
  numStreamThreads: number;
  streamThreadEntry: string | undefined;
  consumerOverrides: ClientSettings;
  producerOverrides: ClientSettings;
  handleSignals: boolean;
  closeTimeoutMs: number;
  stateDir: string;
  rocksDbCacheBytes: number;
  rocksDbWriteBufferBytes: number;
  storeMaxLoadedKeys: number;
  metricsRegistry: Registry | undefined;
  tracer: Tracer | undefined;
  inputPartitioner: InputPartitioner;
}

function invalid(message: string, hint: string): StreamingError {
  return new StreamingError('SA_ERR_STREAMS_CONFIG', message, { hint });
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw invalid(`${name} must be a positive integer, got ${value}`, `set ${name} to a whole number above 0`);
  return value;
}

/** The rocksdb binding takes these sizes as 32-bit numbers. */
function belowFourGiB(name: string, value: number): number {
  positiveInt(name, value);
  if (value >= 2 ** 32) throw invalid(`${name} must be below 4 GiB (the RocksDB binding's limit), got ${value}`, `set ${name} to at most ${2 ** 32 - 1} bytes`);
  return value;
}

/** Kafka Streams allows any count; here each thread is a process, so a count far above the machine's cores is a mistake (16, as the processor's setting). */
function threadCount(value: number | undefined): number {
  const n = positiveInt('numStreamThreads', value ?? 1);
  if (n > 16) throw invalid(`numStreamThreads must be at most 16 (each is a process), got ${n}`, 'use about one stream thread per core');
  return n;
}

/** Properties the runtime sets itself because its guarantees depend on them. */
const CONSUMER_OWNED = ['group.id', 'group.instance.id', 'isolation.level', 'enable.auto.offset.store', 'partition.assignment.strategy', 'rebalance_cb'];
const PRODUCER_OWNED = ['transactional.id', 'enable.idempotence', 'acks', 'transaction.timeout.ms'];

function refuseOwned(option: string, overrides: ClientSettings, owned: readonly string[]): void {
  const taken = owned.find((key) => key in overrides);
  if (taken)
    throw invalid(
      `${option} sets "${taken}", which the runtime owns`,
      `remove it; use applicationId, instanceId or transactionTimeoutMs instead where one applies`,
    );
}

/** Plain librdkafka properties, with bootstrap.servers: anything else is refused here, not by the first client. */
function kafkaSettings(kafka: ClientSettings): ClientSettings {
  if (kafka === null || typeof kafka !== 'object' || Array.isArray(kafka))
    throw invalid(
      'kafka must be an object of librdkafka properties',
      "pass e.g. { 'bootstrap.servers': 'localhost:9092' }; the app maps STREAMING_KAFKA__* onto them with kafkaClientConfig()",
    );
  const bad = Object.entries(kafka).find(([, v]) => !['string', 'number', 'boolean'].includes(typeof v));
  if (bad)
    throw invalid(
      `kafka property "${bad[0]}" is a ${Array.isArray(bad[1]) ? 'list' : typeof bad[1]}, not a string, number or boolean`,
      'give librdkafka properties as their string, number or boolean values (lists comma-separated)',
    );
  if (typeof kafka['bootstrap.servers'] !== 'string' || kafka['bootstrap.servers'].length === 0)
    throw invalid('kafka has no "bootstrap.servers"', "pass e.g. { 'bootstrap.servers': 'localhost:9092' }");
  return { ...kafka };
}

export function resolveStreamsConfig(config: StreamsConfig): ResolvedStreamsConfig {
  const base = resolveOptions(config);
  const guarantee = config.processingGuarantee ?? 'exactly_once_v2';
  if (guarantee !== 'exactly_once_v2' && guarantee !== 'at_least_once') {
    throw invalid(`processingGuarantee ${JSON.stringify(guarantee)} is not known`, 'use "exactly_once_v2" (default) or "at_least_once"');
  }
  const eos = guarantee === 'exactly_once_v2';
  const commitIntervalMs = positiveInt('commitIntervalMs', config.commitIntervalMs ?? (eos ? 100 : 30_000));
  const transactionTimeoutMs = positiveInt('transactionTimeoutMs', config.transactionTimeoutMs ?? 10_000);
  if (eos && transactionTimeoutMs < commitIntervalMs) {
    throw invalid(
      `transactionTimeoutMs (${transactionTimeoutMs}) is below commitIntervalMs (${commitIntervalMs}): every transaction would time out before its commit`,
      'raise transactionTimeoutMs or lower commitIntervalMs',
    );
  }
  const overrides = config.consumerOverrides ?? {};
  if (eos && ['true', true].includes(overrides['enable.auto.commit'] as string | boolean)) {
    throw invalid(
      'enable.auto.commit=true in consumerOverrides: offsets would be committed outside the transactions',
      'remove enable.auto.commit; the runtime commits offsets itself',
    );
  }
  refuseOwned('consumerOverrides', overrides, CONSUMER_OWNED);
  refuseOwned('producerOverrides', config.producerOverrides ?? {}, PRODUCER_OWNED);
  const port = config.queryServer?.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535))
    throw invalid(`queryServer.port must be a port number from 1 to 65535, not ${port}`, 'choose a free port for the query API');
  if (config.queryServer) checkQueryServerOptions(config.queryServer);
  const adminPort = config.adminServer?.port;
  if (adminPort !== undefined && (!Number.isInteger(adminPort) || adminPort < 0 || adminPort > 65_535))
    throw invalid(`adminServer.port must be a port number from 0 to 65535, not ${adminPort}`, 'choose a free port for health and metrics');
  const inputPartitioner = config.inputPartitioner ?? 'murmur2';
  if (!(PARTITIONERS as readonly string[]).includes(inputPartitioner))
    throw invalid(
      `inputPartitioner ${JSON.stringify(inputPartitioner)} is not known`,
      'use "murmur2" (Java producers), "crc32" (librdkafka producers) or "unknown"',
    );
  const instanceId = config.instanceId ?? `${hostname()}-${randomUUID().slice(0, 8)}`;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(instanceId))
    throw invalid(`instanceId ${JSON.stringify(instanceId)} is not valid`, 'use 1-100 characters from [A-Za-z0-9._-]');
  return {
    ...base,
    client: kafkaSettings(config.kafka),
    clients: config.clientSupplier ?? rdkafkaClients,
    processingGuarantee: guarantee,
    eos,
    commitIntervalMs,
    commitMaxRecords: positiveInt('commitMaxRecords', config.commitMaxRecords ?? 100_000),
    transactionTimeoutMs,
    instanceId,
    staticMembership: config.instanceId !== undefined,
    maxPollRecords: positiveInt('maxPollRecords', config.maxPollRecords ?? 2000),
    numStreamThreads: threadCount(config.numStreamThreads),
    streamThreadEntry: config.streamThreadEntry,
    consumerOverrides: overrides,
    producerOverrides: config.producerOverrides ?? {},
    handleSignals: config.handleSignals ?? true,
    closeTimeoutMs: positiveInt('closeTimeoutMs', config.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS),
    stateDir: config.stateDir ?? join(process.cwd(), DEFAULT_STATE_DIR, base.applicationId, instanceId),
    rocksDbCacheBytes: belowFourGiB('rocksDbCacheBytes', config.rocksDbCacheBytes ?? 64 << 20),
    rocksDbWriteBufferBytes: belowFourGiB('rocksDbWriteBufferBytes', config.rocksDbWriteBufferBytes ?? 16 << 20),
    storeMaxLoadedKeys: positiveInt('storeMaxLoadedKeys', config.storeMaxLoadedKeys ?? 100_000),
    metricsRegistry: config.metricsRegistry,
    tracer: config.tracer,
    inputPartitioner,
  };
}
