import { strict as assert } from 'node:assert';
import { Serdes, SlidingWindows, StreamsBuilder, TopologyTestDriver } from '../../../src';

const S = Serdes.String();

function slide(windows: SlidingWindows, records: number[], late: string[] = []): string[] {
  const b = new StreamsBuilder();
  b.stream('in', { keySerde: S, valueSerde: S })
    .groupByKey({ keySerde: S, valueSerde: S })
    .windowedBy(windows, { lateRecords: { topic: 'late', keySerde: S, valueSerde: S } })
    .count({ name: 'sliding' })
    .toStream()
    .map((w, n) => [w.key, `[${w.window.start},${w.window.end}]=${n}`])
    .to('out', { keySerde: S, valueSerde: S });
  const driver = new TopologyTestDriver(b.build(), { applicationId: 'sliding' });
  try {
    const input = driver.createInputTopic('in', S, S);
    for (const ts of records) input.pipeInput('a', `a@${ts}`, { timestamp: ts });
    late.push(...(driver.createOutputTopic('late', S, S).readValuesToList() as string[]));
    return driver.createOutputTopic('out', S, S).readValuesToList() as string[];
  } finally {
    driver.close();
  }
}

describe('sliding windows (TopologyTestDriver)', () => {
  it("a record updates the windows containing it, creates its own window, and the previous record's right window", () => {
    const out = slide(SlidingWindows.ofTimeDifferenceAndGrace(5_000, 60_000), [8_000, 9_200, 12_400]);
    assert.deepEqual(out, ['[3000,8000]=1', '[4200,9200]=2', '[8001,13001]=1', '[7400,12400]=3', '[8001,13001]=2', '[9201,14201]=1']);
  });

  it('an out-of-order record also gets a right window holding the later records', () => {
    const out = slide(SlidingWindows.ofTimeDifferenceAndGrace(5_000, 60_000), [8_000, 9_200, 12_400, 10_000]);
    assert.deepEqual(out.slice(6), ['[5000,10000]=3', '[7400,12400]=4', '[8001,13001]=3', '[9201,14201]=2', '[10001,15001]=1']);
  });

  it('windows closed by stream time − grace are not updated; a record with no open window is late (to the late-records topic)', () => {
    const late: string[] = [];
    const out = slide(SlidingWindows.ofTimeDifferenceWithNoGrace(1_000), [10_000, 20_000, 12_000], late);
    assert.deepEqual(out, ['[9000,10000]=1', '[19000,20000]=1']);
    assert.deepEqual(late, ['a@12000']);
  });

  it("reduce: Materialized.valueSerde stores the records when Grouped has none, as time and session windows' reduce take it", () => {
    const b = new StreamsBuilder();
    b.stream('in', { keySerde: S, valueSerde: S })
      .groupByKey({ keySerde: S })
      .windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(5_000))
      .reduce((a, v) => `${a}+${v}`, { name: 'joined', valueSerde: S })
      .toStream()
      .map((w, v) => [w.key, `[${w.window.start},${w.window.end}]=${v}`])
      .to('out', { keySerde: S, valueSerde: S });
    const driver = new TopologyTestDriver(b.build(), { applicationId: 'sliding-reduce' });
    try {
      const input = driver.createInputTopic('in', S, S);
      input.pipeInput('a', 'x', { timestamp: 8_000 });
      input.pipeInput('a', 'y', { timestamp: 9_200 });
      assert.deepEqual(driver.createOutputTopic('out', S, S).readValuesToList(), ['[3000,8000]=x', '[4200,9200]=x+y', '[8001,13001]=y']);
      assert.deepEqual(driver.getKeyValueStore('joined').get('a'), [
        { t: 8_000, value: 'x' },
        { t: 9_200, value: 'y' },
      ]);
    } finally {
      driver.close();
    }
  });

  it('needs a value serde, and refuses a time difference below 1 ms', () => {
    assert.throws(() => SlidingWindows.ofTimeDifferenceWithNoGrace(0), { code: 'SA_ERR_TOPOLOGY_INVALID' });
    const b = new StreamsBuilder();
    const w = b.stream('in', { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(1_000));
    assert.throws(() => w.count(), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /value serde/ });
    // @ts-expect-error count and aggregate store the records, not their aggregate: they take no aggregate serde
    assert.throws(() => w.count({ valueSerde: Serdes.Long() }), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /value serde/ });
  });

  it('refuses a retention below time difference + grace', () => {
    const b = new StreamsBuilder();
    const w = b
      .stream('in', { keySerde: S, valueSerde: S })
      .groupByKey({ keySerde: S, valueSerde: S })
      .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(5_000, 1_000));
    assert.throws(() => w.count({ retentionMs: 5_999 }), {
      code: 'SA_ERR_TOPOLOGY_INVALID',
      message: /sliding window retention \(5999 ms\) must be at least time difference \+ grace \(6000 ms\)/,
    });
    assert.doesNotThrow(() => w.count({ retentionMs: 6_000 }));
  });
});
