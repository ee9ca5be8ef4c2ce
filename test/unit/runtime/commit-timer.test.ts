import { strict as assert } from 'node:assert';
import { CommitTimer } from '../../../src/runtime/commit-timer';

describe('CommitTimer: when the stream thread commits', () => {
  it('is due after the interval or the record count, and never with nothing to commit', () => {
    const t = new CommitTimer(100, 3, 0);
    assert.equal(t.due(1_000), false, 'nothing processed: nothing to commit however long it has been');
    t.processed(1);
    assert.equal(t.due(99), false);
    assert.equal(t.due(100), true, 'the interval passed');
    t.restart(100);
    t.processed(3);
    assert.equal(t.due(101), true, 'commitMaxRecords reached before the interval');
    assert.equal(t.recordsSince, 3);
  });

  it('counts a wall-clock punctuation as something to commit, and a restart clears everything', () => {
    const t = new CommitTimer(100, 1_000, 0);
    t.punctuation();
    assert.equal(t.due(100), true);
    t.restart(100);
    assert.equal(t.due(500), false);
    assert.equal(t.recordsSince, 0);
  });
});
