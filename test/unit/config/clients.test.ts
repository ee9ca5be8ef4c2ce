import { strict as assert } from 'node:assert';
import { kafkaClientConfig, loadConfig, registryClientOptions } from '../../../src/config';

describe('configuration → client settings', () => {
  it('maps the local defaults onto librdkafka properties', () => {
    assert.deepEqual(kafkaClientConfig(loadConfig({}).kafka), {
      'bootstrap.servers': '127.0.0.1:9092',
      'client.id': 'streaming-analytics',
      'security.protocol': 'plaintext',
    });
  });

  it('maps SASL/SCRAM over TLS, with a CA and no host-name check', () => {
    const c = loadConfig({
      STREAMING_KAFKA__BOOTSTRAP_SERVERS: '["kafka1:9093","kafka2:9093"]',
      STREAMING_KAFKA__SECURITY_PROTOCOL: 'SASL_SSL',
      STREAMING_KAFKA__SASL_MECHANISM: 'SCRAM-SHA-512',
      STREAMING_KAFKA__SASL_USERNAME: 'svc',
      STREAMING_KAFKA__SASL_PASSWORD: 's3cret',
      STREAMING_KAFKA__SSL_CA_LOCATION: __filename,
      STREAMING_KAFKA__SSL_ENDPOINT_IDENTIFICATION: 'false',
    });
    assert.deepEqual(kafkaClientConfig(c.kafka), {
      'bootstrap.servers': 'kafka1:9093,kafka2:9093',
      'client.id': 'streaming-analytics',
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'svc',
      'sasl.password': 's3cret',
      'ssl.endpoint.identification.algorithm': 'none',
      'ssl.ca.location': __filename,
    });
  });

  it('maps OAUTHBEARER to librdkafka’s OIDC client-credentials flow', () => {
    const c = loadConfig({
      STREAMING_KAFKA__SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      STREAMING_KAFKA__SASL_MECHANISM: 'OAUTHBEARER',
      STREAMING_KAFKA__SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL: 'https://idp.example/token',
      STREAMING_KAFKA__SASL_OAUTHBEARER_CLIENT_ID: 'app',
      STREAMING_KAFKA__SASL_OAUTHBEARER_CLIENT_SECRET: 'xyz',
      STREAMING_KAFKA__SASL_OAUTHBEARER_SCOPE: 'kafka',
    });
    const k = kafkaClientConfig(c.kafka);
    assert.equal(k['sasl.oauthbearer.method'], 'oidc');
    assert.equal(k['sasl.oauthbearer.token.endpoint.url'], 'https://idp.example/token');
    assert.equal(k['sasl.oauthbearer.client.id'], 'app');
    assert.equal(k['sasl.oauthbearer.client.secret'], 'xyz');
    assert.equal(k['sasl.oauthbearer.scope'], 'kafka');
    assert.equal(k['ssl.ca.location'], undefined, 'no TLS settings on a plaintext transport');
  });

  it('maps mutual TLS files', () => {
    const c = loadConfig({
      STREAMING_KAFKA__SECURITY_PROTOCOL: 'SSL',
      STREAMING_KAFKA__SSL_CERTIFICATE_LOCATION: __filename,
      STREAMING_KAFKA__SSL_KEY_LOCATION: __filename,
      STREAMING_KAFKA__SSL_KEY_PASSWORD: 'kp',
    });
    const k = kafkaClientConfig(c.kafka);
    assert.equal(k['ssl.certificate.location'], __filename);
    assert.equal(k['ssl.key.location'], __filename);
    assert.equal(k['ssl.key.password'], 'kp');
    assert.equal(k['ssl.endpoint.identification.algorithm'], 'https');
  });

  it('gives the registry client its URL and basic auth', () => {
    assert.deepEqual(registryClientOptions(loadConfig({}).schemaRegistry), { host: 'http://127.0.0.1:8081/apis/ccompat/v7' });
    const c = loadConfig({
      STREAMING_SCHEMA_REGISTRY__URL: 'https://sr.example',
      STREAMING_SCHEMA_REGISTRY__USERNAME: 'u',
      STREAMING_SCHEMA_REGISTRY__PASSWORD: 'p',
    });
    assert.deepEqual(registryClientOptions(c.schemaRegistry), { host: 'https://sr.example', auth: { username: 'u', password: 'p' } });
  });
});
