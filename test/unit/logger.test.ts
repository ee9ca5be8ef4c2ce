import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';

describe('logger', () => {
  it('takes its level from STREAMING_LOG__LEVEL', () => {
    assert.equal(createLogger(loadConfig({ STREAMING_LOG__LEVEL: 'warn' }).log).level, 'warn');
    assert.equal(createLogger(loadConfig({}).log).level, 'info');
  });

  it('writes JSON lines and redacts client secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger(loadConfig({}).log, 'test', sink);
    log.info({ client: { 'sasl.password': 'hunter2', 'bootstrap.servers': 'k:9092' } }, 'connecting');
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.msg, 'connecting');
    assert.equal(entry.name, 'test');
    assert.equal(entry.level, pino.levels.values.info);
    assert.equal(entry.client['sasl.password'], '[redacted]');
    assert.equal(entry.client['bootstrap.servers'], 'k:9092');
  });

  it('redacts secrets at any depth, by name, in the real config object and in child bindings', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        lines.push(chunk.toString());
        done();
      },
    });
    const config = loadConfig({
      STREAMING_KAFKA__SECURITY_PROTOCOL: 'SASL_SSL',
      STREAMING_KAFKA__SASL_MECHANISM: 'SCRAM-SHA-512',
      STREAMING_KAFKA__SASL_USERNAME: 'svc',
      STREAMING_KAFKA__SASL_PASSWORD: 'kafka-pass-1',
      STREAMING_KAFKA__SSL_KEY_PASSWORD: 'key-pass-2',
      STREAMING_SCHEMA_REGISTRY__USERNAME: 'reg',
      STREAMING_SCHEMA_REGISTRY__PASSWORD: 'reg-pass-3',
      STREAMING_AUTH__JWT_SECRET: 'jwt-secret-4-that-is-long-enough-000000',
    });
    const log = createLogger(config.log, 'test', sink);
    log.info({ config }, 'effective configuration');
    log.info({ app: { streams: { config: { client: { 'sasl.password': 'deep-5', 'bootstrap.servers': 'k:9092' } } } } }, 'five levels down');
    log.info({ env: { STREAMING_AUTH__JWT_SECRET: 'env-6', HOME: '/root' }, headers: [{ Authorization: 'Bearer tok-7' }] }, 'env and headers');
    log.child({ registry: { auth: { username: 'reg', password: 'child-8' } } }).info('a child logger');
    const err = Object.assign(
      new Error('connect ECONNREFUSED https://svc:url-9@registry:8081/subjects', { cause: new Error('via http://u:cause-11@proxy:3128') }),
      { config: { 'sasl.password': 'err-10' } },
    );
    log.error({ err }, 'an error with secrets on it');
    const text = lines.join('');
    for (const secret of ['kafka-pass-1', 'key-pass-2', 'reg-pass-3', 'jwt-secret-4', 'deep-5', 'env-6', 'tok-7', 'child-8', 'url-9', 'err-10', 'cause-11'])
      assert.doesNotMatch(text, new RegExp(secret), secret);
    assert.match(JSON.parse(lines[4]!).err.message, /https:\/\/\[redacted\]@registry:8081/, 'the error is still there, without its credentials');
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.config.kafka.saslPassword, '[redacted]');
    assert.equal(entry.config.kafka.saslUsername, 'svc', 'what is not secret stays');
    assert.equal(entry.config.auth.jwtSecret, '[redacted]');
    assert.equal(JSON.parse(lines[1]!).app.streams.config.client['bootstrap.servers'], 'k:9092');
    assert.equal(config.kafka.saslPassword, 'kafka-pass-1', 'the logged object itself is not changed');
  });
});
