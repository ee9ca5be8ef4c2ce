import { strict as assert } from 'node:assert';
import {
  Serdes,
  SessionWindows,
  SlidingWindows,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  TopologyTestDriver,
  WindowedSerdes,
  type KTable,
  type SessionTable,
  type WindowedMaterialized,
  type Windowed,
} from '../../../src';
import { graphOf } from '../../../src/streams/dsl/topology';

const S = Serdes.String();
const L = Serdes.Long();
const APP = { applicationId: 'win-test' };
const out = (w: Windowed<string | null>, v: number): string => `${w.key}@${w.window.start}-${w.window.end}=${v}`;

/** Pipes (key, timestamp) records into a windowed count and returns its updates as text. */
function countIn(windows: TimeWindows, records: [string, number][], extra?: (d: TopologyTestDriver) => void, retentionMs?: number): string[] {
  const b = new StreamsBuilder();
  b.stream('in', { keySerde: S, valueSerde: S })
    .groupByKey({ keySerde: S, valueSerde: S })
    .windowedBy(windows, { lateRecords: { topic: 'late', keySerde: S, valueSerde: S } })
    .count({ name: 'counts', ...(retentionMs ? { retentionMs } : {}) })
    .toStream()
    .to('out', { keySerde: WindowedSerdes.timeWindowed(S, windows.sizeMs), valueSerde: L });
  const driver = new TopologyTestDriver(b.build(), APP);
  try {
    const input = driver.createInputTopic('in', S, S);
    for (const [k, ts] of records) input.pipeInput(k, 'x', { timestamp: ts });
    extra?.(driver);
    return driver
      .createOutputTopic('out', WindowedSerdes.timeWindowed(S, windows.sizeMs), L)
      .readKeyValuesToList()
      .map(([w, v]) => out(w, v!));
  } finally {
    driver.close();
  }
}

describe('windows: TimeWindows', () => {
  it('windowsFor gives the epoch-aligned windows containing a timestamp (start inclusive, end exclusive)', () => {
    const tumbling = TimeWindows.ofSizeWithNoGrace(10);
    assert.deepEqual(tumbling.windowsFor(0), [0]);
    assert.deepEqual(tumbling.windowsFor(9), [0]);
    assert.deepEqual(tumbling.windowsFor(10), [10]);
    const hopping = TimeWindows.ofSizeAndGrace(10, 0).advanceBy(5);
    assert.deepEqual(hopping.windowsFor(12), [5, 10]);
    assert.deepEqual(hopping.windowsFor(3), [0]);
  });

  it('refuses sizes, advances and grace periods that make no sense', () => {
    assert.throws(() => TimeWindows.ofSizeWithNoGrace(0), { code: 'SA_ERR_TOPOLOGY_INVALID' });
    assert.throws(() => TimeWindows.ofSizeAndGrace(10, -1), { code: 'SA_ERR_TOPOLOGY_INVALID' });
    assert.throws(() => TimeWindows.ofSizeWithNoGrace(10).advanceBy(11), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /must not exceed/ });
  });
});

