import { strict as assert } from 'node:assert';
import { Registry } from 'prom-client';
import { Serdes, StreamsBuilder, TopologyTestDriver } from '../../../src';
import { LatencyBudget } from '../../../src/inference/latency-budget';
import { OnnxModel } from '../../../src/inference/onnx-model';
import { predict, type ModelSource, type Prediction } from '../../../src/inference/predict';
import { createLogger } from '../../../src/logger';
import { join } from 'node:path';

const S = Serdes.String();
type Row = Record<string, number>;
const J = Serdes.Json<Row>();
const P = Serdes.Json<Prediction<Row>>();
const MODEL = join(__dirname, '../../../models/anomaly-detector/1');

describe('inference: the latency budget (STREAMING_REALTIME_ML__MAX_LATENCY_MS)', () => {
  describe('LatencyBudget', () => {
    it('halves after a call over budget, never below 1', () => {
      const b = new LatencyBudget(10, 64);
      const sizes = [];
      for (let i = 0; i < 8; i++) {
        b.after(b.batchSize, true);
        sizes.push(b.batchSize);
      }
      assert.deepEqual(sizes, [32, 16, 8, 4, 2, 1, 1, 1]);
    });

    it('grows back by a fixed step after each full chunk under budget, up to maxBatch; a smaller chunk does not grow it', () => {
      const b = new LatencyBudget(10, 64);
      b.after(64, true);
      assert.equal(b.batchSize, 32);
      assert.equal(b.step, 2);
      b.after(10, false);
      assert.equal(b.batchSize, 32, 'a chunk of 10 says nothing about 32');
      b.after(32, false);
      assert.equal(b.batchSize, 34);
      for (let i = 0; i < 100; i++) b.after(b.batchSize, false);
      assert.equal(b.batchSize, 64);
    });

    it('an exact hit of the budget is not over it', () => {
      assert.equal(new LatencyBudget(10, 8).isOver(10), false);
      assert.equal(new LatencyBudget(10, 8).isOver(10.01), true);
    });
  });

  describe('predict() with a slow model (TopologyTestDriver, an injected clock: no real timing)', () => {
    let real: OnnxModel;
    before(() => (real = OnnxModel.load(MODEL)));
    after(() => real.dispose());

    /** A model that "takes" msPerRow per row on the fake clock; it scores even rows (by feature `i`) 0.9, odd ones 0.01. */
    function slowModel(clock: { now: number }, msPerRow: number, calls: number[]): ModelSource {
      const fake = {
        metadata: { ...real.metadata, features: [{ name: 'i', type: 'int' as const, min: 0, max: 1e9 }] },
        name: 'slow',
        version: '1',
        score(rows: Float32Array, n: number): Float32Array {
          calls.push(n);
          clock.now += n * msPerRow;
          return rows.slice(0, n).map((i) => (i % 2 === 0 ? 0.9 : 0.01));
        },
      };
      return { current: () => fake as unknown as OnnxModel };
    }

    function run(o: { msPerRow: number; maxBatch: number; maxLatencyMs: number; records: number; wallStepMs?: number }): {
      calls: number[];
      out: [string, Prediction<Row>][];
      metrics: Registry;
      warnings: Record<string, unknown>[];
      clock: { now: number };
    } {
      const clock = { now: 0 };
      const calls: number[] = [];
      const warnings: Record<string, unknown>[] = [];
      const log = createLogger({ level: 'warn' }, 'test', { write: (l: string) => void warnings.push(JSON.parse(l) as Record<string, unknown>) });
      const metrics = new Registry();
      const b = new StreamsBuilder();
      b.stream('features', { keySerde: S, valueSerde: J })
        .process(
          predict<string, Row>({
            model: slowModel(clock, o.msPerRow, calls),
            features: (v) => v,
            maxBatch: o.maxBatch,
            maxLatencyMs: o.maxLatencyMs,
            metrics,
            log,
            clock: () => clock.now,
          }),
        )
        .to('predictions', { keySerde: S, valueSerde: P });
      const driver = new TopologyTestDriver(b.build(), { applicationId: 'budget-test' });
      try {
        const input = driver.createInputTopic('features', S, J);
        const records = Array.from({ length: o.records }, (_, i): [string, Row] => [`k${i}`, { i }]);
        // Two input batches, a minute of the fake clock apart.
        input.pipeBatch(records.slice(0, o.records / 2));
        clock.now += o.wallStepMs ?? 0;
        input.pipeBatch(records.slice(o.records / 2));
        return {
          calls,
          out: driver
            .createOutputTopic('predictions', S, P)
            .readKeyValuesToList()
            .map(([k, v]): [string, Prediction<Row>] => [k!, v!]),
          metrics,
          warnings,
          clock,
        };
      } finally {
        driver.close();
      }
    }

    it('a call over budget makes the next calls smaller; every record is still scored once, in order', async () => {
      // 0.25 ms a row, budget 10 ms: 64 rows take 16 ms (over), 40 take exactly 10 (not over).
      const { calls, out, metrics, warnings } = run({ msPerRow: 0.25, maxBatch: 64, maxLatencyMs: 10, records: 600 });
      assert.deepEqual(
        calls.slice(0, 9),
        [64, 32, 34, 36, 38, 40, 42, 14, 21],
        'halved after 64, grown by 2 while under, halved at 42; the input batch ends with 14 held back; then 21',
      );
      assert.ok(calls.every((n) => n >= 1 && n <= 64));
      assert.equal(
        calls.reduce((a, n) => a + n, 0),
        600,
        'scored in several calls, nothing dropped or scored twice',
      );
      assert.deepEqual(
        out.map(([k]) => k),
        Array.from({ length: 600 }, (_, i) => `k${i}`),
        'one prediction per record, in arrival order',
      );
      out.forEach(([, p], i) => {
        assert.equal(p.flagged, i % 2 === 0, `record ${i} got another record's score`);
      });
      const overs = calls.filter((n) => n * 0.25 > 10).length;
      const text = await metrics.metrics();
      assert.match(text, new RegExp(`ml_inference_over_budget_total\\{model="slow"\\} ${overs}\\n`));
      assert.ok(overs >= 2);
      assert.match(text, /ml_inference_effective_batch_size\{task="0_0"\} \d+/);
      const gauge = Number(/ml_inference_effective_batch_size\{task="0_0"\} (\d+)/.exec(text)![1]);
      assert.ok(gauge >= 1 && gauge <= 64);
      assert.equal(warnings.length, 1, 'one warning a minute, however many calls were over');
      assert.match(String(warnings[0]!.msg), /longer than the latency budget \(STREAMING_REALTIME_ML__MAX_LATENCY_MS\); scoring smaller batches/);
      assert.deepEqual([warnings[0]!.model, warnings[0]!.budgetMs, warnings[0]!.batchSize], ['slow', 10, { from: 64, to: 32 }]);
    });

    it('a model slower than the budget on a single row scores one row per call, and warns again after a minute', () => {
      const { calls, out, warnings } = run({ msPerRow: 20, maxBatch: 16, maxLatencyMs: 10, records: 40, wallStepMs: 61_000 });
      // First input batch of 20: 16 (over: 8), the 4 left at its end (over: 4); second: 4 (over: 2), 2 (over: 1), then 1 by 1.
      assert.deepEqual(calls.slice(0, 4), [16, 4, 4, 2]);
      assert.ok(calls.slice(4).every((n) => n === 1));
      assert.equal(
        calls.reduce((a, n) => a + n, 0),
        40,
      );
      assert.equal(out.length, 40);
      assert.equal(warnings.length, 2, 'the second batch came a minute later');
    });

    it('without a budget the batch size stays maxBatch, however slow the calls', () => {
      const clock = { now: 0 };
      const calls: number[] = [];
      const b = new StreamsBuilder();
      b.stream('features', { keySerde: S, valueSerde: J })
        .process(predict<string, Row>({ model: slowModel(clock, 1000, calls), features: (v) => v, maxBatch: 8, clock: () => clock.now }))
        .to('predictions', { keySerde: S, valueSerde: P });
      const driver = new TopologyTestDriver(b.build(), { applicationId: 'no-budget' });
      try {
        driver.createInputTopic('features', S, J).pipeBatch(Array.from({ length: 20 }, (_, i): [string, Row] => [`k${i}`, { i }]));
      } finally {
        driver.close();
      }
      assert.deepEqual(calls, [8, 8, 4]);
    });

    it('a budget that is not a positive number is refused when the topology is built', () => {
      for (const maxLatencyMs of [0, -1, Number.NaN]) {
        assert.throws(() => predict<string, Row>({ model: real, features: (v) => v, maxLatencyMs }), /maxLatencyMs must be a number > 0/);
      }
    });
  });
});
