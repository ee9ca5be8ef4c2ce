import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localCatalogue, ModelRegistry } from '../../../src/inference/model-registry';
import { MAX_METADATA_BYTES, OnnxModel } from '../../../src/inference/onnx-model';
import { createLogger } from '../../../src/logger';

const MODEL = join(__dirname, '../../../models/anomaly-detector/1');

describe('inference: what a model directory may hold (sizes and metadata types)', () => {
  let root: string;
  let dir: string;
  let meta: Record<string, unknown>;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sa-model-limits-'));
    dir = join(root, 'anomaly-detector', '1');
    cpSync(MODEL, dir, { recursive: true });
    meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as Record<string, unknown>;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const withMetadata = (patch: Record<string, unknown>): void => writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, ...patch }));

  it('a model.onnx larger than maxModelBytes is refused before it is read', () => {
    const size = statSync(join(dir, 'model.onnx')).size;
    assert.throws(() => OnnxModel.load(dir, undefined, undefined, { maxModelBytes: size - 1 }), {
      code: 'SA_ERR_MODEL_INVALID',
      message: new RegExp(`model\\.onnx is ${size} bytes, more than the ${size - 1} accepted; refused before reading it`),
    });
    OnnxModel.load(dir, undefined, undefined, { maxModelBytes: size }).dispose();
  });

  it('the registry passes maxModelBytes (STREAMING_REALTIME_ML__MAX_MODEL_BYTES) on: at open, and to a new version, which then does not replace the served one', async () => {
    const log = createLogger({ level: 'silent' });
    await assert.rejects(ModelRegistry.open({ catalogue: localCatalogue(root, 'anomaly-detector'), log, pollMs: 0, maxModelBytes: 1024 }), {
      code: 'SA_ERR_MODEL_INVALID',
      message: /more than the 1024 accepted/,
    });
    const size = statSync(join(dir, 'model.onnx')).size;
    const registry = await ModelRegistry.open({ catalogue: localCatalogue(root, 'anomaly-detector'), log, pollMs: 0, maxModelBytes: size });
    try {
      const big = join(root, 'anomaly-detector', '2');
      cpSync(MODEL, big, { recursive: true });
      writeFileSync(join(big, 'model.onnx'), Buffer.concat([readFileSync(join(big, 'model.onnx')), Buffer.alloc(1)]));
      await registry.poll();
      assert.equal(registry.current().version, '1');
    } finally {
      registry.close();
    }
  });

  it('a metadata.json over 1 MiB is refused before it is read', () => {
    withMetadata({ description: 'x'.repeat(MAX_METADATA_BYTES) });
    assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /metadata\.json is \d+ bytes, more than the 1048576 accepted/ });
  });

  it('ranges that JSON turns into Infinity (1e400) are refused: they would check nothing', () => {
    const features = (meta.features as Record<string, unknown>[]).map((f, i) => (i === 0 ? { ...f, max: 'BIG' } : f));
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, features }).replace('"BIG"', '1e400'));
    assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /features\[0\] needs finite numbers min ≤ max/ });
  });

  it('labels of another type or unbounded length are refused, not silently replaced', () => {
    withMetadata({ positiveLabel: 7 });
    assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /"positiveLabel" must be a non-empty string of at most 200 characters/ });
    withMetadata({ negativeLabel: 'n'.repeat(201) });
    assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /"negativeLabel" must be/ });
  });

  it('a feature list of 1,001 entries, or names of 201 characters, are refused', () => {
    withMetadata({ features: Array.from({ length: 1001 }, (_, i) => ({ name: `f${i}`, type: 'float', min: 0, max: 1 })) });
    assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /"features" must be an array of 1 to 1000/ });
    withMetadata({ input: 'i'.repeat(201) });
    assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /"input" must be a non-empty string of at most 200 characters/ });
  });

  it('a metadata file with many problems names the first 20 and counts the rest', () => {
    withMetadata({ features: Array.from({ length: 30 }, () => ({ name: '', type: 'x', min: 1, max: 0 })) });
    assert.throws(() => OnnxModel.load(dir), { code: 'SA_ERR_MODEL_INVALID', message: /; and 70 more$/ });
  });
});
