import { strict as assert } from 'node:assert';
import { Serdes, StreamsBuilder, TopologyTestDriver, type Processor, type ProcessorContext, type StreamRecord } from '../../../src';

const S = Serdes.String();

/** Counts records; reports the count on wall-clock time and a tick on stream time. */
class Reporter implements Processor<string | null, string | null, string, string> {
  private ctx!: ProcessorContext<string, string>;
  private seen = 0;
  init(ctx: ProcessorContext<string, string>): void {
    this.ctx = ctx;
    ctx.schedule(1_000, 'wall-clock', (now) => this.ctx.forward({ key: 'count', value: `${this.seen}@${now}`, timestamp: now, headers: [] }));
    ctx.schedule(10_000, 'stream-time', (t) => this.ctx.forward({ key: 'tick', value: String(t), timestamp: t, headers: [] }));
  }
  process(_r: StreamRecord<string | null, string | null>): void {
    this.seen++;
  }
}

describe('punctuation (TopologyTestDriver)', () => {
  it('wall-clock punctuators fire as the clock moves, stream-time ones as records move stream time', () => {
    const b = new StreamsBuilder();
    b.stream('in', { keySerde: S, valueSerde: S })
      .process(() => new Reporter())
      .to('out', { keySerde: S, valueSerde: S });
    const driver = new TopologyTestDriver(b.build(), { applicationId: 'punct' }, { initialWallClockTimeMs: 0 });
    try {
      const input = driver.createInputTopic('in', S, S);
      const out = driver.createOutputTopic('out', S, S);
      input.pipeInput('a', 'x', { timestamp: 100 }); // starts stream time: the first tick is due at 10 100
      input.pipeInput('a', 'x', { timestamp: 5_000 });
      driver.advanceWallClockTime(999);
      assert.deepEqual(out.readKeyValuesToList(), []);
      driver.advanceWallClockTime(1);
      assert.deepEqual(out.readKeyValuesToList(), [['count', '2@1000']]);
      driver.advanceWallClockTime(2_500); // missed intervals fire once
      assert.deepEqual(out.readKeyValuesToList(), [['count', '2@3500']]);
      input.pipeInput('a', 'x', { timestamp: 10_100 });
      input.pipeInput('a', 'x', { timestamp: 12_000 });
      input.pipeInput('a', 'x', { timestamp: 35_000 });
      assert.deepEqual(out.readKeyValuesToList(), [
        ['tick', '10100'],
        ['tick', '35000'],
      ]);
    } finally {
      driver.close();
    }
  });
});
