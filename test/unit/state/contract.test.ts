/**
 * One contract for every key-value store stack: the bare backend, and the backend under
 * changelogging and the write-back cache. A new backend (RocksDB) joins the list below.
 */
import { strict as assert } from 'node:assert';
import { buildKeyValueStore, prefixEnd, storeSpec, type KeyValueBytesStore } from '../../../state';
import { InMemoryKeyValueStore } from '../../../state/in-memory';
import { Serdes } from '../../../src';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (entries: readonly (readonly [Buffer, Buffer])[]): string[] => entries.map(([k, v]) => `${k.toString('latin1')}=${v.toString('latin1')}`);
const spec = (cacheMaxEntries: number) => storeSpec({ name: 's', keySerde: Serdes.Bytes(), valueSerde: Serdes.Bytes(), cacheMaxEntries });

interface Stack {
  name: string;
  make(): { store: KeyValueBytesStore; logged: string[] };
}

const stacks: Stack[] = [
  { name: 'in-memory', make: () => ({ store: new InMemoryKeyValueStore('s'), logged: [] }) },
  ...[0, 2, 10_000].map((cache) => ({
    name: `in-memory + changelogging + cache(${cache})`,
    make: () => {
      const logged: string[] = [];
      const store = buildKeyValueStore(spec(cache), { log: (k, v) => logged.push(`${k.toString('latin1')}=${v === null ? 'null' : v.toString('latin1')}`) });
      return { store, logged };
    },
  })),
];

for (const stack of stacks) {
  describe(`key-value store contract: ${stack.name}`, () => {
    let store: KeyValueBytesStore;
    beforeEach(() => ({ store } = stack.make()));
    afterEach(() => store.close());

    it('reads its own writes before and after commit; a null value deletes', () => {
      store.put(b('a'), b('1'));
      assert.equal(store.get(b('a'))?.toString(), '1');
      store.flush();
      store.commit();
      assert.equal(store.get(b('a'))?.toString(), '1');
      store.put(b('a'), null);
      assert.equal(store.get(b('a')), undefined);
      store.flush();
      store.commit();
      assert.equal(store.get(b('a')), undefined);
      assert.equal(store.get(b('never')), undefined);
    });

    it('abort forgets every write since the last commit, flushed or not', () => {
      store.put(b('a'), b('1'));
      store.flush();
      store.commit();
      store.put(b('a'), b('2'));
      store.put(b('b'), b('2'));
      store.flush();
      store.put(b('c'), b('3'));
      store.abort();
      assert.equal(store.get(b('a'))?.toString(), '1');
      assert.equal(store.get(b('b')), undefined);
      assert.equal(store.get(b('c')), undefined);
      assert.deepEqual(text(store.range(undefined, undefined)), ['a=1']);
    });

    it('ranges are in byte order, from inclusive, to exclusive, limited, over committed and uncommitted writes', () => {
      for (const k of ['b', 'a', 'd', 'c', '\u00ff', '\u0001']) store.put(b(k), b(k));
      store.flush();
      store.commit();
      store.put(b('bb'), b('new'));
      store.put(b('c'), null);
      assert.deepEqual(text(store.range(undefined, undefined)), ['\u0001=\u0001', 'a=a', 'b=b', 'bb=new', 'd=d', '\u00ff=\u00ff']);
      assert.deepEqual(text(store.range(b('b'), b('d'))), ['b=b', 'bb=new']);
      assert.deepEqual(text(store.range(b('a'), undefined, 2)), ['a=a', 'b=b']);
      assert.deepEqual(text(store.range(b('b'), prefixEnd(b('b')))), ['b=b', 'bb=new']);
      assert.deepEqual(store.range(b('x'), b('y')), []);
    });

    it('restore applies changelog entries as committed state', () => {
      store.restore([[b('a'), b('1')], [b('b'), b('2')], [b('a'), null]]);
      store.abort();
      assert.equal(store.get(b('a')), undefined);
      assert.equal(store.get(b('b'))?.toString(), '2');
      assert.ok(store.approximateNumEntries() >= 1);
    });
  });
}

describe('state store layers', () => {
  it('the write-back cache sends one changelog record per key per flush, with the latest value', () => {
    const logged: string[] = [];
    const store = buildKeyValueStore(spec(100), { log: (k, v) => logged.push(`${k.toString()}=${v?.toString() ?? 'null'}`) });
    for (let i = 0; i < 5; i++) store.put(b('a'), b(String(i)));
    store.put(b('b'), b('x'));
    store.put(b('b'), null);
    assert.deepEqual(logged, []);
    store.flush();
    assert.deepEqual(logged.sort(), ['a=4', 'b=null']);
  });

  it('the cache flushes early when it holds more dirty keys than allowed', () => {
    const logged: string[] = [];
    const store = buildKeyValueStore(spec(2), { log: (k) => logged.push(k.toString()) });
    store.put(b('a'), b('1'));
    store.put(b('b'), b('1'));
    assert.equal(logged.length, 0);
    store.put(b('c'), b('1'));
    assert.deepEqual(logged.sort(), ['a', 'b', 'c']);
  });

  it('without logging there is no changelog writer', () => {
    const store = buildKeyValueStore(storeSpec({ name: 's', keySerde: Serdes.Bytes(), valueSerde: Serdes.Bytes(), logging: false }), undefined);
    store.put(b('a'), b('1'));
    store.flush();
    store.commit();
    assert.equal(store.get(b('a'))?.toString(), '1');
  });

  it('refuses a store name that cannot name a topic', () => {
    assert.throws(() => storeSpec({ name: 'bad name', keySerde: Serdes.Bytes(), valueSerde: Serdes.Bytes() }), { code: 'SA_ERR_TOPOLOGY_INVALID' });
    assert.throws(() => storeSpec({ name: 'ok', keySerde: Serdes.Bytes(), valueSerde: Serdes.Bytes(), cacheMaxEntries: -1 }), { code: 'SA_ERR_TOPOLOGY_INVALID' });
  });

  it('prefixEnd is the first key after every key with the prefix', () => {
    assert.deepEqual(prefixEnd(Buffer.from([1, 2])), Buffer.from([1, 3]));
    assert.deepEqual(prefixEnd(Buffer.from([1, 0xff])), Buffer.from([2]));
    assert.equal(prefixEnd(Buffer.from([0xff, 0xff])), undefined);
  });
});
