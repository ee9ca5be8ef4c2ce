import { strict as assert } from 'node:assert';
import { ReadBackCancelled, ReadBackQueue, ReadBacksBusy } from '../../../src/fanout/read-back-queue';

/** A read-back the test finishes by hand; `log` records the order they start in. */
function gate(log: string[], name: string): { task: () => Promise<string>; finish(): Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return {
    task: async () => {
      log.push(name);
      await opened;
      return name;
    },
    finish: async () => {
      open();
      for (let i = 0; i < 5; i++) await Promise.resolve(); // the queue hands the slot on in a few microtasks
    },
  };
}

describe('fan-out: the read-back queue', () => {
  it('runs one read-back per owner at a time, a few in all, and hands free slots round-robin between owners', async () => {
    const q = new ReadBackQueue({ running: 2, waiting: 100, waitingPerOwner: 32 });
    const started: string[] = [];
    const [a, b, c] = [{}, {}, {}];
    const as = Array.from({ length: 32 }, (_, i) => gate(started, `a${i}`));
    const cs = Array.from({ length: 3 }, (_, i) => gate(started, `c${i}`));
    const aDone = as.map((g) => q.run(a, undefined, g.task));
    const cDone = cs.map((g) => q.run(c, undefined, g.task));
    assert.deepEqual(started, ['a0', 'c0'], 'one slot each: a does not take the second slot with its second read-back');
    assert.deepEqual(q.stats(), { running: 2, waiting: 33 });
    const b0 = gate(started, 'b0');
    const bDone = q.run(b, undefined, b0.task);
    await as[0]!.finish();
    assert.deepEqual(started, ['a0', 'c0', 'b0'], "b, waiting behind 31 of a's, gets the next free slot");
    await cs[0]!.finish();
    assert.deepEqual(started.slice(3), ['a1']);
    await b0.finish();
    assert.equal(await bDone, 'b0');
    assert.deepEqual(started.slice(4), ['c1'], 'a runs one at a time: c takes the slot b freed');
    for (const g of [...as, ...cs]) await g.finish();
    assert.deepEqual(await Promise.all([...aDone, ...cDone]), [...as.map((_, i) => `a${i}`), ...cs.map((_, i) => `c${i}`)]);
    assert.deepEqual(q.stats(), { running: 0, waiting: 0 });
  });

  it('refuses at once past the waiting limit of an owner or of the process, starting nothing', async () => {
    const q = new ReadBackQueue({ running: 1, waiting: 3, waitingPerOwner: 2 });
    const started: string[] = [];
    const gates = ['a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'c0'].map((n) => gate(started, n));
    const run = (owner: object, i: number): Promise<string> => q.run(owner, undefined, gates[i]!.task);
    const [a, b, c] = [{}, {}, {}];
    const accepted = [run(a, 0), run(a, 1), run(a, 2)]; // a0 runs, a1 and a2 wait
    await assert.rejects(run(a, 3), (e: unknown) => e instanceof ReadBacksBusy && /this connection already has 2 resumes waiting/.test(e.message));
    accepted.push(run(b, 4)); // 3 waiting in all
    await assert.rejects(run(c, 6), (e: unknown) => e instanceof ReadBacksBusy && /this fan-out instance already has 3 resumes waiting/.test(e.message));
    assert.deepEqual(q.stats(), { running: 1, waiting: 3 });
    for (const g of gates) await g.finish();
    assert.deepEqual(await Promise.all(accepted), ['a0', 'a1', 'a2', 'b0']);
    assert.deepEqual(started, ['a0', 'b0', 'a1', 'a2'], "round-robin: b before a's second");
  });

  it("drops what an owner has waiting when it goes (or one subscription's), and lets the running one finish", async () => {
    const q = new ReadBackQueue({ running: 1, waiting: 10, waitingPerOwner: 10 });
    const started: string[] = [];
    const [a, b] = [{}, {}];
    const sub1 = {};
    const sub2 = {};
    const g = ['a0', 'a1', 'a2', 'b0'].map((n) => gate(started, n));
    const a0 = q.run(a, sub1, g[0]!.task);
    const a1 = q.run(a, sub1, g[1]!.task);
    const a2 = q.run(a, sub2, g[2]!.task);
    const b0 = q.run(b, undefined, g[3]!.task);
    q.cancel(a, sub2);
    await assert.rejects(a2, ReadBackCancelled);
    q.cancel(a);
    await assert.rejects(a1, ReadBackCancelled);
    assert.deepEqual(q.stats(), { running: 1, waiting: 1 });
    await g[0]!.finish();
    assert.equal(await a0, 'a0');
    await g[3]!.finish();
    assert.equal(await b0, 'b0');
    assert.deepEqual(started, ['a0', 'b0']);
    assert.deepEqual(q.stats(), { running: 0, waiting: 0 });
  });

  it('a read-back that fails frees its slot', async () => {
    const q = new ReadBackQueue({ running: 1, waiting: 10, waitingPerOwner: 10 });
    const owner = {};
    await assert.rejects(
      q.run(owner, undefined, () => Promise.reject(new Error('broker gone'))),
      /broker gone/,
    );
    await assert.rejects(
      q.run(owner, undefined, () => {
        throw new Error('thrown at once');
      }),
      /thrown at once/,
    );
    assert.equal(await q.run(owner, undefined, async () => 'next'), 'next');
    assert.deepEqual(q.stats(), { running: 0, waiting: 0 });
  });
});
