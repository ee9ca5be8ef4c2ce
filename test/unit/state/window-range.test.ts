import { strict as assert } from 'node:assert';
import { InMemoryKeyValueStore } from '../../../state/in-memory';
import { TypedWindowStore } from '../../../state/window-store';
import { Serdes } from '../../../src';

describe('window stores: a range costs the segments there are, not the ones the range could hold', () => {
  it("fetching a key's windows over all time (from 0 to 2^53) answers at once, in order", async () => {
    const bytes = new InMemoryKeyValueStore('w');
    const store = new TypedWindowStore<string, number>(bytes, Serdes.String() as never, Serdes.Long() as never, 't', {
      retentionMs: 3_600_000,
      segmentMs: 60_000,
    });
    const base = 1_700_000_000_000;
    for (const [key, start, value] of [
      ['a', base, 1],
      ['a', base + 600_000, 2],
      ['b', base + 60_000, 3],
      ['a', base + 86_400_000, 4],
    ] as const)
      store.put(key, start, value);
    await bytes.commit();
    // 2^53 ms is 1.5e11 one-minute segments: walking them one by one would never end.
    const windows = await store.fetchRange('a', 0, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(
      windows.map((w) => [w.start - base, w.value]),
      [
        [0, 1],
        [600_000, 2],
        [86_400_000, 4],
      ],
    );
    assert.deepEqual(
      (await store.fetchRange('a', base + 1, base + 600_000)).map((w) => w.value),
      [2],
    );
    assert.deepEqual(
      (await store.fetchAll(0, Number.MAX_SAFE_INTEGER)).map((w) => [w.key, w.value]),
      [
        ['a', 1],
        ['b', 3],
        ['a', 2],
        ['a', 4],
      ],
    );
    assert.deepEqual((await store.fetchAll(0, Number.MAX_SAFE_INTEGER, 2)).length, 2);
    assert.deepEqual(await store.fetchRange('zzz', 0, Number.MAX_SAFE_INTEGER), []);
  });
});
