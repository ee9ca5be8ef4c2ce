import { strict as assert } from 'node:assert';
import { checkpointEnds, type CheckpointSource, type ClosingTask } from '../../../src/runtime/checkpoint-guard';

const task = (
  id: string,
  committed: [string, number][],
  changelogs = [{ topic: 'app-counts-changelog', partition: Number(id.split('_')[1]) }],
  eligible = true,
): ClosingTask => ({
  id,
  eligible,
  inputs: committed.map(([tp]) => ({ topic: tp.split(':')[0]!, partition: Number(tp.split(':')[1]) })),
  committed: new Map(committed),
  changelogs,
});

describe('checkpoint guard: a close checkpoints only what this instance wrote', () => {
  const order: string[] = [];
  const source = (group: Record<string, number>): CheckpointSource => ({
    endOffsets: async () => {
      order.push('ends');
      return new Map([
        ['app-counts-changelog:0', 40],
        ['app-counts-changelog:1', 70],
      ]);
    },
    committed: async () => {
      order.push('committed');
      return new Map(Object.entries(group));
    },
  });

  it('checkpoints a task whose input offsets in the group are the ones this instance committed, reading the ends first', async () => {
    order.length = 0;
    const ends = await checkpointEnds([task('0_0', [['in:0', 100]]), task('0_1', [['in:1', -1001]])], source({ 'in:0': 100, 'in:1': -1001 }));
    assert.deepEqual([...ends.keys()], ['0_0', '0_1']);
    assert.equal(ends.get('0_0')!.get('app-counts-changelog:0'), 40);
    assert.deepEqual(order, ['ends', 'committed'], 'ends before the group: a commit in between only makes the check stricter');
  });

  it('writes none for a task another instance committed meanwhile (a lost assignment), or whose start is unknown', async () => {
    const ends = await checkpointEnds([task('0_0', [['in:0', 100]]), task('0_1', [])], source({ 'in:0': 180, 'in:1': 5 }));
    assert.equal(ends.size, 0);
  });

  it('writes none when the group or the ends cannot be read', async () => {
    const failing: CheckpointSource = { endOffsets: async () => new Map(), committed: async () => Promise.reject(new Error('coordinator not available')) };
    assert.equal((await checkpointEnds([task('0_0', [['in:0', 1]])], failing)).size, 0);
  });

  it('has nothing to do for tasks without persistent stores', async () => {
    let asked = false;
    const spy: CheckpointSource = {
      endOffsets: async () => {
        asked = true;
        return new Map();
      },
      committed: async () => new Map(),
    };
    assert.equal((await checkpointEnds([task('0_0', [['in:0', 1]], [])], spy)).size, 0);
    assert.equal(asked, false);
  });

  it('writes none for a task that is not eligible (at-least-once, or a wall-clock punctuator), without asking', async () => {
    let asked = false;
    const spy: CheckpointSource = {
      endOffsets: async () => {
        asked = true;
        return new Map();
      },
      committed: async () => new Map(),
    };
    assert.equal((await checkpointEnds([task('0_0', [['in:0', 1]], undefined, false)], spy)).size, 0);
    assert.equal(asked, false);
  });
});
