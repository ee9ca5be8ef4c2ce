import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, localStackParts } from '../../../src/config';

describe('configuration: defaults', () => {
  it('points at the local stack when nothing is set', () => {
    const c = loadConfig({ HOME: '/home/u' });
    assert.deepEqual(c.kafka.bootstrapServers, ['127.0.0.1:9092']);
    assert.equal(c.schemaRegistry.url, 'http://127.0.0.1:8081/apis/ccompat/v7');
    assert.equal(c.kafka.securityProtocol, 'PLAINTEXT');
    assert.equal(c.topics.events, 'analytics-events');
    assert.equal(c.topics.predictions, 'ml-predictions');
    assert.equal(c.topics.alerts, 'streaming-alerts');
    assert.equal(c.topics.metrics, 'streaming-metrics');
    assert.equal(c.topics.partitions, 6);
    assert.equal(c.log.level, 'info');
    assert.equal(c.stack.nodes, 1);
    assert.equal(c.stack.dir, join('/home/u', '.cache', 'streaming-analytics'));
  });

  it('moves the default bootstrap servers and registry URL with the stack ports and node count', () => {
    const c = loadConfig({ STREAMING_STACK__KAFKA_PORT: '29092', STREAMING_STACK__NODES: '3', STREAMING_STACK__REGISTRY_PORT: '18081' });
    assert.deepEqual(c.kafka.bootstrapServers, ['127.0.0.1:29092', '127.0.0.1:29093', '127.0.0.1:29094']);
    assert.equal(c.schemaRegistry.url, 'http://127.0.0.1:18081/apis/ccompat/v7');
  });

  it('puts the stack folder under XDG_CACHE_HOME when it is set', () => {
    assert.equal(loadConfig({ XDG_CACHE_HOME: '/tmp/xdg' }).stack.dir, '/tmp/xdg/streaming-analytics');
  });

  it('knows which parts are the local stack: those whose address is not configured', () => {
    assert.deepEqual(localStackParts({}), { kafka: true, registry: true });
    assert.deepEqual(localStackParts({ STREAMING_KAFKA__BOOTSTRAP_SERVERS: '["k:9092"]' }), { kafka: false, registry: true });
    assert.deepEqual(localStackParts({ STREAMING_SCHEMA_REGISTRY__URL: 'http://r:8081' }), { kafka: true, registry: false });
  });
});

describe('configuration: accepted forms', () => {
  it('takes bootstrap servers as the seed’s JSON array', () => {
    const c = loadConfig({ STREAMING_KAFKA__BOOTSTRAP_SERVERS: '["kafka1:9092","kafka2:9092"]' });
    assert.deepEqual(c.kafka.bootstrapServers, ['kafka1:9092', 'kafka2:9092']);
  });

  it('takes bootstrap servers as a comma-separated list, and IPv6 literals', () => {
    const c = loadConfig({ STREAMING_KAFKA__BOOTSTRAP_SERVERS: 'kafka1:9092, [::1]:9093' });
    assert.deepEqual(c.kafka.bootstrapServers, ['kafka1:9092', '[::1]:9093']);
  });

  it('normalises enum case and parses integers and booleans', () => {
    const c = loadConfig({
      STREAMING_KAFKA__SECURITY_PROTOCOL: 'sasl_ssl',
      STREAMING_KAFKA__SASL_MECHANISM: 'scram-sha-512',
      STREAMING_KAFKA__SASL_USERNAME: 'u',
      STREAMING_KAFKA__SASL_PASSWORD: 'p',
      STREAMING_KAFKA__SSL_ENDPOINT_IDENTIFICATION: 'no',
      STREAMING_TOPICS__PARTITIONS: '12',
      STREAMING_LOG__LEVEL: 'DEBUG',
    });
    assert.equal(c.kafka.securityProtocol, 'SASL_SSL');
    assert.equal(c.kafka.saslMechanism, 'SCRAM-SHA-512');
    assert.equal(c.kafka.sslEndpointIdentification, false);
    assert.equal(c.topics.partitions, 12);
    assert.equal(c.log.level, 'debug');
  });

  it('strips a trailing slash from URLs and treats an empty variable as unset', () => {
    const c = loadConfig({ STREAMING_SCHEMA_REGISTRY__URL: 'https://registry.example:8081/', STREAMING_TOPICS__EVENTS: '' });
    assert.equal(c.schemaRegistry.url, 'https://registry.example:8081');
    assert.equal(c.topics.events, 'analytics-events');
  });

  it('accepts readable TLS files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-config-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), 'x');
    const c = loadConfig({
      STREAMING_KAFKA__SECURITY_PROTOCOL: 'SSL',
      STREAMING_KAFKA__SSL_CA_LOCATION: join(dir, 'ca.pem'),
      STREAMING_KAFKA__SSL_CERTIFICATE_LOCATION: join(dir, 'cert.pem'),
      STREAMING_KAFKA__SSL_KEY_LOCATION: join(dir, 'key.pem'),
    });
    assert.equal(c.kafka.sslCaLocation, join(dir, 'ca.pem'));
  });
});
