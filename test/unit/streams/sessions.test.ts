import { strict as assert } from 'node:assert';
import { Serdes, SessionWindows, StreamsBuilder, Suppressed, TopologyTestDriver, type KTable, type SessionTable, type Windowed } from '../../../src';

const S = Serdes.String();

function sessions(windows: SessionWindows, records: [string, number][]): { out: string[]; store: unknown; late: string[] } {
  const b = new StreamsBuilder();
  b.stream('in', { keySerde: S, valueSerde: S })
    .groupByKey({ keySerde: S })
    .windowedBy(windows, { lateRecords: { topic: 'late', keySerde: S, valueSerde: S } })
    .count({ name: 'sessions' })
    .toStream()
    .map((w, n) => [w.key, `${w.key}[${w.window.start},${w.window.end}]=${n ?? 'null'}`])
    .to('out', { keySerde: S, valueSerde: S });
  const driver = new TopologyTestDriver(b.build(), { applicationId: 'sessions' });
  try {
    const input = driver.createInputTopic('in', S, S);
    for (const [k, ts] of records) input.pipeInput(k, `${k}@${ts}`, { timestamp: ts });
    const late = driver.createOutputTopic('late', S, S).readValuesToList() as string[];
    return { out: driver.createOutputTopic('out', S, S).readValuesToList() as string[], store: driver.getKeyValueStore('sessions').get('a'), late };
  } finally {
    driver.close();
  }
}

/** True only when A and B are the same type (checked by tsc, so a drift in the declared types fails the typecheck). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** The value type of a stream's records, as its operators see them. */
type Fn = (...args: never[]) => unknown;
type UpdatesOf<S extends { mapValues: Fn }> = Parameters<Extract<Parameters<S['mapValues']>[0], Fn>>[0];

describe('session windows (TopologyTestDriver)', () => {
  it('records within the gap extend a session; one that bridges two sessions merges them', () => {
    const { out, store } = sessions(SessionWindows.ofInactivityGapAndGrace(5_000, 30_000), [
      ['a', 1_000],
      ['a', 3_000],
      ['a', 20_000],
      ['b', 2_000],
      ['a', 12_000],
      ['a', 16_000],
    ]);
    assert.deepEqual(out, [
      'a[1000,1000]=1',
      'a[1000,1000]=null', // merged into the longer session
      'a[1000,3000]=2',
      'a[20000,20000]=1',
      'b[2000,2000]=1',
      'a[12000,12000]=1',
      'a[12000,12000]=null', // 16 000 bridges [12 000] and [20 000]
      'a[20000,20000]=null',
      'a[12000,20000]=3',
    ]);
    assert.deepEqual(store, [
      { start: 1_000, end: 3_000, value: 2 },
      { start: 12_000, end: 20_000, value: 3 },
    ]);
  });

  it('a record whose session would end before stream time − grace is late: dropped, and sent to the late-records topic', () => {
    const { out, late } = sessions(SessionWindows.ofInactivityGapWithNoGrace(5_000), [
      ['a', 20_000],
      ['a', 10_000],
      ['a', 22_000],
    ]);
    assert.deepEqual(out, ['a[20000,20000]=1', 'a[20000,20000]=null', 'a[20000,22000]=2']);
    assert.deepEqual(late, ['a@10000']);
  });

  it('sessions older than the retention are dropped when their key comes back', () => {
    const { store } = sessions(SessionWindows.ofInactivityGapAndGrace(1_000, 0), [
      ['a', 1_000],
      ['a', 100_000],
    ]);
    assert.deepEqual(store, [{ start: 100_000, end: 100_000, value: 1 }]);
  });

  it("count(): number rows like every windowed count, and a null update for each merged-away session (Kafka Streams' tombstone)", () => {
    const b = new StreamsBuilder();
    const grouped = b
      .stream('in', { keySerde: S, valueSerde: S })
      .groupByKey({ keySerde: S, valueSerde: S })
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(5_000, 10_000));
    const counts: KTable<Windowed<string | null>, number, number | null> = grouped.count({ name: 'sessions', cacheMaxEntries: 0 });
    const reduced: SessionTable<string | null, string | null> = grouped.reduce((a, v) => `${a}+${v}`, { name: 'joined' });
    const updates = counts.toStream();
    const nullable: [Same<UpdatesOf<typeof updates>, number | null>, Same<UpdatesOf<ReturnType<typeof reduced.toStream>>, string | null>] = [true, true];
    assert.deepEqual(nullable, [true, true]);
    const seen: string[] = [];
    updates.peek((w, n) => seen.push(`[${w.window.start},${w.window.end}]=${n === null ? 'tombstone' : n.toFixed(0)}`));
    const driver = new TopologyTestDriver(b.build(), { applicationId: 'session-types' });
    try {
      const input = driver.createInputTopic('in', S, S);
      for (const ts of [1_000, 9_000, 5_000]) input.pipeInput('a', `a@${ts}`, { timestamp: ts });
      assert.deepEqual(seen, ['[1000,1000]=1', '[9000,9000]=1', '[1000,1000]=tombstone', '[9000,9000]=tombstone', '[1000,9000]=3']);
      assert.deepEqual(
        driver.getKeyValueStore('sessions').get('a'),
        [{ start: 1_000, end: 9_000, value: 3 }],
        'the rows are numbers: a tombstone is an update, never a row',
      );
    } finally {
      driver.close();
    }
  });

  it('suppress(untilWindowCloses) is refused on a session table, saying which tables take it', () => {
    const b = new StreamsBuilder();
    const counts = b
      .stream('in', { keySerde: S, valueSerde: S })
      .groupByKey({ keySerde: S })
      .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5_000))
      .count();
    assert.throws(() => counts.suppress(Suppressed.untilWindowCloses()), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /needs a time-windowed table/ });
  });

  it('refuses a gap below 1 ms and a retention below gap + grace', () => {
    assert.throws(() => SessionWindows.ofInactivityGapWithNoGrace(0), { code: 'SA_ERR_TOPOLOGY_INVALID' });
    const b = new StreamsBuilder();
    const w = b.stream('in', { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).windowedBy(SessionWindows.ofInactivityGapAndGrace(1_000, 1_000));
    assert.throws(() => w.count({ retentionMs: 1_500 }), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /at least inactivity gap \+ grace/ });
  });
});
