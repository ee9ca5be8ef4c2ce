import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxModel } from '../../../src/inference/onnx-model';
import { writeFeatures } from '../../../src/inference/features';
import { FEATURES } from '../../../topologies/features';

const MODEL = join(__dirname, '../../../models/anomaly-detector/1');

describe('inference: the ONNX model', () => {
  it("parity: onnxruntime-node gives scikit-learn's probabilities within 1e-5 on the committed fixture", () => {
    const parity = JSON.parse(readFileSync(join(MODEL, 'parity.json'), 'utf8')) as { rows: number[][]; probabilities: number[] };
    const model = OnnxModel.load(MODEL);
    try {
      const width = model.metadata.features.length;
      const input = Float32Array.from(parity.rows.flat());
      const scores = model.score(input, parity.rows.length);
      assert.equal(scores.length, parity.probabilities.length);
      assert.ok(parity.rows.length > 200 && parity.rows[0]!.length === width);
      let worst = 0;
      for (let i = 0; i < scores.length; i++) worst = Math.max(worst, Math.abs(scores[i]! - parity.probabilities[i]!));
      assert.ok(worst <= 1e-5, `largest difference ${worst}`);
      assert.ok(
        parity.probabilities.some((p) => p >= model.metadata.threshold) && parity.probabilities.some((p) => p < model.metadata.threshold),
        'the fixture has rows on both sides of the threshold',
      );
    } finally {
      model.dispose();
    }
  });

  it("its metadata lists the topology's features in the topology's order", () => {
    const model = OnnxModel.load(MODEL);
    assert.deepEqual(model.metadata.features, FEATURES);
    assert.equal(model.name, 'anomaly-detector');
    model.dispose();
  });

  describe('bad model directories are typed errors naming the problem', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sa-model-'));
      cpSync(MODEL, dir, { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('a missing model.onnx', () => {
      rmSync(join(dir, 'model.onnx'));
      assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_NOT_FOUND', message: /has no model\.onnx/ });
    });

    it('a damaged model.onnx', () => {
      const bytes = readFileSync(join(dir, 'model.onnx'));
      writeFileSync(join(dir, 'model.onnx'), bytes.subarray(0, bytes.length / 3));
      assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /cannot be loaded by onnxruntime/ });
    });

    it('metadata that is not JSON, or names every problem it has', () => {
      writeFileSync(join(dir, 'metadata.json'), '{ not json');
      assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /not valid JSON/ });
      writeFileSync(
        join(dir, 'metadata.json'),
        JSON.stringify({
          name: 'x y',
          version: '1',
          input: 'features',
          probabilities: 'probabilities',
          threshold: 2,
          features: [{ name: 'a', type: 'text', min: 1, max: 0 }],
        }),
      );
      assert.throws(
        () => OnnxModel.load(dir),
        (err: Error & { code?: string }) =>
          err.code === 'SA_ERR_MODEL_INVALID' &&
          /"name"/.test(err.message) &&
          /threshold/.test(err.message) &&
          /features\[0\]\.type/.test(err.message) &&
          /min ≤ max/.test(err.message),
      );
    });

    it('metadata that does not match the graph (input name, feature count)', () => {
      const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as { input: string; features: unknown[] };
      writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, input: 'x' }));
      assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /no input "x"/ });
      writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, features: meta.features.slice(1) }));
      assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /takes 15 features, the metadata lists 14/ });
    });
  });

  it('feature vectors are checked before scoring: missing, not finite, not whole, out of range', () => {
    const specs = [
      { name: 'n', type: 'int' as const, min: 0, max: 10 },
      { name: 'x', type: 'float' as const, min: -1, max: 1 },
    ];
    const out = new Float32Array(4);
    assert.equal(writeFeatures(specs, { n: 3, x: 0.5 }, out, 2), undefined);
    assert.deepEqual([...out], [0, 0, 3, 0.5]);
    assert.match(writeFeatures(specs, { n: 3 }, out, 0)!, /feature "x" is missing/);
    assert.match(writeFeatures(specs, { n: 3, x: NaN }, out, 0)!, /feature "x" is NaN, not a finite number/);
    assert.match(writeFeatures(specs, { n: 3, x: Infinity }, out, 0)!, /not a finite number/);
    assert.match(writeFeatures(specs, { n: 2.5, x: 0 }, out, 0)!, /feature "n" is 2.5, not a whole number/);
    assert.match(writeFeatures(specs, { n: 11, x: 0 }, out, 0)!, /outside its valid range \[0, 10\]/);
  });
});
