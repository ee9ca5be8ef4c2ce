import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionDirs, startBudgetMs } from '../../../ops/kafka/kafka-service';
import { rotateLog, tail } from '../../../ops/kafka/process';

describe('service logs (ops/kafka/process.ts)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sa-logs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('tail reads the last lines of a log of any size from its end', () => {
    const log = join(dir, 'server.log');
    const lines = Array.from({ length: 60_000 }, (_, i) => `[2026-11-30] INFO line ${i} ${'x'.repeat(40)}`);
    writeFileSync(log, `${lines.join('\n')}\n`);
    assert.ok(statSync(log).size > 2 * 1024 * 1024, 'larger than what tail reads');
    assert.deepEqual(tail(log, 3).split('\n'), lines.slice(-3));
    assert.equal(tail(log, 100_000).split('\n').at(0)?.startsWith('[2026-11-30] INFO line '), true, 'a line cut by the read window is left out');
  });

  it('tail of a short log gives all of it, of a missing one says so', () => {
    writeFileSync(join(dir, 'short.log'), 'one\ntwo\n');
    assert.equal(tail(join(dir, 'short.log')), 'one\ntwo');
    assert.equal(tail(join(dir, 'none.log')), '(no log file)');
  });

  it('a log over the limit is moved aside before a start; a smaller one is appended to', () => {
    const log = join(dir, 'server.log');
    writeFileSync(log, 'a'.repeat(2000));
    rotateLog(log, 1000);
    assert.equal(existsSync(log), false);
    assert.equal(readFileSync(`${log}.1`, 'utf8').length, 2000);
    writeFileSync(log, 'small');
    rotateLog(log, 1000);
    assert.equal(readFileSync(log, 'utf8'), 'small');
    rotateLog(join(dir, 'none.log'), 1000);
  });
});

describe('how long a broker start may take (ops/kafka/kafka-service.ts)', () => {
  it('grows with the partition folders on disk, from 120 s up to 30 min', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-node-'));
    try {
      mkdirSync(join(dir, 'data'));
      for (const d of ['in-0', 'in-1', 'out-0', '__consumer_offsets-3', 'meta.properties', 'bootstrap.checkpoint']) mkdirSync(join(dir, 'data', d));
      assert.equal(partitionDirs({ dir }), 4);
      assert.equal(partitionDirs({ dir: join(dir, 'none') }), 0);
      assert.equal(startBudgetMs(0), 120_000);
      assert.equal(startBudgetMs(13_889), 120_000 + 13_889 * 30);
      assert.equal(startBudgetMs(10_000_000), 30 * 60_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
