import { strict as assert } from 'node:assert';
import { murmur2, partitionForKey } from '../../../src/partitioner';
import { BadKey, jsonValue, keyFromText } from '../../../src/query/text';
import { Serdes } from '../../../src';

describe('query API helpers', () => {
  it("murmur2 matches Kafka (the vectors of Kafka's UtilsTest)", () => {
    assert.equal(murmur2(Buffer.from('21')), -973932308);
    assert.equal(murmur2(Buffer.from('foobar')), -790332482);
    assert.equal(murmur2(Buffer.from('a-little-bit-long-string')), -985981536);
    assert.equal(murmur2(Buffer.from('a-little-bit-longer-string')), -1486304829);
    assert.equal(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')), -58897971);
    assert.equal(partitionForKey(Buffer.from('k0'), 4), 1);
  });

  it('reads a key from URL text by the store key serde, and refuses what it cannot', () => {
    assert.equal(keyFromText(Serdes.String() as never, 'acct-1'), 'acct-1');
    assert.equal(keyFromText(Serdes.Long() as never, '42'), 42);
    assert.throws(() => keyFromText(Serdes.Long() as never, '4.2'), BadKey);
    assert.deepEqual(keyFromText(Serdes.Json() as never, '{"a":1}'), { a: 1 });
    assert.throws(() => keyFromText(Serdes.Json() as never, '{'), BadKey);
    assert.deepEqual(keyFromText(Serdes.Bytes() as never, 'AQI'), Buffer.from([1, 2]));
    assert.throws(() => keyFromText({ name: 'Avro(x)' } as never, 'x'), /cannot be given as text/);
    assert.deepEqual(jsonValue(Buffer.from([1])), { base64: 'AQ==' });
  });
});
