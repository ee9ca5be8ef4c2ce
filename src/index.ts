/**
 * The public API of streaming-analytics. Everything not exported here is internal.
 */
export { StreamsBuilder, type Consumed } from './streams/dsl/builder';
export { KStream, type Named, type Produced, type Repartitioned, type ProcessOptions } from './streams/dsl/kstream';
export { KGroupedStream, type Grouped, type Materialized } from './streams/dsl/kgrouped-stream';
export { KTable } from './streams/dsl/ktable';
export { Suppressed } from './streams/dsl/suppressed';
export { TimeWindowedKStream, type LateRecords } from './streams/dsl/time-windowed-stream';
export type { WindowedMaterialized, WindowedAggregateMaterialized, SlidingMaterialized } from './streams/dsl/windowed-aggregation';
export { TimeWindows, type Windowed } from './streams/dsl/windows';
export { SessionWindows, type Session } from './streams/dsl/session-windows';
export { SessionWindowedKStream, type SessionTable } from './streams/dsl/session-windowed-stream';
export { SlidingWindows } from './streams/dsl/sliding-windows';
export { SlidingWindowedKStream } from './streams/dsl/sliding-windowed-stream';
export type { Initializer, Aggregator, Reducer, Merger } from './streams/dsl/functions';
export type { KeyValueStore, ReadOnlyKeyValueStore, StoreOptions, WindowStore, ReadOnlyWindowStore } from '../state';
export { BranchedKStream, type Branched } from './streams/dsl/branched';
export { Topology, type TopologyDescription, type NodeDescription } from './streams/dsl/topology';
export type { Processor, ProcessorContext, ProcessorSupplier } from './streams/processor-api/processor';
export type { Cancellable, PunctuationType } from './streams/processor-api/punctuation';
export type { StreamRecord, KeyValue, Headers, RecordOrigin, RawRecord } from './streams/processor-api/record';
export type { StreamsOptions } from './streams/options';
export { ExceptionHandlers, DLQ_HEADERS } from './streams/handlers';
export type { HandlerResponse, Failure, DeserializationExceptionHandler, ProcessingExceptionHandler, ProductionExceptionHandler } from './streams/handlers';
export { KafkaStreams, type StreamsState, type KafkaStreamsEvents } from './runtime/kafka-streams';
export type { ThreadMetadata } from './runtime/processing';
export type { StreamsConfig, ProcessingGuarantee } from './runtime/streams-config';
export { rdkafkaClients, innermost } from './kafka';
export type {
  KafkaClientSupplier,
  Consumer,
  Producer,
  Admin,
  ConsumerHooks,
  ProducerOptions,
  RebalanceListener,
  RestoreConsumer,
  RecordBatch,
  ClientSettings,
  ConsumedRecord,
  TopicPartition,
  TopicPartitionOffset,
  KafkaClientError,
} from './kafka';
export type { InputPartitioner } from './partitioner';
export type { QueryServerOptions } from './query/server';
export type { QueryAuth } from './query/auth';
export type { AdminServerOptions } from './query/admin';
export { verifyJwt, TokenError, type JwtSettings, type Claims } from './auth/jwt';
export { Jwks, type JwksOptions } from './auth/jwks';
export { WindowedSerdes } from './serdes';
export {
  Serdes,
  SerdeError,
  AvroSerde,
  AvroSerdes,
  DEFAULT_MAX_RECORD_BYTES,
  type AvroSerdeOptions,
  type AvroSerdesOptions,
  type JsonSerdeOptions,
  type Serde,
  type Serializer,
  type Deserializer,
} from './serdes';
export { TopologyTestDriver, TestInputTopic, TestOutputTopic, type TestDriverOptions, type TestRecord, type PipeOptions } from './testing';
export { StreamingError, isStreamingError, ERROR_CATALOGUE } from './errors';
export type { ErrorCode, StreamingErrorOptions } from './errors';
export { createLogger } from './logger';
export type { Logger, LoggerOptions } from './logger';
