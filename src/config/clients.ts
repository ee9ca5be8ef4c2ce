/**
 * Maps the typed configuration onto what the client libraries take: librdkafka's
 * global properties (node-rdkafka) and @kafkajs/confluent-schema-registry's options.
 * Every producer, consumer and admin client in the project starts from these, so the
 * security settings apply everywhere.
 */
import type { ClientSettings } from '../kafka';
import type { Config } from './schema';

/** The app's name for the engine's plain client settings. */
export type LibrdkafkaConfig = ClientSettings;

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

export { JAVA_PARTITIONER } from '../kafka';
