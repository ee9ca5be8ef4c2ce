/**
 * One contract for every key-value store stack: each backend bare, and under
 * changelogging and the write-back cache. Reads are preceded by `prefetch` of the keys,
 * as a task does before each batch (a no-op in memory).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKeyValueStore, prefixEnd, StateDb, storeSpec, type KeyValueBytesStore, type StoreBackend } from '../../../state';
import { Registry } from 'prom-client';
import { Serdes } from '../../../src';
import { StoreMetrics } from '../../../src/runtime/store-metrics';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (entries: readonly (readonly [Buffer, Buffer])[]): string[] => entries.map(([k, v]) => `${k.toString('latin1')}=${v.toString('latin1')}`);
const spec = (backend: StoreBackend, cacheMaxEntries: number) =>
  storeSpec({ name: 's', keySerde: Serdes.Bytes(), valueSerde: Serdes.Bytes(), cacheMaxEntries, backend, prefetchKeys: (k) => [k as Buffer] });

let db: StateDb;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sa-contract-'));
  db = await StateDb.open({ path: dir, cacheBytes: 8 << 20, writeBufferBytes: 4 << 20 });
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

let partition = 0; // every test gets a fresh key space in the shared database
const stacks: { name: string; make(): KeyValueBytesStore }[] = (['in-memory', 'rocksdb'] as const).flatMap((backend) => [
  { name: `${backend}`, make: () => buildKeyValueStore(spec(backend, 0), undefined, { partition: partition++, db, maxLoadedKeys: 1000 }) },
  ...[2, 10_000].map((cache) => ({
    name: `${backend} + changelogging + cache(${cache})`,
    make: () => buildKeyValueStore(spec(backend, cache), { log: () => undefined }, { partition: partition++, db, maxLoadedKeys: 1000 }),
  })),
  {
    name: `${backend} + changelogging + cache(2) + metered`,
    make: () =>
      buildKeyValueStore(
        spec(backend, 2),
        { log: () => undefined },
        { partition: partition++, db, maxLoadedKeys: 1000, meter: new StoreMetrics(new Registry()) },
      ),
  },
]);

for (const stack of stacks) {
  describe(`key-value store contract: ${stack.name}`, () => {
    let store: KeyValueBytesStore;
    const get = async (k: string): Promise<string | undefined> => {
      await store.prefetch([b(k)]);
      return store.get(b(k))?.toString('latin1');
    };
    const commit = async (): Promise<void> => {
      store.flush();
      await store.commit();
    };
    beforeEach(() => (store = stack.make()));
    afterEach(() => store.close());

    it('reads its own writes before and after commit; a null value deletes', async () => {
      store.put(b('a'), b('1'));
      assert.equal(await get('a'), '1');
      await commit();
      assert.equal(await get('a'), '1');
      store.put(b('a'), null);
      assert.equal(await get('a'), undefined);
      await commit();
      assert.equal(await get('a'), undefined);
      assert.equal(await get('never'), undefined);
    });

    it('abort forgets every write since the last commit, flushed or not', async () => {
      store.put(b('a'), b('1'));
      await commit();
      store.put(b('a'), b('2'));
      store.put(b('b'), b('2'));
      store.flush();
      store.put(b('c'), b('3'));
      store.abort();
      assert.equal(await get('a'), '1');
      assert.equal(await get('b'), undefined);
      assert.equal(await get('c'), undefined);
      assert.deepEqual(text(await store.range(undefined, undefined)), ['a=1']);
    });

    it('ranges are in byte order, from inclusive, to exclusive, limited, over committed and uncommitted writes', async () => {
      for (const k of ['b', 'a', 'd', 'c', '\u00ff', '\u0001']) store.put(b(k), b(k));
      await commit();
      store.put(b('bb'), b('new'));
      store.put(b('c'), null);
      assert.deepEqual(text(await store.range(undefined, undefined)), ['\u0001=\u0001', 'a=a', 'b=b', 'bb=new', 'd=d', '\u00ff=\u00ff']);
      assert.deepEqual(text(await store.range(b('b'), b('d'))), ['b=b', 'bb=new']);
      assert.deepEqual(text(await store.range(b('a'), undefined, 2)), ['a=a', 'b=b']);
      assert.deepEqual(text(await store.range(b('b'), prefixEnd(b('b')))), ['b=b', 'bb=new']);
      assert.deepEqual(await store.range(b('x'), b('y')), []);
      assert.deepEqual(text(await store.range(b('b'), undefined, 3)), ['b=b', 'bb=new', 'd=d'], 'a staged delete inside the limit is skipped, not counted');
    });

    it('deleteRange removes committed and uncommitted entries in [from, to) only', async () => {
      for (const k of ['a', 'b', 'c', 'd']) store.put(b(k), b(k));
      await commit();
      store.put(b('bb'), b('x'));
      await store.deleteRange(b('b'), b('d'));
      assert.deepEqual(text(await store.range(undefined, undefined)), ['a=a', 'd=d']);
      assert.equal(await get('c'), undefined);
      await store.deleteRange(undefined, b('b'));
      assert.deepEqual(text(await store.range(undefined, undefined)), ['d=d']);
    });

    it('restore applies changelog entries as committed state; wipe empties the store', async () => {
      await store.restore([
        [b('a'), b('1')],
        [b('b'), b('2')],
        [b('a'), null],
      ]);
      store.abort();
      assert.equal(await get('a'), undefined);
      assert.equal(await get('b'), '2');
      assert.ok(store.approximateNumEntries() >= 1);
      await store.wipe();
      assert.equal(await get('b'), undefined);
      assert.deepEqual(await store.range(undefined, undefined), []);
    });
  });
}

describe('state store layers', () => {
  const logging = (cache: number, logged: string[]) =>
    buildKeyValueStore(spec('in-memory', cache), { log: (k, v) => logged.push(`${k.toString()}=${v?.toString() ?? 'null'}`) });

  it('the write-back cache sends one changelog record per key per flush, with the latest value', () => {
    const logged: string[] = [];
    const store = logging(100, logged);
    for (let i = 0; i < 5; i++) store.put(b('a'), b(String(i)));
    store.put(b('b'), b('x'));
    store.put(b('b'), null);
    assert.deepEqual(logged, []);
    store.flush();
    assert.deepEqual(logged.sort(), ['a=4', 'b=null']);
  });

  it('the cache flushes early when it holds more dirty keys than allowed', () => {
    const logged: string[] = [];
    const store = logging(2, logged);
    store.put(b('a'), b('1'));
    store.put(b('b'), b('1'));
    assert.equal(logged.length, 0);
    store.put(b('c'), b('1'));
    assert.deepEqual(logged.sort(), ['a=1', 'b=1', 'c=1']);
  });

  it("emit through the cache: a flush hands the listener each key's last emit, after logging it; an abort drops them", () => {
    const events: string[] = [];
    const store = buildKeyValueStore(spec('in-memory', 100), { log: (k, v) => events.push(`log ${k.toString()}=${v?.toString() ?? 'null'}`) });
    assert.equal(
      store.setFlushListener?.((emit) => events.push(`emit ${String(emit)}`)),
      true,
    );
    store.put(b('a'), b('1'), 'a@1');
    store.put(b('a'), b('2'), 'a@2');
    store.put(b('b'), b('1'), 'b@1');
    store.put(b('c'), b('1')); // a write without an emit: logged, emits nothing
    assert.deepEqual(events, []);
    store.flush();
    assert.deepEqual(events, ['log a=2', 'log b=1', 'log c=1', 'emit a@2', 'emit b@1']);
    events.length = 0;
    store.put(b('a'), b('3'), 'a@3');
    store.abort();
    store.flush();
    assert.deepEqual(events, []);
  });

  it('a stack without a cache has no flush listener (its users emit at once)', () => {
    const store = buildKeyValueStore(spec('in-memory', 0), { log: () => undefined });
    assert.equal(store.setFlushListener?.(() => undefined) ?? false, false);
  });

  it("the metered layer counts every operation per store, times batch operations, and keeps a closed store's counts", async () => {
    const registry = new Registry();
    const meter = new StoreMetrics(registry);
    const make = (): KeyValueBytesStore => buildKeyValueStore(spec('in-memory', 10), undefined, { partition: 0, db: undefined, maxLoadedKeys: 0, meter });
    const one = make();
    one.put(b('a'), b('1'));
    one.put(b('b'), b('1'));
    one.put(b('b'), null);
    one.get(b('a'));
    one.flush();
    await one.commit();
    await one.range(undefined, undefined);
    const two = make();
    two.put(b('c'), b('1'));
    await one.close();
    const text = await registry.metrics();
    const value = (name: string, labels: string): number => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('state_store_operations_total', 'store="s",operation="put"'), 3);
    assert.equal(value('state_store_operations_total', 'store="s",operation="delete"'), 1);
    assert.equal(value('state_store_operations_total', 'store="s",operation="get"'), 1);
    assert.equal(value('state_store_operations_total', 'store="s",operation="commit"'), 1);
    assert.equal(value('state_store_operation_duration_ms_count', 'store="s",operation="range"'), 1);
    assert.equal(value('state_store_entries', 'store="s"'), 1, 'only the open store counts: its one dirty key');
    await two.close();
  });

  it('refuses a store name that cannot name a topic, and a RocksDB store without prefetchKeys', () => {
    const serdes = { keySerde: Serdes.Bytes(), valueSerde: Serdes.Bytes() };
    assert.throws(() => storeSpec({ name: 'bad name', ...serdes }), { code: 'SA_ERR_TOPOLOGY_INVALID' });
    assert.throws(() => storeSpec({ name: 'ok', ...serdes, cacheMaxEntries: -1 }), { code: 'SA_ERR_TOPOLOGY_INVALID' });
    assert.throws(() => storeSpec({ name: 'ok', ...serdes, backend: 'rocksdb' }), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /prefetchKeys/ });
  });

  it('prefixEnd is the first key after every key with the prefix', () => {
    assert.deepEqual(prefixEnd(Buffer.from([1, 2])), Buffer.from([1, 3]));
    assert.deepEqual(prefixEnd(Buffer.from([1, 0xff])), Buffer.from([2]));
    assert.equal(prefixEnd(Buffer.from([0xff, 0xff])), undefined);
  });
});

describe('RocksDB backend', () => {
  const rocks = (p: number, maxLoadedKeys = 1000) => buildKeyValueStore(spec('rocksdb', 0), undefined, { partition: p, db, maxLoadedKeys });

  it('a key read without prefetch is a typed error, not a wrong answer', () => {
    const store = rocks(900);
    assert.throws(() => store.get(b('x')), { code: 'SA_ERR_STORE_NOT_LOADED' });
  });

  it('a commit writes RocksDB in the background; a write that fails makes the next commit and the close fail with a typed error', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'sa-write-fail-'));
    const db2 = await StateDb.open({ path: dir2, cacheBytes: 1 << 20, writeBufferBytes: 1 << 20 });
    const store = buildKeyValueStore(spec('rocksdb', 0), undefined, { partition: 0, db: db2, maxLoadedKeys: 10 });
    store.put(b('k'), b('v'));
    await db2.close(); // the background write will find the database closed
    await store.commit();
    assert.equal(store.get(b('k'))?.toString(), 'v', 'committed state is served from memory at once');
    store.put(b('k'), b('w'));
    await assert.rejects(store.commit(), { code: 'SA_ERR_STATE_DIR', message: /writing committed state to RocksDB failed/ });
    await assert.rejects(store.close(), { code: 'SA_ERR_STATE_DIR' });
    rmSync(dir2, { recursive: true, force: true });
  });

  it('committed writes outlive the store object; partitions and stores do not see each other; wipe is per partition', async () => {
    const one = rocks(901);
    const two = rocks(902);
    one.put(b('k'), b('one'));
    two.put(b('k'), b('two'));
    await one.commit();
    await two.commit();
    await one.close();
    const again = rocks(901);
    await again.prefetch([b('k')]);
    assert.equal(again.get(b('k'))?.toString(), 'one');
    await again.wipe();
    await two.prefetch([b('k')]);
    assert.equal(two.get(b('k'))?.toString(), 'two');
    assert.deepEqual(await again.range(undefined, undefined), []);
  });

  it('keeps at most maxLoadedKeys committed keys in memory; evicted keys are read again', async () => {
    const store = rocks(903, 2);
    for (const k of ['a', 'b', 'c']) store.put(b(k), b(k));
    await store.commit();
    assert.throws(() => store.get(b('a')), { code: 'SA_ERR_STORE_NOT_LOADED' }, 'the oldest key was evicted');
    assert.equal(store.get(b('c'))?.toString(), 'c');
    await store.prefetch([b('a')]);
    assert.equal(store.get(b('a'))?.toString(), 'a');
  });
});
