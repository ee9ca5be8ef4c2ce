import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CircuitBreaker } from '../../../src/inference/circuit-breaker';
import { mlflowCatalogue } from '../../../src/inference/mlflow';
import { ModelCache } from '../../../src/inference/model-cache';
import { ModelRegistry } from '../../../src/inference/model-registry';
import { createLogger } from '../../../src/logger';
import { fakeMlflow, modelRoutes, type FakeMlflow } from '../../support/fake-mlflow';

const NAME = 'anomaly-detector';

describe('inference: the model download cache (STREAMING_REALTIME_ML__MODEL_CACHE_SIZE)', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sa-model-cache-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const versionsOnDisk = (): string[] => (existsSync(join(dir, NAME)) ? readdirSync(join(dir, NAME)).sort((a, b) => Number(a) - Number(b)) : []);

  describe('pruning', () => {
    /** Version folders downloaded at minutes 1, 2, 3, … (the folder's time orders pruning). */
    const downloaded = (cache: ModelCache, ...versions: string[]): void =>
      versions.forEach((v, i) => {
        const d = cache.versionDir(NAME, v);
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'model.onnx'), 'x');
        const at = new Date(Date.UTC(2026, 0, 1, 0, i + 1));
        utimesSync(d, at, at);
      });

    it('removes the versions downloaded longest ago beyond the maximum', () => {
      const cache = new ModelCache({ dir, maxVersions: 2 });
      downloaded(cache, '3', '1', '7', '5');
      assert.deepEqual(
        cache.prune().map((d) => d.split('/').at(-1)),
        ['3', '1'],
      );
      assert.deepEqual(versionsOnDisk(), ['5', '7']);
      assert.deepEqual(cache.prune(), [], 'nothing more to do');
    });

    it('never removes a held version; a released one goes at the next prune', () => {
      const cache = new ModelCache({ dir, maxVersions: 2 });
      downloaded(cache, '1', '2', '3', '4');
      const release = cache.hold(cache.versionDir(NAME, '1'));
      const second = cache.hold(cache.versionDir(NAME, '1')); // holds are counted: served and shadow on one version
      cache.prune();
      assert.deepEqual(versionsOnDisk(), ['1', '4'], 'the oldest is held: the next ones go instead');
      release();
      release(); // releasing twice counts once
      cache.prune();
      assert.deepEqual(versionsOnDisk(), ['1', '4'], 'still held once');
      second();
      downloaded(cache, '5');
      cache.prune();
      assert.deepEqual(versionsOnDisk(), ['4', '5']);
    });

    it('leaves partial downloads and other files alone', () => {
      const cache = new ModelCache({ dir, maxVersions: 1 });
      downloaded(cache, '1', '2');
      mkdirSync(join(dir, NAME, '.3.partial-1-1'));
      writeFileSync(join(dir, NAME, 'README'), 'x');
      cache.prune();
      assert.deepEqual(readdirSync(join(dir, NAME)).sort(), ['.3.partial-1-1', '2', 'README']);
    });

    it('refuses a maximum below 1', () => {
      assert.throws(() => new ModelCache({ dir, maxVersions: 0 }), /maxVersions must be a whole number ≥ 1/);
    });
  });

  describe('with MLflow catalogues and registries (a fake MLflow serving the committed model)', () => {
    let fake: FakeMlflow;
    let champion = '1';
    beforeEach(async () => {
      champion = '1';
      fake = await fakeMlflow(modelRoutes(() => champion));
    });
    afterEach(() => fake.close());

    it('keeps at most MODEL_CACHE_SIZE versions after each download, never one that a served, variant or shadow registry uses', async () => {
      const cache = new ModelCache({ dir, maxVersions: 2 });
      const breaker = new CircuitBreaker({ name: 'mlflow' });
      const log = createLogger({ level: 'warn' });
      const catalogue = (version?: string): ReturnType<typeof mlflowCatalogue> =>
        mlflowCatalogue({ trackingUri: fake.url, name: NAME, cache, breaker, ...(version ? { version } : {}), log });
      const served = await ModelRegistry.open({ catalogue: catalogue(), log, pollMs: 0 });
      const shadow = await ModelRegistry.open({ catalogue: catalogue('1'), log, pollMs: 0 });
      try {
        const downloads = (): number => fake.requests.filter((r) => r.endsWith('/model.onnx')).length;
        assert.equal(downloads(), 1, 'the shadow shares the served download');
        for (const v of ['2', '3', '4', '5']) {
          champion = v;
          await served.poll();
          assert.equal(served.current().version, v);
        }
        // After downloading 5: 1 (the shadow's) and 5 (the new served one) are held; 4 (served
        // until the swap) was held during that prune and goes at the next download.
        assert.deepEqual(versionsOnDisk(), ['1', '4', '5']);
        assert.equal(shadow.current().version, '1');
        shadow.close();
        champion = '6';
        await served.poll();
        assert.deepEqual(versionsOnDisk(), ['5', '6'], 'released versions go, down to the maximum');
        champion = '5';
        await served.poll();
        assert.equal(served.current().version, '5', 'a cached version is served again without a download');
        assert.equal(downloads(), 6);
      } finally {
        served.close();
        shadow.close();
      }
    });

    it("registries downloading at once never prune each other's new version before it is loaded", async () => {
      const cache = new ModelCache({ dir, maxVersions: 1 });
      const breaker = new CircuitBreaker({ name: 'mlflow' });
      const found = await Promise.all(
        ['2', '3', '4'].map((version) => mlflowCatalogue({ trackingUri: fake.url, name: NAME, cache, breaker, version }).resolve()),
      );
      for (const f of found) assert.ok(existsSync(join(f!.directory, 'model.onnx')), `${f!.version} is there while held`);
      for (const f of found) f!.release!();
    });

    it('a version that failed to load is released, and pruned like any other', async () => {
      const cache = new ModelCache({ dir, maxVersions: 1 });
      const log = createLogger({ level: 'silent' });
      const registry = await ModelRegistry.open({
        catalogue: mlflowCatalogue({ trackingUri: fake.url, name: NAME, cache, breaker: new CircuitBreaker({ name: 'mlflow' }) }),
        log,
        pollMs: 0,
        maxModelBytes: 10 * 1024 * 1024,
      });
      try {
        const benign = fake.route;
        fake.route = (req, res) => (req.path.endsWith('/models/2/model.onnx') ? void res.writeHead(200).end('not a model') : benign(req, res));
        champion = '2';
        await registry.poll();
        assert.equal(registry.current().version, '1', 'version 2 does not load');
        assert.equal(cache.isHeld(cache.versionDir(NAME, '2')), false);
        assert.equal(cache.isHeld(cache.versionDir(NAME, '1')), true);
        fake.route = benign;
        champion = '3';
        await registry.poll();
        assert.deepEqual(versionsOnDisk(), ['1', '3'], 'at the next download 2 (failed, released) is gone; 1 was still served during that prune');
        champion = '4';
        await registry.poll();
        assert.deepEqual(versionsOnDisk(), ['3', '4'], '1 goes; 3 was served while 4 was downloaded (kept until the next download)');
      } finally {
        registry.close();
      }
    });
  });
});
