/**
 * Maps the typed configuration onto what the client libraries take: librdkafka's
 * global properties (node-rdkafka) and @kafkajs/confluent-schema-registry's options.
 * Every producer, consumer and admin client in the project starts from these, so the
 * security settings apply everywhere.
 */
import type { Config } from './schema';

export type LibrdkafkaConfig = Record<string, string | number | boolean>;

export function kafkaClientConfig(kafka: Config['kafka']): LibrdkafkaConfig {
  const out: LibrdkafkaConfig = {
    'bootstrap.servers': kafka.bootstrapServers.join(','),
    'client.id': kafka.clientId,
    'security.protocol': kafka.securityProtocol.toLowerCase(),
  };
  if (kafka.saslMechanism) Object.assign(out, saslConfig(kafka));
  if (kafka.securityProtocol.endsWith('SSL')) Object.assign(out, sslConfig(kafka));
  return out;
}

function saslConfig(kafka: Config['kafka']): LibrdkafkaConfig {
  const out: LibrdkafkaConfig = { 'sasl.mechanisms': kafka.saslMechanism! };
  if (kafka.saslMechanism !== 'OAUTHBEARER') {
    out['sasl.username'] = kafka.saslUsername!;
    out['sasl.password'] = kafka.saslPassword!;
    return out;
  }
  out['sasl.oauthbearer.method'] = 'oidc';
  out['sasl.oauthbearer.token.endpoint.url'] = kafka.saslOauthbearerTokenEndpointUrl!;
  out['sasl.oauthbearer.client.id'] = kafka.saslOauthbearerClientId!;
  out['sasl.oauthbearer.client.secret'] = kafka.saslOauthbearerClientSecret!;
  if (kafka.saslOauthbearerScope) out['sasl.oauthbearer.scope'] = kafka.saslOauthbearerScope;
  return out;
}

function sslConfig(kafka: Config['kafka']): LibrdkafkaConfig {
  const out: LibrdkafkaConfig = {
    'ssl.endpoint.identification.algorithm': kafka.sslEndpointIdentification ? 'https' : 'none',
  };
  if (kafka.sslCaLocation) out['ssl.ca.location'] = kafka.sslCaLocation;
  if (kafka.sslCertificateLocation) out['ssl.certificate.location'] = kafka.sslCertificateLocation;
  if (kafka.sslKeyLocation) out['ssl.key.location'] = kafka.sslKeyLocation;
  if (kafka.sslKeyPassword) out['ssl.key.password'] = kafka.sslKeyPassword;
  return out;
}

export interface RegistryClientOptions {
  host: string;
  auth?: { username: string; password: string };
}

export function registryClientOptions(registry: Config['schemaRegistry']): RegistryClientOptions {
  const out: RegistryClientOptions = { host: registry.url };
  if (registry.username && registry.password) out.auth = { username: registry.username, password: registry.password };
  return out;
}

/**
 * Topic configuration for producers: Kafka's Java partitioner (murmur2), so a key lands
 * where Java producers and Kafka Streams put it, and where the query API looks for it.
 * It must be given as the topic configuration (node-rdkafka's second argument): in the
 * global configuration it is silently lost, because node-rdkafka replaces the default
 * topic configuration with its own.
 */
export const JAVA_PARTITIONER: Record<string, string> = { partitioner: 'murmur2_random' };
