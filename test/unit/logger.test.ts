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
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => { lines.push(chunk.toString()); done(); } });
    const log = createLogger(loadConfig({}).log, 'test', sink);
    log.info({ client: { 'sasl.password': 'hunter2', 'bootstrap.servers': 'k:9092' } }, 'connecting');
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.msg, 'connecting');
    assert.equal(entry.name, 'test');
    assert.equal(entry.level, pino.levels.values.info);
    assert.equal(entry.client['sasl.password'], '[redacted]');
    assert.equal(entry.client['bootstrap.servers'], 'k:9092');
  });
});
