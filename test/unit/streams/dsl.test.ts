import { strict as assert } from 'node:assert';
import { Serdes, StreamsBuilder, TopologyTestDriver, type KStream, type Processor, type ProcessorContext, type StreamRecord } from '../../../src';

const S = Serdes.String();
const J = Serdes.Json<{ n: number; kind: string }>();
const APP = { applicationId: 'dsl-test' };

function run(build: (b: StreamsBuilder) => void, inputs: [string | null, string | null, number?][], outTopic = 'out'): [string | null, string | null][] {
  const b = new StreamsBuilder();
  build(b);
  const driver = new TopologyTestDriver(b.build(), APP, { initialWallClockTimeMs: 1_000 });
  try {
    const input = driver.createInputTopic('in', S, S);
    for (const [k, v, ts] of inputs) input.pipeInput(k, v, ts === undefined ? {} : { timestamp: ts });
    return driver
      .createOutputTopic(outTopic, S, S)
      .readKeyValuesToList()
      .map(([k, v]) => [k, v]);
  } finally {
    driver.close();
  }
}

const source = (b: StreamsBuilder): KStream<string | null, string | null> => b.stream('in', { keySerde: S, valueSerde: S });
const out = { keySerde: S, valueSerde: S };

describe('DSL: stateless operators (TopologyTestDriver)', () => {
  it('filter and filterNot keep and drop by predicate', () => {
    const kept = run(
      (b) =>
        source(b)
          .filter((_k, v) => v?.startsWith('a') === true)
          .to('out', out),
      [
        ['1', 'apple'],
        ['2', 'banana'],
        ['3', 'avocado'],
      ],
    );
    assert.deepEqual(kept, [
      ['1', 'apple'],
      ['3', 'avocado'],
    ]);
    const dropped = run(
      (b) =>
        source(b)
          .filterNot((_k, v) => v?.startsWith('a') === true)
          .to('out', out),
      [
        ['1', 'apple'],
        ['2', 'banana'],
      ],
    );
    assert.deepEqual(dropped, [['2', 'banana']]);
  });

  it('filter with a type guard narrows the value type', () => {
    const result = run(
      (b) => {
        source(b)
          .filter((_k, v): v is string => v !== null)
          // `v` is `string` here: without the narrowing this would not compile.
          .mapValues((v) => v.toUpperCase())
          .to('out', out);
      },
      [
        ['1', 'x'],
        ['2', null],
        ['3', 'y'],
      ],
    );
    assert.deepEqual(result, [
      ['1', 'X'],
      ['3', 'Y'],
    ]);
  });

  it('map, mapValues (with the key) and selectKey', () => {
    const mapped = run(
      (b) =>
        source(b)
          .map((k, v) => [`${v}`, `${k}`] as const)
          .to('out', out),
      [['k1', 'v1']],
    );
    assert.deepEqual(mapped, [['v1', 'k1']]);
    const withKey = run(
      (b) =>
        source(b)
          .mapValues((v, k) => `${k}:${v}`)
          .to('out', out),
      [['k1', 'v1']],
    );
    assert.deepEqual(withKey, [['k1', 'k1:v1']]);
    const rekeyed = run(
      (b) =>
        source(b)
          .selectKey((_k, v) => (v ?? '').slice(0, 1))
          .to('out', out),
      [['k1', 'apple']],
    );
    assert.deepEqual(rekeyed, [['a', 'apple']]);
  });

  it('flatMap and flatMapValues emit zero or more records per input, in order', () => {
    const words = run(
      (b) =>
        source(b)
          .flatMapValues((v) => (v ?? '').split(' ').filter(Boolean))
          .to('out', out),
      [
        ['s1', 'the quick fox'],
        ['s2', ''],
      ],
    );
    assert.deepEqual(words, [
      ['s1', 'the'],
      ['s1', 'quick'],
      ['s1', 'fox'],
    ]);
    const pairs = run(
      (b) =>
        source(b)
          .flatMap(
            (k, v) =>
              [
                [k, v],
                [v, k],
              ] as const,
          )
          .to('out', out),
      [['a', 'b']],
    );
    assert.deepEqual(pairs, [
      ['a', 'b'],
      ['b', 'a'],
    ]);
  });

  it('peek sees every record and passes it on unchanged', () => {
    const seen: string[] = [];
    const result = run(
      (b) =>
        source(b)
          .peek((k, v) => seen.push(`${k}=${v}`))
          .to('out', out),
      [
        ['a', '1'],
        ['b', '2'],
      ],
    );
    assert.deepEqual(seen, ['a=1', 'b=2']);
    assert.deepEqual(result, [
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('keeps the input timestamp and headers through operators', () => {
    const b = new StreamsBuilder();
    source(b)
      .mapValues((v) => `${v}!`)
      .to('out', out);
    const driver = new TopologyTestDriver(b.build(), APP, { initialWallClockTimeMs: 5_000 });
    const headers = [{ key: 'trace', value: Buffer.from('t-1') }];
    driver.createInputTopic('in', S, S).pipeInput('k', 'v', { timestamp: 42, headers });
    driver.createInputTopic('in', S, S).pipeInput('k', 'w');
    driver.advanceWallClockTime(250);
    driver.createInputTopic('in', S, S).pipeInput('k', 'x');
    const records = driver.createOutputTopic('out', S, S).readRecordsToList();
    assert.deepEqual(
      records.map((r) => [r.value, r.timestamp]),
      [
        ['v!', 42],
        ['w!', 5_000],
        ['x!', 5_250],
      ],
    );
    assert.throws(() => driver.advanceWallClockTime(-1), { code: 'SA_ERR_USAGE' });
    assert.deepEqual(records[0]!.headers, headers);
  });

  it('merge combines two streams of the same builder', () => {
    const b = new StreamsBuilder();
    const left = b.stream('left', { keySerde: S, valueSerde: S });
    const right = b.stream('right', { keySerde: S, valueSerde: S });
    left
      .merge(right)
      .mapValues((v) => `m:${v}`)
      .to('out', out);
    const driver = new TopologyTestDriver(b.build(), APP);
    driver.createInputTopic('left', S, S).pipeInput('1', 'L');
    driver.createInputTopic('right', S, S).pipeInput('2', 'R');
    assert.deepEqual(driver.createOutputTopic('out', S, S).readValuesToList(), ['m:L', 'm:R']);
    assert.throws(() => left.merge(new StreamsBuilder().stream('x', { keySerde: S, valueSerde: S })), { code: 'SA_ERR_TOPOLOGY_INVALID' });
  });

  it('JSON values flow through typed operators', () => {
    const b = new StreamsBuilder();
    b.stream('events', { keySerde: S, valueSerde: J })
      .filter((_k, v): v is { n: number; kind: string } => v !== null)
      .mapValues((v) => ({ n: v.n * 2, kind: v.kind }))
      .to('doubled', { keySerde: S, valueSerde: J });
    const driver = new TopologyTestDriver(b.build(), APP);
    driver.createInputTopic('events', S, J).pipeKeyValueList([
      ['a', { n: 1, kind: 'x' }],
      ['b', null],
      ['c', { n: 5, kind: 'y' }],
    ]);
    assert.deepEqual(driver.createOutputTopic('doubled', S, J).readValuesToList(), [
      { n: 2, kind: 'x' },
      { n: 10, kind: 'y' },
    ]);
  });
});

describe('DSL: split/branch', () => {
  function branches(withDefault: boolean): TopologyTestDriver {
    const b = new StreamsBuilder();
    const split = source(b)
      .split({ name: 'route-' })
      .branch((_k, v) => (v ?? '').startsWith('a'), { name: 'a' })
      .branch((_k, v) => (v ?? '').length > 5);
    const map = withDefault ? split.defaultBranch() : split.noDefaultBranch();
    for (const [name, stream] of map) stream.to(name, out);
    return new TopologyTestDriver(b.build(), APP);
  }

  it('sends each record to the first matching branch, the rest to the default branch', () => {
    const driver = branches(true);
    driver.createInputTopic('in', S, S).pipeKeyValueList([
      ['1', 'apple'],
      ['2', 'bananas'],
      ['3', 'kiwi'],
      ['4', 'avocados'],
    ]);
    assert.deepEqual(driver.createOutputTopic('route-a', S, S).readValuesToList(), ['apple', 'avocados']);
    assert.deepEqual(driver.createOutputTopic('route-2', S, S).readValuesToList(), ['bananas']);
    assert.deepEqual(driver.createOutputTopic('route-0', S, S).readValuesToList(), ['kiwi']);
  });

  it('without a default branch, unmatched records go nowhere', () => {
    const driver = branches(false);
    driver.createInputTopic('in', S, S).pipeKeyValueList([
      ['3', 'kiwi'],
      ['1', 'apple'],
    ]);
    assert.deepEqual(driver.createOutputTopic('route-a', S, S).readValuesToList(), ['apple']);
    assert.equal(driver.createOutputTopic('route-0', S, S).isEmpty(), true);
  });

  it('names the returned streams by prefix and branch name, and rejects duplicate names', () => {
    const b = new StreamsBuilder();
    const map = source(b)
      .split({ name: 's-' })
      .branch(() => true, { name: 'x' })
      .branch(() => true)
      .defaultBranch();
    assert.deepEqual([...map.keys()], ['s-x', 's-2', 's-0']);
    const b2 = new StreamsBuilder();
    assert.throws(
      () =>
        source(b2)
          .split()
          .branch(() => true, { name: 'x' })
          .branch(() => true, { name: 'x' })
          .noDefaultBranch(),
      { code: 'SA_ERR_TOPOLOGY_INVALID' },
    );
  });
});

describe('Processor API', () => {
  it('a custom processor sees its task, the record origin and stream time, and forwards', () => {
    const seen: string[] = [];
    class Tagger implements Processor<string | null, string | null, string | null, string> {
      private ctx!: ProcessorContext<string | null, string>;
      init(ctx: ProcessorContext<string | null, string>): void {
        this.ctx = ctx;
      }
      process(r: StreamRecord<string | null, string | null>): void {
        const o = this.ctx.origin()!;
        seen.push(`${this.ctx.taskId} ${o.topic}/${o.partition}@${o.offset} t=${this.ctx.currentStreamTimeMs()}`);
        this.ctx.forward({ ...r, value: `${r.value}#${o.offset}` });
      }
    }
    const result = run(
      (b) =>
        source(b)
          .process(() => new Tagger())
          .to('out', out),
      [
        ['a', 'x', 100],
        ['b', 'y', 50],
      ],
    );
    assert.deepEqual(result, [
      ['a', 'x#0'],
      ['b', 'y#1'],
    ]);
    // Stream time is the highest timestamp seen: it does not go back for the late record.
    assert.deepEqual(seen, ['0_0 in/0@0 t=100', '0_0 in/0@1 t=100']);
  });
});

describe('Topology', () => {
  it('feeds output written to a topic the topology reads back into it, as a broker would', () => {
    const b = new StreamsBuilder();
    source(b)
      .mapValues((v) => `${v}-1`)
      .to('middle', out);
    b.stream('middle', { keySerde: S, valueSerde: S })
      .mapValues((v) => `${v}-2`)
      .to('out', out);
    const driver = new TopologyTestDriver(b.build(), APP);
    driver.createInputTopic('in', S, S).pipeInput('k', 'v');
    assert.deepEqual(driver.createOutputTopic('out', S, S).readValuesToList(), ['v-1-2']);
    assert.deepEqual(driver.createOutputTopic('middle', S, S).readValuesToList(), ['v-1']);
  });

  it('describe() gives the sub-topologies as text and as a JSON graph', () => {
    const b = new StreamsBuilder();
    source(b)
      .filter((_k, v) => v !== null, { name: 'non-null' })
      .to('middle', out);
    b.stream('middle', { keySerde: S, valueSerde: S })
      .mapValues((v) => v)
      .to('out', out);
    const d = b.build().describe();
    assert.equal(
      d.toString(),
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [in])',
        '      --> non-null',
        '    Processor: non-null (filter)',
        '      --> KSTREAM-SINK-0000000001',
        '      <-- KSTREAM-SOURCE-0000000000',
        '    Sink: KSTREAM-SINK-0000000001 (topic: middle)',
        '      <-- non-null',
        '   Sub-topology: 1',
        '    Source: KSTREAM-SOURCE-0000000002 (topics: [middle])',
        '      --> KSTREAM-MAPVALUES-0000000003',
        '    Processor: KSTREAM-MAPVALUES-0000000003 (mapValues)',
        '      --> KSTREAM-SINK-0000000004',
        '      <-- KSTREAM-SOURCE-0000000002',
        '    Sink: KSTREAM-SINK-0000000004 (topic: out)',
        '      <-- KSTREAM-MAPVALUES-0000000003',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(JSON.stringify(d));
    assert.deepEqual(json.sourceTopics, ['in', 'middle']);
    assert.deepEqual(json.sinkTopics, ['middle', 'out']);
    assert.equal(json.subtopologies.length, 2);
    assert.deepEqual(json.subtopologies[0].nodes[1], {
      name: 'non-null',
      kind: 'processor',
      operator: 'filter',
      successors: ['KSTREAM-SINK-0000000001'],
      predecessors: ['KSTREAM-SOURCE-0000000000'],
    });
  });

  it('rejects misuse with SA_ERR_TOPOLOGY_INVALID', () => {
    const b = new StreamsBuilder();
    source(b);
    assert.throws(() => b.stream('in', { keySerde: S, valueSerde: S }), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /already a source/ });
    assert.throws(() => b.stream([], { keySerde: S, valueSerde: S }), { code: 'SA_ERR_TOPOLOGY_INVALID' });
    const s = b.stream('other', { keySerde: S, valueSerde: S });
    s.mapValues((v) => v, { name: 'same' });
    assert.throws(() => s.mapValues((v) => v, { name: 'same' }), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /already exists/ });
    b.build();
    assert.throws(() => b.build(), { code: 'SA_ERR_TOPOLOGY_INVALID' });
  });

  it('the driver refuses a topic the topology does not read, and a bad application id', () => {
    const b = new StreamsBuilder();
    source(b).to('out', out);
    const topology = b.build();
    const driver = new TopologyTestDriver(topology, APP);
    assert.throws(() => driver.createInputTopic('nope', S, S), { code: 'SA_ERR_TOPOLOGY_INVALID', message: /not a source topic/ });
    assert.throws(() => new TopologyTestDriver(topology, { applicationId: 'has space' }), { code: 'SA_ERR_STREAMS_CONFIG' });
    driver.close();
    assert.throws(() => driver.createInputTopic('in', S, S).pipeInput('k', 'v'), { code: 'SA_ERR_USAGE' });
  });
});

describe('DSL: repartition', () => {
  it('re-keys through <applicationId>-<name>-repartition in a new sub-topology', () => {
    const b = new StreamsBuilder();
    source(b)
      .selectKey((_k, v) => (v ?? '').slice(0, 1))
      .repartition({ name: 'by-initial', keySerde: S, valueSerde: S })
      .mapValues((v, k) => `${k}:${v}`)
      .to('out', out);
    const topology = b.build();
    const d = topology.describe();
    assert.deepEqual(d.internalTopics, ['by-initial-repartition']);
    assert.equal(d.subtopologies.length, 2);
    assert.deepEqual(d.subtopologies[1]!.nodes[0]!.topics, ['by-initial-repartition']);

    const driver = new TopologyTestDriver(topology, APP);
    driver.createInputTopic('in', S, S).pipeKeyValueList([
      ['1', 'apple'],
      ['2', 'banana'],
    ]);
    assert.deepEqual(driver.createOutputTopic('out', S, S).readKeyValuesToList(), [
      ['a', 'a:apple'],
      ['b', 'b:banana'],
    ]);
    // The internal topic carries the re-keyed records, under the application's prefix.
    assert.deepEqual(driver.createOutputTopic('dsl-test-by-initial-repartition', S, S).readKeyValuesToList(), [
      ['a', 'apple'],
      ['b', 'banana'],
    ]);
  });
});
