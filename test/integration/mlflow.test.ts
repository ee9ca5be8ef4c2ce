import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { CircuitBreaker, type CircuitState } from '../../src/inference/circuit-breaker';
import { mlflowCatalogue } from '../../src/inference/mlflow';
import { ModelCache } from '../../src/inference/model-cache';
import { ModelRegistry } from '../../src/inference/model-registry';
import { createLogger } from '../../src/logger';
import { ROOT } from '../support/cli';
import { registerModelVersion, setAlias, startMlflow, type MlflowServer } from '../support/mlflow';

const MODEL = join(ROOT, 'models/anomaly-detector/1');

/**
 * A real MLflow tracking server (PyPI mlflow, started here): a model registered through
 * its REST API is loaded by the processor's registry, hot-swapped when the alias moves,
 * kept serving through a broken version and through the server going away (the circuit
 * breaker then stops calling it).
 */
describe('models from a real MLflow Model Registry', function () {
  this.timeout(600_000);
  let mlflow: MlflowServer;
  let work: string;
  before(async () => {
    mlflow = await startMlflow();
    work = mkdtempSync(join(tmpdir(), 'sa-mlflow-it-'));
  });
  after(async () => {
    await mlflow?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('loads the version behind the alias, swaps when the alias moves, keeps serving through a broken version and an outage', async () => {
    const name = `anomaly-${Date.now()}`;
    const v1 = await registerModelVersion(mlflow.url, name, MODEL);
    await setAlias(mlflow.url, name, 'champion', v1);
    const states: CircuitState[] = [];
    let now = Date.now();
    const breaker = new CircuitBreaker({ name: 'mlflow', failureThreshold: 2, openMs: 60_000, clock: () => now, onStateChange: (s) => states.push(s) });
    const lines: { msg: string }[] = [];
    const log = createLogger({ level: 'info' }, 'test', { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) });
    const metrics = new Registry();
    const registry = await ModelRegistry.open({
      catalogue: mlflowCatalogue({ trackingUri: mlflow.url, name, cache: new ModelCache({ dir: join(work, 'cache') }), breaker }),
      log,
      pollMs: 0,
      metrics,
    });
    try {
      assert.equal(registry.current().version, v1, "predictions name the registry's version");
      assert.equal(registry.current().score(Float32Array.from(JSON.parse(readFileSync(join(MODEL, 'parity.json'), 'utf8')).rows[0] as number[]), 1).length, 1);

      const v2 = await registerModelVersion(mlflow.url, name, MODEL);
      await registry.poll();
      assert.equal(registry.current().version, v1, 'a new version behind no alias is not served');
      await setAlias(mlflow.url, name, 'champion', v2);
      await registry.poll();
      assert.equal(registry.current().version, v2, 'hot swap when the alias moves');

      const broken = join(work, 'broken');
      cpSync(MODEL, broken, { recursive: true });
      writeFileSync(join(broken, 'model.onnx'), readFileSync(join(MODEL, 'model.onnx')).subarray(0, 100));
      const v3 = await registerModelVersion(mlflow.url, name, broken);
      await setAlias(mlflow.url, name, 'champion', v3);
      await registry.poll();
      assert.equal(registry.current().version, v2, 'a version that cannot load leaves the serving one');
      assert.match(await metrics.metrics(), /ml_model_load_failures_total\{model="anomaly-detector"\} 1/);

      await mlflow.stop();
      await registry.poll();
      await registry.poll();
      assert.deepEqual(states, ['open'], 'two failed calls open the circuit');
      await registry.poll(); // open: fails at once, without calling the server
      assert.equal(registry.current().version, v2, 'the outage costs the serving model nothing');
      assert.ok(lines.some((l) => l.msg.includes('looking for a new model version failed')));
      now += 61_000;
      await registry.poll(); // half-open: one trial call, which fails again
      assert.deepEqual(states, ['open', 'half-open', 'open']);
    } finally {
      registry.close();
    }
  });
});
