import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { DLQ_HEADERS, Serdes, StreamsBuilder, TopologyTestDriver } from '../../../src';
import { OnnxModel } from '../../../src/inference/onnx-model';
import { predict, type ModelSource, type Prediction } from '../../../src/inference/predict';
import { FEATURES } from '../../../topologies/features';

const MODEL = join(__dirname, '../../../models/anomaly-detector/1');
const S = Serdes.String();
type Row = Record<string, number>;
const J = Serdes.Json<Row>();
const P = Serdes.Json<Prediction<Row>>();

const parity = JSON.parse(readFileSync(join(MODEL, 'parity.json'), 'utf8')) as { rows: number[][]; probabilities: number[] };
const named = (row: number[]): Row => Object.fromEntries(FEATURES.map((f, i) => [f.name, row[i]!]));

describe('inference: predict() in a topology (TopologyTestDriver)', () => {
  let model: OnnxModel;
  before(() => (model = OnnxModel.load(MODEL)));
  after(() => model.dispose());

  /** A source that counts the rows of each model call. */
  const counting = (calls: number[]): ModelSource => ({
    current: () =>
      ({
        ...model,
        metadata: model.metadata,
        name: model.name,
        version: model.version,
        score: (rows: Float32Array, n: number) => {
          calls.push(n);
          return model.score(rows, n);
        },
      }) as unknown as OnnxModel,
  });

  function run(
    source: ModelSource | OnnxModel,
    inputs: [string, Row][],
    batched: boolean,
    registry?: Registry,
  ): { out: [string, Prediction<Row>][]; dlq: { key: string; value: string; headers: Record<string, string> }[] } {
    const b = new StreamsBuilder();
    b.stream('features', { keySerde: S, valueSerde: J })
      .process(predict<string, Row>({ model: source, features: (v) => v, maxBatch: 4, ...(registry ? { metrics: registry } : {}) }))
      .to('predictions', { keySerde: S, valueSerde: P });
    const driver = new TopologyTestDriver(b.build(), { applicationId: 'predict-test' });
    try {
      const input = driver.createInputTopic('features', S, J);
      if (batched) input.pipeBatch(inputs);
      else for (const [k, v] of inputs) input.pipeInput(k, v);
      const dlq = driver
        .createOutputTopic('predict-test-dlq', S, S)
        .readRecordsToList()
        .map((r) => ({ key: r.key ?? '', value: r.value ?? '', headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value.toString()])) }));
      return {
        out: driver
          .createOutputTopic('predictions', S, P)
          .readKeyValuesToList()
          .map(([k, v]): [string, Prediction<Row>] => [k ?? '', v!]),
        dlq,
      };
    } finally {
      driver.close();
    }
  }

  it('scores a batch in calls of at most maxBatch rows, and forwards one prediction per record, in order, naming the model', () => {
    const calls: number[] = [];
    const inputs = parity.rows.slice(0, 10).map((r, i): [string, Row] => [`e${i}`, named(r)]);
    const { out } = run(counting(calls), inputs, true);
    assert.deepEqual(calls, [4, 4, 2]);
    assert.deepEqual(
      out.map(([k]) => k),
      inputs.map(([k]) => k),
    );
    out.forEach(([, p], i) => {
      assert.ok(Math.abs(p.score - parity.probabilities[i]!) < 1e-5);
      assert.equal(p.flagged, p.score >= model.metadata.threshold);
      assert.equal(p.label, p.flagged ? 'anomaly' : 'normal');
      assert.deepEqual([p.model, p.modelVersion], ['anomaly-detector', '1']);
      assert.deepEqual(p.input, inputs[i]![1]);
    });
  });

  it('a record piped alone is scored alone (the batch ends with it)', () => {
    const calls: number[] = [];
    run(
      counting(calls),
      parity.rows.slice(0, 3).map((r, i): [string, Row] => [`e${i}`, named(r)]),
      false,
    );
    assert.deepEqual(calls, [1, 1, 1]);
  });

  it('invalid features go to the dead-letter topic with the reason, and are counted; the rest are scored', async () => {
    const good = named(parity.rows[0]!);
    const registry = new Registry();
    const { out, dlq } = run(
      model,
      [
        ['ok', good],
        ['missing', { ...good, events: undefined as unknown as number }],
        ['range', { ...good, distinct_ips: 1_000 }],
        ['ok2', good],
      ],
      true,
      registry,
    );
    assert.deepEqual(
      out.map(([k]) => k),
      ['ok', 'ok2'],
    );
    assert.deepEqual(
      dlq.map((d) => [d.key, d.headers[DLQ_HEADERS.code]]),
      [
        ['missing', 'SA_ERR_FEATURES_INVALID'],
        ['range', 'SA_ERR_FEATURES_INVALID'],
      ],
    );
    assert.match(dlq[0]!.headers[DLQ_HEADERS.message]!, /feature "events" is missing/);
    assert.match(dlq[1]!.headers[DLQ_HEADERS.message]!, /feature "distinct_ips" is 1000, outside its valid range \[0, 64\]/);
    assert.match(dlq[1]!.value, /"reason":"feature \\"distinct_ips\\" is 1000/);
    const text = await registry.metrics();
    assert.match(text, /ml_invalid_features_total\{model="anomaly-detector"\} 2/);
    assert.match(text, /ml_predictions_total\{model="anomaly-detector",version="1"\} 2/);
    assert.match(text, /ml_inference_duration_ms_count\{model="anomaly-detector",version="1",per="batch"\} 1/);
    assert.match(text, /ml_model_info\{model="anomaly-detector",version="1"\} 1/);
  });

  describe('A/B split and shadow model', () => {
    let dir: string;
    /** The committed graph under another version and threshold. */
    const variantOf = (version: string, threshold: number): OnnxModel => {
      const at = join(dir, version);
      cpSync(MODEL, at, { recursive: true });
      const meta = JSON.parse(readFileSync(join(at, 'metadata.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(at, 'metadata.json'), JSON.stringify({ ...meta, version, threshold }));
      return OnnxModel.load(at);
    };
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sa-variants-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const pipe = (supplierOptions: Partial<Parameters<typeof predict<string, Row>>[0]>, inputs: [string, Row][], registry?: Registry): Prediction<Row>[] => {
      const b = new StreamsBuilder();
      b.stream('features', { keySerde: S, valueSerde: J })
        .process(predict<string, Row>({ model, features: (v) => v, ...supplierOptions, ...(registry ? { metrics: registry } : {}) }))
        .to('predictions', { keySerde: S, valueSerde: P });
      const driver = new TopologyTestDriver(b.build(), { applicationId: 'ab-test' });
      try {
        driver.createInputTopic('features', S, J).pipeBatch(inputs);
        return driver
          .createOutputTopic('predictions', S, P)
          .readValuesToList()
          .map((p) => p!);
      } finally {
        driver.close();
      }
    };

    it('A/B: a stable share of keys is scored by the variant, the same key always on the same side, in order', () => {
      const v2 = variantOf('2', model.metadata.threshold);
      try {
        const inputs = Array.from({ length: 400 }, (_, i): [string, Row] => [`entity-${i % 200}`, named(parity.rows[i % parity.rows.length]!)]);
        const out = pipe({ variant: { model: v2, share: 0.3 } }, inputs);
        assert.equal(out.length, 400);
        const side = new Map<string, string>();
        out.forEach((p, i) => {
          const key = inputs[i]![0];
          assert.equal(side.get(key) ?? p.modelVersion, p.modelVersion, `${key} switched sides`);
          side.set(key, p.modelVersion);
        });
        const share = [...side.values()].filter((v) => v === '2').length / side.size;
        assert.ok(share > 0.2 && share < 0.4, `variant share ${share}`);
      } finally {
        v2.dispose();
      }
    });

    it('shadow: scored on the same records, counted, attached when asked, and never changing what is served', async () => {
      const inputs = parity.rows.map((r, i): [string, Row] => [`e${i}`, named(r)]);
      const plain = pipe({}, inputs);
      // A looser shadow: its threshold is the 90th percentile of the scores the served model does not flag.
      const normalScores = plain
        .filter((p) => !p.flagged)
        .map((p) => p.score)
        .sort((x, y) => x - y);
      const shadowModel = variantOf('2-shadow', Math.max(1e-6, normalScores[Math.floor(normalScores.length * 0.9)]!));
      try {
        const registry = new Registry();
        const withShadow = pipe({ shadow: { model: shadowModel, emit: true } }, inputs, registry);
        assert.deepEqual(
          withShadow.map(({ shadow: _s, ...p }) => p),
          plain,
          'the served predictions are the same with a shadow',
        );
        const disagreements = withShadow.filter((p) => p.shadow!.flagged !== p.flagged).length;
        assert.ok(disagreements > 0, 'the looser shadow disagrees somewhere');
        assert.ok(withShadow.every((p) => p.shadow!.modelVersion === '2-shadow' && Math.abs(p.shadow!.score - p.score) < 1e-6));
        const text = await registry.metrics();
        assert.match(text, new RegExp(`ml_shadow_predictions_total\\{model="anomaly-detector",version="2-shadow"\\} ${inputs.length}`));
        assert.match(text, new RegExp(`ml_shadow_disagreements_total\\{model="anomaly-detector",version="2-shadow"\\} ${disagreements}`));
        assert.match(text, /ml_model_info\{model="anomaly-detector",version="1"\} 1/);
        assert.doesNotMatch(text, /ml_predictions_total\{[^}]*version="2-shadow"/);
      } finally {
        shadowModel.dispose();
      }
    });
  });
});
