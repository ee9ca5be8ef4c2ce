import { strict as assert } from 'node:assert';
import { InMemoryKeyValueStore } from '../../../state/in-memory';

describe('in-memory store restoration', () => {
  it('keeps copies of restored values, never slices of the batch they came in', async () => {
    // The native batch reader hands keys and values over as slices of one buffer per fetch.
    const batch = Buffer.from('k1v1k2v2');
    const store = new InMemoryKeyValueStore('s');
    await store.restore([
      [batch.subarray(0, 2), batch.subarray(2, 4)],
      [batch.subarray(4, 6), batch.subarray(6, 8)],
    ]);
    batch.fill(0); // the batch buffer is reused or freed: what the store holds must not change
    assert.equal((await store.get(Buffer.from('k1')))?.toString(), 'v1');
    assert.equal((await store.get(Buffer.from('k2')))?.toString(), 'v2');
  });
});