describe('windows: windowed aggregation (TopologyTestDriver)', () => {
  it('tumbling: one count per key and window, updated on every record', () => {
    const result = countIn(TimeWindows.ofSizeAndGrace(10_000, 5_000), [
      ['a', 1_000],
      ['a', 5_000],
      ['a', 12_000],
      ['b', 3_000],
    ]);
    assert.deepEqual(result, ['a@0-10000=1', 'a@0-10000=2', 'a@10000-20000=1', 'b@0-10000=1']);
  });

  it('hopping: a record counts in every window that contains it', () => {
    const result = countIn(TimeWindows.ofSizeAndGrace(10_000, 0).advanceBy(5_000), [
      ['a', 7_000],
      ['a', 11_000],
    ]);
    assert.deepEqual(result, ['a@0-10000=1', 'a@5000-15000=1', 'a@5000-15000=2', 'a@10000-20000=1']);
  });

  it('grace: a window takes records until stream time passes its end + grace; later ones are late', () => {
    let late: (string | null)[] = [];
    const result = countIn(
      TimeWindows.ofSizeAndGrace(10_000, 2_000),
      [
        ['a', 1_000],
        ['a', 11_500],
        ['a', 9_000],
        ['a', 12_000],
        ['a', 9_500],
      ],
      (d) => {
        late = d
          .createOutputTopic('late', S, S)
          .readKeyValuesToList()
          .map(([k]) => k);
      },
    );
    // At 11 500 the window [0, 10 000) is open until stream time 12 000; at 12 000 it closes.
    assert.deepEqual(result, ['a@0-10000=1', 'a@10000-20000=1', 'a@0-10000=2', 'a@10000-20000=2']);
    assert.deepEqual(late, ['a'], 'the record at 9 500 came after stream time 12 000: late, to the late topic');
  });

  it('retention: windows older than stream time − retention leave the store (by segment)', async () => {
    const b = new StreamsBuilder();
    b.stream('in', { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).windowedBy(TimeWindows.ofSizeWithNoGrace(10_000)).count({ name: 'counts' });
    const driver = new TopologyTestDriver(b.build(), APP);
    try {
      const input = driver.createInputTopic('in', S, S);
      input.pipeInput('a', 'x', { timestamp: 1_000 });
      input.pipeInput('a', 'x', { timestamp: 30_000 });
      const store = driver.getWindowStore<string, number>('counts');
      assert.deepEqual(await store.fetchRange('a', 0, 100_000), [
        { start: 0, value: 1 },
        { start: 30_000, value: 1 },
      ]);
      input.pipeInput('b', 'x', { timestamp: 75_000 }); // segments are 60 s: the first one [0, 60 000) expires at 70 000
      assert.deepEqual(await store.fetchRange('a', 0, 100_000), []);
      assert.deepEqual(
        (await store.fetchAll(0, 100_000)).map((w) => `${w.key}@${w.start}=${w.value}`),
        ['b@70000=1'],
      );
      assert.equal(store.fetch('b', 70_000), 1);
    } finally {
      driver.close();
    }
  });

  it('a retention shorter than size + grace is refused', () => {
    const b = new StreamsBuilder();
    const windowed = b.stream('in', { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).windowedBy(TimeWindows.ofSizeAndGrace(10_000, 1_000));
    assert.throws(() => windowed.count({ retentionMs: 5_000 }), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /at least window size \+ grace/ });
  });

  it('the windowed key serde writes the key then the start, and reads the end back from the size', () => {
    const serde = WindowedSerdes.timeWindowed(S, 10_000);
    const bytes = serde.serialize('t', { key: 'k', window: { start: 20_000, end: 30_000 } })!;
    assert.equal(bytes.length, 1 + 8);
    assert.deepEqual(serde.deserialize('t', bytes), { key: 'k', window: { start: 20_000, end: 30_000 } });
  });

  it('suppress(untilWindowCloses) emits one final result per window, when stream time passes end + grace', () => {
    const windows = TimeWindows.ofSizeAndGrace(10_000, 5_000);
    const b = new StreamsBuilder();
    b.stream('in', { keySerde: S, valueSerde: S })
      .groupByKey({ keySerde: S })
      .windowedBy(windows)
      .count({ name: 'counts' })
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to('final', { keySerde: WindowedSerdes.timeWindowed(S, 10_000), valueSerde: L });
    const driver = new TopologyTestDriver(b.build(), APP);
    try {
      const input = driver.createInputTopic('in', S, S);
      const final = driver.createOutputTopic('final', WindowedSerdes.timeWindowed(S, 10_000), L);
      const read = (): string[] => final.readKeyValuesToList().map(([w, v]) => out(w, v!));
      for (const [k, ts] of [
        ['a', 1_000],
        ['a', 5_000],
        ['b', 3_000],
        ['a', 12_000],
      ] as const)
        input.pipeInput(k, 'x', { timestamp: ts });
      assert.deepEqual(read(), [], 'stream time 12 000 < end 10 000 + grace 5 000: nothing is final yet');
      input.pipeInput('a', 'x', { timestamp: 14_000 });
      assert.deepEqual(read(), []);
      input.pipeInput('c', 'x', { timestamp: 15_000 });
      assert.deepEqual(read(), ['a@0-10000=2', 'b@0-10000=1']);
      input.pipeInput('c', 'x', { timestamp: 40_000 });
      assert.deepEqual(read(), ['a@10000-20000=2', 'c@10000-20000=1']);
    } finally {
      driver.close();
    }
  });

  it('time, session and sliding windows take one materialized shape: name, store options and retention alike; count rows are numbers', () => {
    const b = new StreamsBuilder();
    const grouped = b.stream('in', { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S, valueSerde: S });
    const time = grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(60_000));
    const session = grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(60_000));
    const sliding = grouped.windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(60_000));
    const store = (name: string): WindowedMaterialized<string | null, number> => ({
      name,
      logging: false,
      cacheMaxEntries: 0,
      backend: 'in-memory',
      retentionMs: 120_000,
    });
    const timeCounts: KTable<Windowed<string | null>, number> = time.count(store('time'));
    const sessionCounts: SessionTable<string | null, number> = session.count(store('session'));
    const slidingCounts: KTable<Windowed<string | null>, number> = sliding.count(store('sliding'));
    assert.deepEqual(
      [timeCounts, sessionCounts, slidingCounts].map((t) => t.queryableStoreName),
      ['time', 'session', 'sliding'],
    );
    const stores = graphOf(b.build()).resolve('win-test').stores;
    for (const name of ['time', 'session', 'sliding']) {
      const { logging, cacheMaxEntries, backend } = stores.get(name)!;
      assert.deepEqual({ logging, cacheMaxEntries, backend }, { logging: false, cacheMaxEntries: 0, backend: 'in-memory' }, name);
    }
    for (const windowed of [time, session, sliding])
      assert.throws(() => windowed.count({ retentionMs: 59_999 }), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /retention \(59999 ms\) must be at least/ });
  });

  it('suppress on a table that is not windowed is refused', () => {
    const b = new StreamsBuilder();
    const table = b.stream('in', { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count();
    assert.throws(() => table.suppress(Suppressed.untilWindowCloses()), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /windowed table/ });
  });
});
