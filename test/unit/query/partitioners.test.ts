import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Counter, Registry } from 'prom-client';
import { createLogger } from '../../../src/logger';
import { candidatePartitions, crc32Partition, partitionBy, partitionForKey } from '../../../src/partitioner';
import { PartitionerCheck } from '../../../src/runtime/partitioner-check';

describe('input partitioners', () => {
  it("CRC32 is librdkafka's consistent partitioner: crc32(key) % partitions", () => {
    // crc32("123456789") is the CRC-32 check value 0xCBF43926.
    assert.equal(crc32Partition(Buffer.from('123456789'), 2 ** 31), 0xcbf43926 % 2 ** 31);
    assert.equal(crc32Partition(Buffer.from('123456789'), 7), 0xcbf43926 % 7);
    assert.equal(partitionBy('crc32', Buffer.from('k488'), 6), crc32Partition(Buffer.from('k488'), 6));
    assert.equal(partitionBy('murmur2', Buffer.from('k488'), 6), partitionForKey(Buffer.from('k488'), 6));
  });

  it('a declared partitioner names one partition; an unknown one every partition, the two likely ones first', () => {
    const key = Buffer.from('k488');
    assert.deepEqual(candidatePartitions('murmur2', key, 6), [partitionForKey(key, 6)]);
    assert.deepEqual(candidatePartitions('crc32', key, 6), [crc32Partition(key, 6)]);
    const all = candidatePartitions('unknown', key, 6);
    assert.deepEqual(all.slice(0, 2), [partitionForKey(key, 6), crc32Partition(key, 6)]);
    assert.deepEqual([...all].sort(), [0, 1, 2, 3, 4, 5]);
  });

  it('the check counts records off the declared partitioner, warns once per topic, and remembers it across restarts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcheck-'));
    const lines: string[] = [];
    const log = createLogger(
      { level: 'warn' },
      't',
      new Writable({
        write: (c: Buffer, _e, done) => {
          lines.push(c.toString());
          done();
        },
      }),
    );
    const registry = new Registry();
    const counter = new Counter({ name: 'm', help: 'm', labelNames: ['topic'], registers: [registry] });
    try {
      const file = join(dir, 'partitioner-mismatch.json');
      const check = new PartitionerCheck({ declared: 'murmur2', external: new Set(['in']), counter, log, file });
      check.setPartitionCounts(
        new Map([
          ['in', 6],
          ['app-repartition', 6],
        ]),
      );
      const key = Buffer.from('k488');
      const right = partitionForKey(key, 6);
      const wrong = (right + 1) % 6;
      check.observe([
        { topic: 'in', partition: right, key },
        { topic: 'in', partition: 0, key: null },
        { topic: 'app-repartition', partition: wrong, key },
      ]);
      assert.equal(check.mismatchSeen('in'), false, 'records where murmur2 puts them, null keys and internal topics are fine');
      check.observe([
        { topic: 'in', partition: wrong, key },
        { topic: 'in', partition: wrong, key },
      ]);
      assert.equal(check.mismatchSeen('in'), true);
      assert.equal(lines.filter((l) => /would not choose/.test(l)).length, 1);
      assert.match(lines[0]!, /STREAMING_PROCESSOR__INPUT_PARTITIONER/);
      const again = new PartitionerCheck({ declared: 'murmur2', external: new Set(['in']), counter, log, file });
      assert.equal(again.mismatchSeen('in'), true, 'a restarted instance still knows');
      writeFileSync(file, '{garbage');
      assert.equal(
        new PartitionerCheck({ declared: 'murmur2', external: new Set(['in']), counter, log, file }).mismatchSeen('in'),
        false,
        'a damaged file starts afresh',
      );
      const none = new PartitionerCheck({ declared: 'unknown', external: new Set(['in']), counter, log });
      none.setPartitionCounts(new Map([['in', 6]]));
      none.observe([{ topic: 'in', partition: wrong, key }]);
      assert.equal(none.mismatchSeen('in'), false, 'an unknown partitioner is not checked');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
