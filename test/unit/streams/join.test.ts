import { strict as assert } from 'node:assert';
import { type KStream, Serdes, StreamsBuilder, TopologyTestDriver } from '../../../src';

const S = Serdes.String();
const APP = { applicationId: 'join-test' };

function joinTopology(left: boolean): ReturnType<StreamsBuilder['build']> {
  const b = new StreamsBuilder();
  const users = b.table('users', { keySerde: S, valueSerde: S }, { name: 'users' });
  const clicks = b.stream('clicks', { keySerde: S, valueSerde: S });
  const joined = left
    ? clicks.leftJoin(users, (click, user) => `${click} by ${user ?? 'unknown'}`)
    : clicks.join(users, (click, user) => `${click} by ${user}`);
  joined.to('enriched', { keySerde: S, valueSerde: S });
  return b.build();
}

describe('tables and stream–table joins (TopologyTestDriver)', () => {
  it('a table built from a topic carries its deletes downstream: toStream() is typed and delivers V | null', () => {
    const b = new StreamsBuilder();
    const updates: KStream<string | null, string | null> = b.table('users', { keySerde: S, valueSerde: S }).toStream();
    updates.to('user-updates', { keySerde: S, valueSerde: S });
    const driver = new TopologyTestDriver(b.build(), APP);
    try {
      const users = driver.createInputTopic('users', S, S);
      users.pipeInput('u1', 'Ada');
      users.pipeInput('u1', null);
      assert.deepEqual(driver.createOutputTopic('user-updates', S, S).readKeyValuesToList(), [
        ['u1', 'Ada'],
        ['u1', null],
      ]);
    } finally {
      driver.close();
    }
  });

  for (const left of [false, true]) {
    it(`${left ? 'leftJoin' : 'join'} enriches each click with the user's current value`, () => {
      const driver = new TopologyTestDriver(joinTopology(left), APP);
      try {
        const users = driver.createInputTopic('users', S, S);
        const clicks = driver.createInputTopic('clicks', S, S);
        clicks.pipeInput('u1', 'c0'); // before the table knows u1
        users.pipeInput('u1', 'Ada');
        clicks.pipeInput('u1', 'c1');
        users.pipeInput('u1', 'Ada L.'); // an update: later clicks see it
        clicks.pipeInput('u1', 'c2');
        users.pipeInput('u1', null); // a tombstone deletes the row
        clicks.pipeInput('u1', 'c3');
        clicks.pipeInput(null, 'no key'); // dropped: no key to look up
        const out = driver.createOutputTopic('enriched', S, S).readValuesToList();
        assert.deepEqual(out, left ? ['c0 by unknown', 'c1 by Ada', 'c2 by Ada L.', 'c3 by unknown'] : ['c1 by Ada', 'c2 by Ada L.']);
        assert.equal(driver.getKeyValueStore<string, string>('users').get('u1'), undefined);
      } finally {
        driver.close();
      }
    });
  }

  it('the table source and the join share one sub-topology, with the table store connected to both', () => {
    const d = joinTopology(false).describe();
    assert.equal(d.subtopologies.length, 1);
    assert.deepEqual(d.stores, ['users']);
    assert.deepEqual(d.internalTopics, ['users-changelog']);
    assert.match(d.toString(), /Processor: KSTREAM-JOIN-\d+ \(join; stores: \[users\]\)/);
  });

  it('joining after a key change is refused with a hint to repartition', () => {
    const b = new StreamsBuilder();
    const users = b.table('users', { keySerde: S, valueSerde: S });
    const rekeyed = b.stream('clicks', { keySerde: S, valueSerde: S }).selectKey((_k, v) => v);
    assert.throws(() => rekeyed.join(users, (a, u) => `${a}${u}`), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /key may have changed/ });
    // After an explicit repartition the join is allowed.
    rekeyed.repartition({ name: 'by-user', keySerde: S, valueSerde: S }).join(users, (a, u) => `${a}${u}`);
  });
});
