import { strict as assert } from 'node:assert';
import type { Message } from 'node-rdkafka';
import { SerdeError, Serdes, WindowedSerdes } from '../../../src';
import { checkRunning } from '../../../src/eos-verify/aggregates';
import { createLogger } from '../../../src/logger';
import { StreamsMetrics } from '../../../src/runtime/metrics';
import { StoreRestorer } from '../../../src/runtime/restore';
import type { ResolvedStreamsConfig } from '../../../src/runtime/streams-config';
import { batchOf, type ConsumedRecord, type RecordBatch } from '../../../src/kafka';
import { stampedListSerde } from '../../../src/serdes/list';
import { bufferKeySerde } from '../../../src/streams/processors/suppress';
import { TaskStores } from '../../../src/streams/internals/task-stores';
import { storeSpec } from '../../../state';
import { decodeWindowKey, windowKey, windowKeyProblem } from '../../../state/window-store';

/** Issue 12, finding 1, siblings: every decoder that reads a count or a length from outside checks it first. */
const serdeError =
  (message: RegExp) =>
  (err: unknown): boolean =>
    err instanceof SerdeError && message.test(err.message);

describe('decoders that read counts and lengths from bytes', () => {
  const S = Serdes.String();

  it('stamped lists: a count or a length past the end is a SerdeError, not a loop or a RangeError', () => {
    const list = stampedListSerde('Sessions', S, 2);
    const good = list.serialize('t', [
      { times: [1, 2], value: 'a' },
      { times: [3, 4], value: 'bc' },
    ])!;
    assert.deepEqual(list.deserialize('t', good), [
      { times: [1, 2], value: 'a' },
      { times: [3, 4], value: 'bc' },
    ]);
    const huge = Buffer.from(good);
    huge.writeUInt32BE(0xffffffff, 0);
    assert.throws(
      () => list.deserialize('t', huge),
      serdeError(/a Sessions list from "t" \(47 bytes\) claims 4294967295 entries, more than its bytes can hold/),
    );
    const longValue = Buffer.from(good);
    longValue.writeUInt32BE(1000, 4 + 16);
    assert.throws(() => list.deserialize('t', longValue), serdeError(/entry 0 claims 1000 bytes at byte 20, past the end/));
    assert.throws(() => list.deserialize('t', good.subarray(0, good.length - 1)), serdeError(/entry 1 claims 2 bytes at byte 41, past the end/));
    assert.throws(() => list.deserialize('t', good.subarray(0, 44)), serdeError(/ends inside entry 1 \(at byte 25\)/));
    assert.throws(() => list.deserialize('t', Buffer.concat([good, Buffer.from([0])])), serdeError(/has 1 bytes after its 2 entries/));
  });

  it('time-windowed keys: too short, or a start beyond 2^53, is a SerdeError', () => {
    const w = WindowedSerdes.timeWindowed(S, 60_000);
    assert.deepEqual(w.deserialize('t', w.serialize('t', { key: 'k', window: { start: 60_000, end: 120_000 } })), {
      key: 'k',
      window: { start: 60_000, end: 120_000 },
    });
    assert.throws(() => w.deserialize('t', Buffer.alloc(7)), serdeError(/needs at least 8 bytes/));
    assert.throws(() => w.deserialize('t', Buffer.alloc(9, 0xff)), serdeError(/beyond 2\^53 ms/));
  });

  it('suppression buffer keys: too short or null is a SerdeError', () => {
    const k = bufferKeySerde(S);
    assert.deepEqual(k.deserialize('t', k.serialize('t', { key: 'k', window: { start: 1, end: 2 } })), { key: 'k', window: { start: 1, end: 2 } });
    assert.throws(() => k.deserialize('t', Buffer.alloc(15)), serdeError(/needs at least 16 bytes, not 15/));
    assert.throws(() => k.deserialize('t', null), serdeError(/not null/));
    assert.throws(() => k.deserialize('t', Buffer.alloc(16, 0xff)), serdeError(/ends beyond 2\^53 ms/));
  });

  it('window-store keys: a key length past the end, a short key, a start beyond 2^53 or the wrong segment are named', () => {
    const full = windowKey(Buffer.from('abc'), 120_000, 60_000);
    assert.deepEqual(decodeWindowKey(full), { key: Buffer.from('abc'), start: 120_000 });
    assert.equal(windowKeyProblem(full, 60_000), undefined);
    const long = Buffer.from(full);
    long.writeUInt32BE(0xfffffff0, 8);
    assert.throws(() => decodeWindowKey(long), serdeError(/a window-store key cannot be read: its key length 4294967280 does not fit its 23 bytes/));
    assert.throws(() => decodeWindowKey(Buffer.alloc(11)), serdeError(/11 bytes are fewer than the 20 of the shortest window key/));
    assert.match(windowKeyProblem(Buffer.concat([full.subarray(0, 15), Buffer.alloc(8, 0xff)]))!, /beyond 2\^53/);
    assert.match(windowKeyProblem(full, 30_000)!, /its segment is not the one of its window start/);
  });

  it('restoration skips (and counts) changelog records that cannot be window-store keys; the store reads fine afterwards', async () => {
    const spec = storeSpec({ name: 'counts', keySerde: S, valueSerde: Serdes.Long(), window: { sizeMs: 60_000, retentionMs: 600_000, segmentMs: 60_000 } });
    const stores = new TaskStores({
      specs: [spec],
      context: { partition: 0, db: undefined, maxLoadedKeys: 0 },
      changelogTopic: (s) => `app-${s}-changelog`,
      collector: { send: () => undefined },
    });
    const [target] = stores.restoreTargets();
    const lines: { msg: string; problem?: string; skipped?: unknown }[] = [];
    const log = createLogger({ level: 'info' }, 'restore-test', { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) });
    const restorer = new StoreRestorer({} as ResolvedStreamsConfig, log, new StreamsMetrics('app', { lags: () => [] }));
    const good = windowKey(Buffer.from('k'), 120_000, 60_000);
    const message = (key: Buffer, offset: number): Message => ({
      topic: target!.topic,
      partition: 0,
      offset,
      key,
      value: Serdes.Long().serialize('t', 7),
      size: 8,
      timestamp: 0,
    });
    const batch = [
      message(Buffer.from('short'), 0),
      message(good, 1),
      message(Buffer.concat([good.subarray(0, 8), Buffer.from([0xff, 0xff, 0xff, 0xff]), good.subarray(12)]), 2),
    ];
    const progress = { target: target!, from: 0, end: 3, restored: 0, skipped: 0, done: false };
    await (restorer as unknown as { apply(b: RecordBatch, p: Map<string, typeof progress>): Promise<void> }).apply(
      batchOf(batch as unknown as ConsumedRecord[]),
      new Map([[`${target!.topic}:0`, progress]]),
    );
    assert.equal(progress.restored, 1);
    assert.equal(progress.skipped, 2);
    assert.equal(lines.filter((l) => /is skipped/.test(l.msg)).length, 1, 'one warning, then counted');
    assert.match(lines[0]!.problem!, /5 bytes are fewer than the 20/);
    stores.commitInMemory();
    assert.deepEqual(await stores.window<string, number>('counts')!.fetchAll(0, 600_000), [{ key: 'k', start: 120_000, value: 7 }]);
  });

  it('JSON: maxBytes refuses a larger record before parsing; without it, nothing changes', () => {
    const capped = Serdes.Json<unknown>({ maxBytes: 10 });
    assert.deepEqual(capped.deserialize('t', Buffer.from('{"a":1}')), { a: 1 });
    assert.throws(
      () => capped.deserialize('t', Buffer.from('{"a":"0123456789"}')),
      serdeError(/a record from "t" is 18 bytes, more than the 10 allowed \(maxBytes\)/),
    );
    assert.deepEqual(Serdes.Json<unknown>().deserialize('t', Buffer.from(`{"a":"${'x'.repeat(2_000_000)}"}`)), { a: 'x'.repeat(2_000_000) });
    assert.throws(() => Serdes.Json({ maxBytes: 0 }), { code: 'SA_ERR_STREAMS_CONFIG' });
  });

  it('the EOS verifier: an input value that is not a sequence number is a SerdeError, not a silent NaN', () => {
    assert.throws(
      () =>
        checkRunning(
          'sum',
          [
            { key: 'a', value: '1' },
            { key: 'a', value: 'x'.repeat(100) },
          ],
          [],
        ),
      serdeError(/input value "x{40}" of key "a" is not a sequence number/),
    );
    assert.throws(() => checkRunning('min', [{ key: 'a', value: '1e400' }], []), serdeError(/is not a sequence number/));
  });
});
