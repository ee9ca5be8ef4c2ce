import { strict as assert } from 'node:assert';
import { checkRunning } from '../../src/eos-verify/aggregates';

const rec = (s: string): { key: string; value: string } => {
  const [key, value] = s.split('=');
  return { key: key!, value: value! };
};

describe('eos-verify: running aggregates recomputed from the input', () => {
  const input = ['a=5', 'b=2', 'a=3', 'a=7'].map(rec);

  it('accepts exactly the running sum and min per key', () => {
    assert.equal(checkRunning('sum', input, ['a=5', 'a=8', 'b=2', 'a=15'].map(rec)).wrongKeys, 0);
    assert.equal(checkRunning('min', input, ['b=2', 'a=5', 'a=3', 'a=3'].map(rec)).wrongKeys, 0);
  });

  it('catches a lost input, a duplicated input and a reordering, naming the first difference', () => {
    const lost = checkRunning('sum', input, ['a=5', 'a=12', 'b=2'].map(rec));
    assert.equal(lost.wrongKeys, 1);
    assert.match(lost.firstProblem!, /sum of key a: expected 3 values, got 2; first difference at #2: expected 8, got 12/);
    const duplicated = checkRunning('sum', input, ['a=5', 'a=8', 'a=11', 'b=2', 'a=18'].map(rec));
    assert.equal(duplicated.wrongKeys, 1);
    assert.equal(checkRunning('min', input, ['a=3', 'a=5', 'a=3', 'b=2'].map(rec)).wrongKeys, 1);
    assert.equal(checkRunning('min', input, ['a=5', 'a=3', 'a=3', 'b=2', 'c=1'].map(rec)).wrongKeys, 1, 'an output key with no input');
  });

  it('through a cache: accepts running values in order ending at the final one; catches a lost or duplicated input', () => {
    assert.equal(checkRunning('sum', input, ['a=8', 'b=2', 'a=15'].map(rec), 'through-cache').wrongKeys, 0);
    assert.equal(checkRunning('sum', input, ['a=15', 'b=2'].map(rec), 'through-cache').wrongKeys, 0);
    const lost = checkRunning('sum', input, ['a=5', 'a=12', 'b=2'].map(rec), 'through-cache');
    assert.match(lost.firstProblem!, /sum of key a: output #2 \(12\) is not a later running value/);
    const duplicated = checkRunning('sum', input, ['a=8', 'a=18', 'b=2'].map(rec), 'through-cache');
    assert.equal(duplicated.wrongKeys, 1);
    assert.equal(checkRunning('sum', input, ['a=8', 'b=2'].map(rec), 'through-cache').wrongKeys, 1, 'a last output short of the final value');
    assert.equal(checkRunning('sum', input, ['a=8', 'a=5', 'a=15', 'b=2'].map(rec), 'through-cache').wrongKeys, 1, 'out of order');
  });
});
