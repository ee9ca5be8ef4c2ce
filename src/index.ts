/**
 * The public API of streaming-analytics. Everything not exported here is internal.
 */
export { StreamsBuilder, type Consumed } from './streams/builder';
export { KStream, type Named, type Produced, type Repartitioned, type ProcessOptions } from './streams/kstream';
export { KGroupedStream, type Grouped, type Materialized } from './streams/kgrouped-stream';
export { KTable } from './streams/ktable';
export { Suppressed } from './streams/suppress';
export { TimeWindowedKStream, type LateRecords, type WindowedMaterialized } from './streams/time-windowed-stream';
export { TimeWindows, type Windowed } from './streams/windows';
export { SessionWindows, type Session } from './streams/session-windows';
export { SessionWindowedKStream } from './streams/session-windowed-stream';
export { SlidingWindows } from './streams/sliding-windows';
export { SlidingWindowedKStream } from './streams/sliding-windowed-stream';
export type { Merger } from './streams/session-aggregate';
export type { Initializer, Aggregator, Reducer } from './streams/aggregate';
export type { KeyValueStore, ReadOnlyKeyValueStore, StoreOptions, WindowStore, ReadOnlyWindowStore } from '../state';
export { BranchedKStream, type Branched } from './streams/branched';
export { Topology, type TopologyDescription, type NodeDescription } from './streams/topology';
export type { Processor, ProcessorContext, ProcessorSupplier } from './streams/processor';
export type { Cancellable, PunctuationType } from './streams/punctuation';
export type { StreamRecord, KeyValue, Headers, RecordOrigin } from './streams/record';
export type { StreamsOptions } from './streams/options';
export { ExceptionHandlers, DLQ_HEADERS } from './streams/handlers';
export type { HandlerResponse, Failure, DeserializationExceptionHandler, ProcessingExceptionHandler, ProductionExceptionHandler } from './streams/handlers';
export type { RawRecord } from './streams/task-graph';
export { KafkaStreams, type StreamsState, type KafkaStreamsEvents } from './runtime/kafka-streams';
export type { StreamsConfig, ProcessingGuarantee } from './runtime/streams-config';
export { WindowedSerdes } from './serdes/windowed';
export { Serdes, SerdeError, AvroSerde, AvroSerdes, type AvroSerdeOptions, type Serde, type Serializer, type Deserializer } from './serdes';
export { TopologyTestDriver, TestInputTopic, TestOutputTopic, type TestDriverOptions, type TestRecord, type PipeOptions } from './testing';
export { loadConfig, loadConfigOrExit, ConfigError, kafkaClientConfig, registryClientOptions } from './config';
export type { Config, ConfigIssue, LibrdkafkaConfig, RegistryClientOptions } from './config';
export { StreamingError, isStreamingError, ERROR_CATALOGUE } from './errors';
export type { ErrorCode, StreamingErrorOptions } from './errors';
export { createLogger } from './logger';
export type { Logger } from './logger';
