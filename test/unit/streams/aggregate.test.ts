import { strict as assert } from 'node:assert';
import { Serdes, StreamsBuilder, TopologyTestDriver, type KeyValueStore, type Processor, type ProcessorContext, type StreamRecord } from '../../../src';

const S = Serdes.String();
const L = Serdes.Long();
const APP = { applicationId: 'agg-test' };

async function drive(
  build: (b: StreamsBuilder) => void,
  inputs: [string | null, string | null][],
  fn: (d: TopologyTestDriver) => void | Promise<void>,
): Promise<void> {
  const b = new StreamsBuilder();
  build(b);
  const driver = new TopologyTestDriver(b.build(), APP, { initialWallClockTimeMs: 1_000 });
  try {
    const input = driver.createInputTopic('in', S, S);
    for (const [k, v] of inputs) input.pipeInput(k, v);
    await fn(driver);
  } finally {
    driver.close();
  }
}

const source = (b: StreamsBuilder) => b.stream('in', { keySerde: S, valueSerde: S });

describe('DSL: grouping and aggregation (TopologyTestDriver)', () => {
  it('groupByKey().count() emits the running count per key and keeps it in a queryable store', async () => {
    await drive(
      (b) => source(b).groupByKey({ keySerde: S }).count({ name: 'counts' }).toStream().to('out', { keySerde: S, valueSerde: L }),
      [
        ['a', 'x'],
        ['b', 'y'],
        ['a', 'z'],
        [null, 'no key'],
        ['a', null],
      ],
      async (d) => {
        assert.deepEqual(d.createOutputTopic('out', S, L).readKeyValuesToList(), [
          ['a', 1],
          ['b', 1],
          ['a', 2],
        ]);
        const store = d.getKeyValueStore<string, number>('counts');
        assert.equal(store.get('a'), 2);
        assert.deepEqual(await store.all(), [
          ['a', 2],
          ['b', 1],
        ]);
        // Every update also went to the store's changelog, on the store's own topic.
        assert.deepEqual(d.createOutputTopic('agg-test-counts-changelog', S, L).readKeyValuesToList(), [
          ['a', 1],
          ['b', 1],
          ['a', 2],
        ]);
      },
    );
  });

  it('a store scans by key prefix (prefixScan), with the key serde or a given prefix serializer', async () => {
    await drive(
      (b) => source(b).groupByKey({ keySerde: S }).count({ name: 'counts' }),
      [
        ['user-1', 'x'],
        ['user-2', 'x'],
        ['user-2', 'x'],
        ['users', 'x'],
        ['admin-1', 'x'],
      ],
      async (d) => {
        const store = d.getKeyValueStore<string, number>('counts');
        assert.deepEqual(await store.prefixScan('user-'), [
          ['user-1', 1],
          ['user-2', 2],
        ]);
        assert.deepEqual(
          await store.prefixScan('user', undefined, 2),
          [
            ['user-1', 1],
            ['user-2', 2],
          ],
          'limited',
        );
        assert.deepEqual(await store.prefixScan(0x61, { serialize: (_t: string, byte: number) => Buffer.from([byte]) }), [['admin-1', 1]]);
        assert.deepEqual(await store.prefixScan('nobody'), []);
      },
    );
  });

  it('reduce folds values; aggregate starts from the initializer', async () => {
    await drive(
      (b) => {
        const grouped = source(b)
          .mapValues((v) => Number(v))
          .groupByKey({ keySerde: S, valueSerde: L });
        grouped
          .reduce((a, v) => Math.min(a, v), { name: 'min' })
          .toStream()
          .to('min', { keySerde: S, valueSerde: L });
        grouped
          .aggregate(
            () => 100,
            (_k, v, agg) => agg + v,
            { name: 'sum', valueSerde: L },
          )
          .toStream()
          .to('sum', { keySerde: S, valueSerde: L });
      },
      [
        ['a', '5'],
        ['a', '3'],
        ['b', '7'],
        ['a', '4'],
      ],
      (d) => {
        assert.deepEqual(d.createOutputTopic('min', S, L).readKeyValuesToList(), [
          ['a', 5],
          ['a', 3],
          ['b', 7],
          ['a', 3],
        ]);
        assert.deepEqual(d.createOutputTopic('sum', S, L).readKeyValuesToList(), [
          ['a', 105],
          ['a', 108],
          ['b', 107],
          ['a', 112],
        ]);
      },
    );
  });

  it('groupBy re-keys through <applicationId>-<name>-repartition into a second sub-topology', () => {
    const b = new StreamsBuilder();
    source(b)
      .groupBy((_k, v) => v!.slice(0, 1), { name: 'by-initial', keySerde: S, valueSerde: S })
      .count({ name: 'initials' })
      .toStream()
      .to('out', { keySerde: S, valueSerde: L });
    const topology = b.build();
    const described = topology.describe();
    assert.equal(described.subtopologies.length, 2);
    assert.deepEqual(described.internalTopics, ['by-initial-repartition', 'initials-changelog']);
    assert.deepEqual(described.stores, ['initials']);
    assert.match(described.toString(), /Processor: KSTREAM-AGGREGATE-\d+ \(count; stores: \[initials\]\)/);
    const driver = new TopologyTestDriver(topology, APP);
    try {
      const input = driver.createInputTopic('in', S, S);
      for (const v of ['apple', 'avocado', 'banana', 'apricot']) input.pipeInput(null, v);
      assert.deepEqual(driver.createOutputTopic('out', S, L).readKeyValuesToList(), [
        ['a', 1],
        ['a', 2],
        ['b', 1],
        ['a', 3],
      ]);
      assert.deepEqual(driver.createOutputTopic('agg-test-by-initial-repartition', S, S).readValuesToList(), ['apple', 'avocado', 'banana', 'apricot']);
    } finally {
      driver.close();
    }
  });

  it('groupByKey after a key change repartitions (named after the store); without a key change it does not', () => {
    const b = new StreamsBuilder();
    source(b)
      .selectKey((_k, v) => v)
      .groupByKey({ keySerde: S, valueSerde: S })
      .count({ name: 'by-value' });
    source(new StreamsBuilder()); // an unrelated builder is unaffected
    assert.deepEqual(b.build().describe().internalTopics, ['by-value-repartition', 'by-value-changelog']);
    const plain = new StreamsBuilder();
    source(plain)
      .filter(() => true)
      .mapValues((v) => v)
      .groupByKey({ keySerde: S })
      .count({ name: 'c' });
    assert.deepEqual(plain.build().describe().internalTopics, ['c-changelog']);
  });

  it('a key change without a value serde for the repartition topic is a clear topology error', () => {
    const b = new StreamsBuilder();
    assert.throws(
      () =>
        source(b)
          .selectKey((_k, v) => v)
          .groupByKey({ keySerde: S })
          .count(),
      { code: 'SA_ERR_TOPOLOGY_INVALID', message: /repartition topic/ },
    );
  });

  it('a store without logging has no changelog topic', () => {
    const b = new StreamsBuilder();
    source(b).groupByKey({ keySerde: S }).count({ name: 'volatile', logging: false });
    assert.deepEqual(b.build().describe().internalTopics, []);
  });

  it('a failing record rolls the store back: nothing of it stays', async () => {
    await drive(
      (b) => {
        source(b)
          .groupByKey({ keySerde: S })
          .count({ name: 'counts' })
          .toStream()
          .peek((_k, n) => {
            if (n === 2) throw new Error('boom on the second');
          })
          .to('out', { keySerde: S, valueSerde: L });
      },
      [['a', 'x']],
      (d) => {
        const input = d.createInputTopic('in', S, S);
        assert.throws(() => input.pipeInput('a', 'y'), { code: 'SA_ERR_PROCESSING_FAILED' });
        assert.equal(d.getKeyValueStore<string, number>('counts').get('a'), 1);
      },
    );
  });

  it('Processor API: a processor reads and writes a store it is connected to, and only that one', () => {
    class Dedupe implements Processor<string | null, string | null, string | null, string | null> {
      private ctx!: ProcessorContext<string | null, string | null>;
      private seen!: KeyValueStore<string, number>;
      init(ctx: ProcessorContext<string | null, string | null>): void {
        this.ctx = ctx;
        this.seen = ctx.getStateStore<string, number>('seen');
      }
      process(r: StreamRecord<string | null, string | null>): void {
        if (r.value === null || this.seen.get(r.value) !== undefined) return;
        this.seen.put(r.value, r.timestamp);
        this.ctx.forward(r);
      }
    }
    drive(
      (b) => {
        b.addStateStore({ name: 'seen', keySerde: S, valueSerde: L });
        source(b)
          .process(() => new Dedupe(), { stores: ['seen'] })
          .to('out', { keySerde: S, valueSerde: S });
      },
      [
        ['1', 'x'],
        ['2', 'y'],
        ['3', 'x'],
      ],
      (d) => {
        assert.deepEqual(d.createOutputTopic('out', S, S).readValuesToList(), ['x', 'y']);
        assert.equal(d.getKeyValueStore('seen').approximateNumEntries(), 2);
      },
    );
    const b = new StreamsBuilder();
    assert.throws(() => source(b).process(() => new Dedupe(), { stores: ['missing'] }), {
      code: 'SA_ERR_TOPOLOGY_INVALID',
      message: /unknown state store "missing"/,
    });
    const c = new StreamsBuilder();
    source(c)
      .process(() => new Dedupe())
      .to('out', { keySerde: S, valueSerde: S });
    // Found when the task is made, before any record is processed.
    assert.throws(() => new TopologyTestDriver(c.build(), APP), {
      code: 'SA_ERR_TOPOLOGY_INVALID',
      message: /not connected to a key-value store named "seen"/,
    });
    const plain = new StreamsBuilder();
    source(plain).to('out', { keySerde: S, valueSerde: S });
    const driver = new TopologyTestDriver(plain.build(), APP);
    assert.throws(() => driver.getKeyValueStore('seen'), { code: 'SA_ERR_USAGE' });
    driver.close();
  });

  it('Serdes.Long and Serdes.Double round-trip and refuse what they cannot hold', () => {
    assert.equal(L.deserialize('t', L.serialize('t', -42)), -42);
    assert.equal(L.deserialize('t', L.serialize('t', Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
    assert.throws(() => L.serialize('t', 1.5), { name: 'SerdeError' });
    assert.throws(() => L.deserialize('t', Buffer.alloc(3)), { name: 'SerdeError' });
    const D = Serdes.Double();
    assert.equal(D.deserialize('t', D.serialize('t', 0.1)), 0.1);
  });
});

describe('DSL: several aggregations of one grouped stream', () => {
  it('share one repartition topic', () => {
    const b = new StreamsBuilder();
    const grouped = source(b).groupBy((_k, v) => v, { name: 'by-value', keySerde: S, valueSerde: S });
    grouped.count({ name: 'c1' });
    grouped.reduce((a) => a, { name: 'r1' });
    assert.deepEqual(b.build().describe().internalTopics, ['by-value-repartition', 'c1-changelog', 'r1-changelog']);
  });
});
