/**
 * The public API of streaming-analytics. Everything not exported here is internal.
 * (The streams DSL, serdes and the test driver join this list as they land.)
 */
export { loadConfig, loadConfigOrExit, ConfigError, kafkaClientConfig, registryClientOptions } from './config';
export type { Config, ConfigIssue, LibrdkafkaConfig, RegistryClientOptions } from './config';
export { StreamingError, isStreamingError, ERROR_CATALOGUE } from './errors';
export type { ErrorCode, StreamingErrorOptions } from './errors';
export { createLogger } from './logger';
export type { Logger } from './logger';
