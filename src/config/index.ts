export { loadConfig, localStackParts, envName, ConfigError, type ConfigIssue } from './load';
export { kafkaClientConfig, registryClientOptions, type LibrdkafkaConfig, type RegistryClientOptions } from './clients';
export { schema, type Config } from './schema';
export { loadConfigOrExit } from './exit';
export { jwtSettingsFor, type ServiceAuth } from './service-auth';
export { configTable, describeConfig } from './table';
