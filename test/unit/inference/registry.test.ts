import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Serdes, StreamsBuilder, TopologyTestDriver } from '../../../src';
import { createLogger } from '../../../src/logger';
import { localCatalogue, ModelRegistry } from '../../../src/inference/model-registry';
import { predict, type Prediction } from '../../../src/inference/predict';
import { FEATURES } from '../../../topologies/features';

const MODEL = join(__dirname, '../../../models/anomaly-detector/1');
const S = Serdes.String();
type Row = Record<string, number>;
const parity = JSON.parse(readFileSync(join(MODEL, 'parity.json'), 'utf8')) as { rows: number[][] };
const named = (row: number[]): Row => Object.fromEntries(FEATURES.map((f, i) => [f.name, row[i]!]));

describe('inference: the model registry (local models directory)', () => {
  let root: string;
  const lines: { msg: string; version?: string; from?: string; to?: string }[] = [];
  const log = createLogger({ level: 'info' }, 'test', { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) });
  /** Adds version `v` (the committed model under another version label). */
  const addVersion = (v: string): string => {
    const dir = join(root, 'anomaly-detector', v);
    cpSync(MODEL, dir, { recursive: true });
    const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, version: v }));
    return dir;
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sa-models-'));
    lines.length = 0;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('serves the highest version, swaps to a newer one, keeps serving through a broken one, and takes it once fixed', async () => {
    addVersion('1');
    addVersion('2');
    const metrics = new Registry();
    const registry = await ModelRegistry.open({ catalogue: localCatalogue(root, 'anomaly-detector'), log, pollMs: 0, metrics });
    try {
      assert.equal(registry.current().version, '2');
      const broken = addVersion('10'); // numerically highest
      writeFileSync(join(broken, 'model.onnx'), 'not a model');
      await registry.poll();
      assert.equal(registry.current().version, '2', 'a version that fails to load does not replace the serving one');
      assert.match(await metrics.metrics(), /ml_model_load_failures_total\{model="anomaly-detector"\} 1/);
      assert.ok(lines.some((l) => l.msg.includes('failed to load; the current one keeps serving')));
      await registry.poll();
      assert.match(await metrics.metrics(), /ml_model_load_failures_total\{model="anomaly-detector"\} 1/, 'not retried while its files are unchanged');
      cpSync(join(MODEL, 'model.onnx'), join(broken, 'model.onnx'));
      await registry.poll();
      assert.equal(registry.current().version, '10');
      assert.ok(lines.some((l) => l.msg === 'model swapped' && l.from === '2' && l.to === '10'));
    } finally {
      registry.close();
    }
  });

  it('no version at all is a typed error at open', async () => {
    await assert.rejects(ModelRegistry.open({ catalogue: localCatalogue(root, 'anomaly-detector'), log, pollMs: 0 }), { code: 'SA_ERR_MODEL_NOT_FOUND' });
  });

  it('a hot swap between batches: every record gets exactly one prediction, from the old version before and the new one after', async () => {
    addVersion('1');
    const registry = await ModelRegistry.open({ catalogue: localCatalogue(root, 'anomaly-detector'), log, pollMs: 0 });
    const b = new StreamsBuilder();
    b.stream('features', { keySerde: S, valueSerde: Serdes.Json<Row>() })
      .process(predict<string, Row>({ model: registry, features: (v) => v }))
      .to('predictions', { keySerde: S, valueSerde: Serdes.Json<Prediction<Row>>() });
    const driver = new TopologyTestDriver(b.build(), { applicationId: 'swap-test' });
    try {
      const input = driver.createInputTopic('features', S, Serdes.Json<Row>());
      const batch = (from: number): [string, Row][] => parity.rows.slice(0, 50).map((r, i) => [`e${from + i}`, named(r)]);
      input.pipeBatch(batch(0));
      addVersion('2');
      await registry.poll();
      input.pipeBatch(batch(50));
      const out = driver.createOutputTopic('predictions', S, Serdes.Json<Prediction<Row>>()).readKeyValuesToList();
      assert.deepEqual(
        out.map(([k]) => k),
        [...batch(0), ...batch(50)].map(([k]) => k),
        'one prediction per record, in order',
      );
      assert.deepEqual(
        out.map(([, p]) => p!.modelVersion),
        [...Array(50).fill('1'), ...Array(50).fill('2')],
      );
    } finally {
      driver.close();
      registry.close();
    }
  });
});
