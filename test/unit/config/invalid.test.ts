import { strict as assert } from 'node:assert';
import { ConfigError, loadConfig, schema } from '../../../src/config';
import { showGiven } from '../../../src/config/load';

function lines(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.lines();
  }
  assert.fail('expected the configuration to be rejected');
}

function one(env: Record<string, string>): string {
  const found = lines(env);
  assert.equal(found.length, 1, found.join('\n'));
  return found[0]!;
}

describe('configuration: every bad input is named, with what was given and what is expected', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'bootstrap servers without a port',
      { STREAMING_KAFKA__BOOTSTRAP_SERVERS: 'kafka1' },
      /^STREAMING_KAFKA__BOOTSTRAP_SERVERS: got "kafka1"; expected a JSON array of "host:port"/,
    ],
    [
      'bootstrap servers as broken JSON',
      { STREAMING_KAFKA__BOOTSTRAP_SERVERS: '["kafka1:9092"' },
      /^STREAMING_KAFKA__BOOTSTRAP_SERVERS: got "\[\\"kafka1:9092\\""; expected/,
    ],
    ['bootstrap servers as a JSON array of numbers', { STREAMING_KAFKA__BOOTSTRAP_SERVERS: '[9092]' }, /^STREAMING_KAFKA__BOOTSTRAP_SERVERS: got "\[9092\]"/],
    ['bootstrap servers as an empty array', { STREAMING_KAFKA__BOOTSTRAP_SERVERS: '[]' }, /^STREAMING_KAFKA__BOOTSTRAP_SERVERS: got "\[\]"/],
    ['a port out of range', { STREAMING_KAFKA__BOOTSTRAP_SERVERS: 'k:70000' }, /^STREAMING_KAFKA__BOOTSTRAP_SERVERS: got "k:70000"/],
    [
      'an unknown security protocol',
      { STREAMING_KAFKA__SECURITY_PROTOCOL: 'TLS' },
      /^STREAMING_KAFKA__SECURITY_PROTOCOL: got "TLS"; expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL$/,
    ],
    ['a non-integer', { STREAMING_TOPICS__PARTITIONS: 'six' }, /^STREAMING_TOPICS__PARTITIONS: got "six"; expected an integer from 1 to 10000$/],
    ['a fractional integer', { STREAMING_TOPICS__PARTITIONS: '2.5' }, /^STREAMING_TOPICS__PARTITIONS: got "2.5"/],
    ['an integer out of range', { STREAMING_TOPICS__PARTITIONS: '0' }, /^STREAMING_TOPICS__PARTITIONS: got "0"; expected an integer from 1 to 10000$/],
    [
      'a bad boolean',
      { STREAMING_KAFKA__SSL_ENDPOINT_IDENTIFICATION: 'maybe' },
      /^STREAMING_KAFKA__SSL_ENDPOINT_IDENTIFICATION: got "maybe"; expected true or false$/,
    ],
    [
      'a bad log level',
      { STREAMING_LOG__LEVEL: 'verbose' },
      /^STREAMING_LOG__LEVEL: got "verbose"; expected one of fatal, error, warn, info, debug, trace, silent$/,
    ],
    [
      'a bad URL',
      { STREAMING_SCHEMA_REGISTRY__URL: 'registry:8081' },
      /^STREAMING_SCHEMA_REGISTRY__URL: got "registry:8081"; expected an http:\/\/ or https:\/\/ URL \(without user:password@\)$/,
    ],
    [
      'credentials in a URL',
      { STREAMING_SCHEMA_REGISTRY__URL: 'https://svc:hunter2@registry:8081' },
      /^STREAMING_SCHEMA_REGISTRY__URL: got "https:\/\/\[redacted\]@registry:8081"; expected an http:\/\/ or https:\/\/ URL \(without user:password@\)$/,
    ],
    ['a non-http URL', { STREAMING_SCHEMA_REGISTRY__URL: 'ftp://registry' }, /^STREAMING_SCHEMA_REGISTRY__URL: got "ftp:\/\/registry"/],
    ['a bad topic name', { STREAMING_TOPICS__EVENTS: 'analytics events' }, /^STREAMING_TOPICS__EVENTS: got "analytics events"; expected a Kafka topic name/],
    ['a bad Kafka version', { STREAMING_STACK__KAFKA_VERSION: '3.9.0' }, /^STREAMING_STACK__KAFKA_VERSION: got "3.9.0"; expected an Apache Kafka 4.x version/],
    ['too many nodes', { STREAMING_STACK__NODES: '9' }, /^STREAMING_STACK__NODES: got "9"; expected an integer from 1 to 5$/],
    [
      'a misspelt variable',
      { STREAMING_KAFKA__BOOTSTRAP_SERVER: 'k:9092' },
      /^STREAMING_KAFKA__BOOTSTRAP_SERVER: unknown variable; expected a known setting; did you mean STREAMING_KAFKA__BOOTSTRAP_SERVERS\?$/,
    ],
    [
      'an unknown variable far from any setting',
      { STREAMING_FOO: 'x' },
      /^STREAMING_FOO: unknown variable; expected a known setting \(see the configuration table in README.md\)$/,
    ],
    [
      'SASL without a mechanism',
      { STREAMING_KAFKA__SECURITY_PROTOCOL: 'SASL_SSL' },
      /^STREAMING_KAFKA__SASL_MECHANISM: not set; expected a SASL mechanism because SECURITY_PROTOCOL is SASL_SSL$/,
    ],
    [
      'a mechanism without SASL',
      { STREAMING_KAFKA__SASL_MECHANISM: 'PLAIN' },
      /^STREAMING_KAFKA__SASL_MECHANISM: got "PLAIN"; expected unset unless SECURITY_PROTOCOL is SASL_PLAINTEXT or SASL_SSL$/,
    ],
    [
      'SCRAM without a password',
      { STREAMING_KAFKA__SECURITY_PROTOCOL: 'SASL_PLAINTEXT', STREAMING_KAFKA__SASL_MECHANISM: 'SCRAM-SHA-256', STREAMING_KAFKA__SASL_USERNAME: 'u' },
      /^STREAMING_KAFKA__SASL_PASSWORD: not set; expected a password for SASL SCRAM-SHA-256$/,
    ],
    [
      'a client certificate without its key',
      { STREAMING_KAFKA__SECURITY_PROTOCOL: 'SSL', STREAMING_KAFKA__SSL_CERTIFICATE_LOCATION: __filename },
      /^STREAMING_KAFKA__SSL_KEY_LOCATION: not set; expected a PEM file too/,
    ],
    [
      'a CA file that does not exist',
      { STREAMING_KAFKA__SECURITY_PROTOCOL: 'SSL', STREAMING_KAFKA__SSL_CA_LOCATION: '/nonexistent/ca.pem' },
      /^STREAMING_KAFKA__SSL_CA_LOCATION: got "\/nonexistent\/ca.pem", which does not exist or cannot be read; expected a path to a readable file$/,
    ],
    [
      'a registry user without a password',
      { STREAMING_SCHEMA_REGISTRY__USERNAME: 'u' },
      /^STREAMING_SCHEMA_REGISTRY__PASSWORD: not set; expected both USERNAME and PASSWORD/,
    ],
    [
      'development tokens on a non-loopback address (the default 0.0.0.0)',
      { STREAMING_WEBSOCKET__DEV_TOKENS: 'true' },
      /^STREAMING_WEBSOCKET__DEV_TOKENS: got true while STREAMING_WEBSOCKET__HOST is "0.0.0.0"; expected false, or STREAMING_WEBSOCKET__HOST a loopback address/,
    ],
    [
      'development tokens on a named host',
      { STREAMING_WEBSOCKET__DEV_TOKENS: 'true', STREAMING_WEBSOCKET__HOST: 'dash.example.com' },
      /^STREAMING_WEBSOCKET__DEV_TOKENS: got true while STREAMING_WEBSOCKET__HOST is "dash.example.com"/,
    ],
    [
      'an open query API off loopback',
      { STREAMING_PROCESSOR__QUERY_AUTH: 'off', STREAMING_PROCESSOR__QUERY_HOST: '10.0.0.5' },
      /^STREAMING_PROCESSOR__QUERY_AUTH: got "off" while STREAMING_PROCESSOR__QUERY_HOST is "10.0.0.5"; expected jwt, or STREAMING_PROCESSOR__QUERY_HOST a loopback address/,
    ],
    [
      'a JWKS over plain http to another host',
      { STREAMING_AUTH__JWKS_URL: 'http://idp.example.com/jwks' },
      /^STREAMING_AUTH__JWKS_URL: got "http:\/\/idp.example.com\/jwks"; expected an https:\/\/ URL \(http:\/\/ only on a loopback address\)/,
    ],
    [
      'a JWT variable under its old section',
      { STREAMING_WEBSOCKET__JWT_SECRET: 'x'.repeat(32) },
      /^STREAMING_WEBSOCKET__JWT_SECRET: moved; expected STREAMING_AUTH__JWT_SECRET \(the same setting, shared by the query API and the fan-out\)$/,
    ],
    [
      'a model version that would be a path',
      { STREAMING_REALTIME_ML__MODEL_VERSION: '../../etc' },
      /^STREAMING_REALTIME_ML__MODEL_VERSION: got "\.\.\/\.\.\/etc"; expected letters, digits, "\.", "_" and "-" \(not "\." or "\.\."\)$/,
    ],
    ['a model name that is a parent folder', { STREAMING_REALTIME_ML__MODEL_NAME: '..' }, /^STREAMING_REALTIME_ML__MODEL_NAME: got "\.\."/],
    [
      'an unknown input partitioner',
      { STREAMING_PROCESSOR__INPUT_PARTITIONER: 'random' },
      /^STREAMING_PROCESSOR__INPUT_PARTITIONER: got "random"; expected one of murmur2, crc32, unknown$/,
    ],
  ];
  for (const [what, env, expected] of cases) {
    it(`rejects ${what}`, () => {
      assert.match(one(env), expected);
    });
  }

  it('requires the OIDC settings for OAUTHBEARER, one line each', () => {
    const found = lines({ STREAMING_KAFKA__SECURITY_PROTOCOL: 'SASL_SSL', STREAMING_KAFKA__SASL_MECHANISM: 'OAUTHBEARER' });
    assert.deepEqual(
      found.map((l) => l.split(':')[0]),
      [
        'STREAMING_KAFKA__SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL',
        'STREAMING_KAFKA__SASL_OAUTHBEARER_CLIENT_ID',
        'STREAMING_KAFKA__SASL_OAUTHBEARER_CLIENT_SECRET',
      ],
    );
  });

  it('reports every bad variable at once, one line each', () => {
    const found = lines({ STREAMING_TOPICS__PARTITIONS: 'x', STREAMING_LOG__LEVEL: 'loud', STREAMING_WEBSOCKET__LISTEN_PORT: '8765' });
    assert.equal(found.length, 3);
    assert.deepEqual(found.map((l) => l.split(':')[0]).sort(), ['STREAMING_LOG__LEVEL', 'STREAMING_TOPICS__PARTITIONS', 'STREAMING_WEBSOCKET__LISTEN_PORT']);
  });

  it('never echoes a secret value, nor the value of an unknown variable', () => {
    assert.equal(showGiven(schema.kafka.saslPassword, 'hunter2'), 'got a secret of 7 characters');
    assert.equal(showGiven(schema.kafka.saslUsername, 'alice'), 'got "alice"');
    assert.doesNotMatch(one({ STREAMING_KAFKA__SASL_PASWORD: 'hunter2' }), /hunter2/);
  });

  it('allows the development conveniences on loopback: dev tokens, and an open query API by default', () => {
    const c = loadConfig({ STREAMING_WEBSOCKET__DEV_TOKENS: 'true', STREAMING_WEBSOCKET__HOST: '127.0.0.1', STREAMING_PROCESSOR__QUERY_HOST: '::1' });
    assert.equal(c.websocket.devTokens, true);
    assert.equal(c.processor.queryAuth, 'off', 'a loopback query API is open unless QUERY_AUTH says otherwise');
    assert.equal(loadConfig({ STREAMING_PROCESSOR__QUERY_HOST: '127.0.0.1', STREAMING_PROCESSOR__QUERY_AUTH: 'jwt' }).processor.queryAuth, 'jwt');
    assert.equal(loadConfig({}).processor.queryAuth, 'jwt', 'the default host 0.0.0.0 asks for tokens');
  });

  it("accepts the seed's configuration block", () => {
    const c = loadConfig({
      STREAMING_REALTIME_ML__MODEL_CACHE_SIZE: '20',
      STREAMING_REALTIME_ML__MAX_LATENCY_MS: '50',
      STREAMING_MONITORING__METRICS_INTERVAL_SECONDS: '10',
      STREAMING_MONITORING__ENABLE_AUTO_SCALING: 'true',
      STREAMING_WEBSOCKET__HOST: '0.0.0.0',
      STREAMING_WEBSOCKET__PORT: '8765',
      STREAMING_WEBSOCKET__MAX_CONNECTIONS: '10000',
      STREAMING_KAFKA__BOOTSTRAP_SERVERS: '["kafka1:9092","kafka2:9092"]',
    });
    assert.equal(c.realtimeMl.modelCacheSize, 20);
    assert.equal(c.realtimeMl.maxLatencyMs, 50);
    assert.equal(c.monitoring.metricsIntervalSeconds, 10);
    assert.equal(c.monitoring.enableAutoScaling, true);
  });
});
