import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamingError, type ErrorCode } from '../../../src/errors';
import { CircuitBreaker } from '../../../src/inference/circuit-breaker';
import { mlflowCatalogue, type MlflowCatalogueOptions } from '../../../src/inference/mlflow';
import { ModelCache } from '../../../src/inference/model-cache';
import { localCatalogue, ModelRegistry } from '../../../src/inference/model-registry';
import { createLogger } from '../../../src/logger';
import { fakeMlflow, json, MODEL_FILES, modelRoutes, type FakeMlflow, type Route } from '../../support/fake-mlflow';

const NAME = 'anomaly-detector';
const MAX = 1024 * 1024; // maxModelBytes in these tests

/**
 * Each test answers the catalogue like a hostile registry would, and checks the refusal
 * is typed and that nothing outside the cache was touched: a sentinel folder beside the
 * cache (where "../../victim" points) and one inside it (where "1/../../x" points).
 */
describe('inference: a hostile or intercepted MLflow registry stays inside the model cache', function () {
  this.timeout(20_000);
  let root: string;
  let cache: ModelCache;
  let fake: FakeMlflow;
  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'sa-hostile-'));
    mkdirSync(join(root, 'victim'));
    writeFileSync(join(root, 'victim', 'keep.txt'), 'precious');
    mkdirSync(join(root, 'cache', 'x'), { recursive: true });
    writeFileSync(join(root, 'cache', 'x', 'keep.txt'), 'precious too');
    cache = new ModelCache({ dir: join(root, 'cache') });
    fake = await fakeMlflow(modelRoutes(() => '1'));
  });
  afterEach(async () => {
    await fake.close();
    rmSync(root, { recursive: true, force: true });
  });

  const catalogue = (o: Partial<MlflowCatalogueOptions> = {}): ReturnType<typeof mlflowCatalogue> =>
    mlflowCatalogue({
      trackingUri: fake.url,
      name: NAME,
      cache,
      breaker: new CircuitBreaker({ name: 'mlflow', failureThreshold: 100 }),
      timeoutMs: 5000,
      maxModelBytes: MAX,
      ...o,
    });
  /** Answers `path` with `answer`, and everything else as a benign registry. */
  const hostile = (path: string, answer: Route): void => {
    const benign = modelRoutes(() => '1');
    fake.route = (req, res) => (req.path === path ? answer(req, res) : benign(req, res));
  };
  const refusal =
    (code: ErrorCode, message: RegExp) =>
    (err: unknown): boolean => {
      assert.ok(err instanceof StreamingError, `not a StreamingError: ${String(err)}`);
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      return true;
    };
  /** The sentinels survive, nothing was written beside the cache, no partial download is left. */
  const untouched = (): void => {
    assert.ok(existsSync(join(root, 'victim', 'keep.txt')), 'the folder beside the cache survives');
    assert.ok(existsSync(join(root, 'cache', 'x', 'keep.txt')), 'the folder inside the cache survives');
    assert.deepEqual(readdirSync(root).sort(), ['cache', 'victim']);
    assert.deepEqual(readdirSync(join(root, 'victim')), ['keep.txt']);
    const modelDir = join(root, 'cache', NAME);
    assert.deepEqual(existsSync(modelDir) ? readdirSync(modelDir).filter((n) => n.includes('partial')) : [], [], 'no partial download left');
  };
  const ALIAS = '/api/2.0/mlflow/registered-models/alias';
  const LIST = '/api/2.0/mlflow-artifacts/artifacts';
  const listing =
    (files: unknown[]): Route =>
    (_req, res) =>
      json(res, { files });

  it('a benign answer downloads the model into <cache>/<name>/<version>', async () => {
    const found = await catalogue().resolve();
    assert.equal(found?.directory, join(root, 'cache', NAME, '1'));
    assert.deepEqual(readdirSync(found.directory).sort(), ['MLmodel', 'metadata.json', 'model.onnx']);
    untouched();
  });

  for (const version of ['../../victim', '1/../../x', '..', '1e3', ' 1', '', 7]) {
    it(`a version ${JSON.stringify(version)} is refused before any path is built from it`, async () => {
      hostile(ALIAS, (_req, res) => json(res, { model_version: { version, status: 'READY' } }));
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /is not a version number/));
      assert.ok(!fake.requests.some((r) => r.includes('get-download-uri') || r.includes('mlflow-artifacts')), 'nothing was fetched for it');
      untouched();
    });
  }

  it('an answer of another shape than a model version is a typed refusal, not a TypeError', async () => {
    for (const answer of [{}, { model_version: null }, { model_version: { version: '1', status: 7 } }, [], 'text']) {
      hostile(ALIAS, (_req, res) => json(res, answer));
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /MLflow: /));
    }
    hostile(ALIAS, (_req, res) => void res.writeHead(200).end('{"model_version": '));
    await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /is not JSON/));
  });

  it('a pinned version answered with another version is refused', async () => {
    hostile('/api/2.0/mlflow/model-versions/get', (_req, res) => json(res, { model_version: { version: '4', status: 'READY' } }));
    await assert.rejects(catalogue({ version: '3' }).resolve(), refusal('SA_ERR_MODEL_INVALID', /asked for version 3, the registry answered version 4/));
  });

  for (const name of ['..', '../x', 'x/../..', '.', '']) {
    it(`a listed file named ${JSON.stringify(name)} is refused, and nothing is written`, async () => {
      hostile(LIST, listing([{ path: 'model.onnx' }, { path: 'metadata.json' }, { path: name, is_dir: false }]));
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /not a plain file name/));
      assert.ok(!fake.requests.some((r) => /artifacts\/models\/1\//.test(r)), 'no file was fetched');
      assert.ok(!existsSync(join(root, 'cache', NAME, '1')), 'no version folder');
      untouched();
    });
  }

  it('a file listed twice is refused', async () => {
    hostile(LIST, listing([{ path: 'model.onnx' }, { path: 'metadata.json' }, { path: 'model.onnx' }]));
    await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /names model\.onnx twice/));
  });

  it('an artifact URI that climbs out of the artifact store is refused', async () => {
    for (const uri of ['mlflow-artifacts:/../../etc', 'mlflow-artifacts:/models/1/..', 'mlflow-artifacts:/a//b', 'mlflow-artifacts:/a\\..\\b']) {
      hostile('/api/2.0/mlflow/model-versions/get-download-uri', (_req, res) => json(res, { artifact_uri: uri }));
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /is not a plain folder path/), uri);
    }
    assert.ok(!fake.requests.some((r) => r.startsWith(LIST)), 'nothing was listed');
  });

  describe('redirects are not followed', () => {
    let elsewhere: FakeMlflow;
    beforeEach(async () => (elsewhere = await fakeMlflow(modelRoutes(() => '1'))));
    afterEach(() => elsewhere.close());
    const redirect: Route = (req, res) => void res.writeHead(302, { location: `${elsewhere.url}${req.url}` }).end();

    it('a redirect of a registry call', async () => {
      hostile(ALIAS, redirect);
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_REGISTRY_UNAVAILABLE', /with a redirect \(HTTP 302\), which is not followed/));
      assert.deepEqual(elsewhere.requests, [], 'the other server was never asked');
    });

    it('a redirect of a file download', async () => {
      hostile(`${LIST}/models/1/model.onnx`, redirect);
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_REGISTRY_UNAVAILABLE', /redirect/));
      assert.deepEqual(elsewhere.requests, []);
      untouched();
    });
  });

  describe('sizes are capped before anything is buffered', () => {
    it('a listing of 100,000 files (over the 1 MiB JSON cap) is refused', async () => {
      const files = Array.from({ length: 100_000 }, (_, i) => ({ path: `f${i}`, is_dir: false, file_size: '1' }));
      hostile(LIST, listing(files));
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /larger than 1048576 bytes/));
      untouched();
    });

    it('a listing of 1,001 files (under the JSON cap) is refused by its count', async () => {
      hostile(LIST, listing(Array.from({ length: 1001 }, (_, i) => ({ path: `f${i}` }))));
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /names 1001 entries; at most 1000/));
    });

    it('files whose declared sizes add up past maxModelBytes are refused before any is fetched', async () => {
      hostile(
        LIST,
        listing([
          { path: 'model.onnx', file_size: String(MAX) },
          { path: 'metadata.json', file_size: '10' },
        ]),
      );
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /larger than 1048576 bytes \(its files declare 1048586 bytes\)/));
      assert.ok(!fake.requests.some((r) => /artifacts\/models\/1\//.test(r)));
    });

    it('a file whose Content-Length is past maxModelBytes is refused at once', async () => {
      hostile(`${LIST}/models/1/model.onnx`, (_req, res) => {
        res.writeHead(200, { 'content-length': String(2 * MAX) });
        res.write(Buffer.alloc(1024));
      });
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /larger than 1048576 bytes \(it declares 2097152\)/));
      untouched();
    });

    it('an endless body (no length) is cut off just past maxModelBytes, not read to the end', async () => {
      let sent = 0;
      let cut = false;
      const endless = (res: ServerResponse): void => {
        res.on('close', () => (cut = !res.writableFinished));
        const more = (): void => {
          if (res.destroyed || sent > 64 * MAX) return void res.end();
          sent += 64 * 1024;
          if (res.write(Buffer.alloc(64 * 1024))) setImmediate(more);
          else res.once('drain', more);
        };
        more();
      };
      hostile(`${LIST}/models/1/model.onnx`, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        endless(res);
      });
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /larger than \d+ bytes \(more arrived\)/));
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(cut, 'the transfer was aborted');
      assert.ok(sent < 16 * MAX, `read ${sent} bytes of an endless body`);
      untouched();
    });

    it('a JSON answer without end is cut at 1 MiB', async () => {
      hostile(ALIAS, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"model_version": {"version": "1", "x": "');
        const more = (): void => void (res.destroyed || (res.write('a'.repeat(65536)) ? setImmediate(more) : res.once('drain', more)));
        more();
      });
      await assert.rejects(catalogue().resolve(), refusal('SA_ERR_MODEL_INVALID', /larger than 1048576 bytes \(more arrived\)/));
    });
  });

  describe('names from configuration', () => {
    it('a model name "." or ".." (the configuration pattern allows them) is refused by every catalogue', () => {
      for (const name of ['..', '.', '../x']) {
        assert.throws(() => catalogue({ name }), refusal('SA_ERR_MODEL_INVALID', /the model name .* is not a plain name/));
        assert.throws(() => localCatalogue(join(root, 'cache'), name), refusal('SA_ERR_MODEL_INVALID', /the model name .* is not a plain name/));
        assert.throws(() => cache.versionDir(name, '1'), refusal('SA_ERR_MODEL_INVALID', /not a plain name/));
      }
    });

    it('a pinned MLflow version that is not a number is refused before any call', () => {
      for (const version of ['..', '../1', '1/..', 'latest'])
        assert.throws(() => catalogue({ version }), refusal('SA_ERR_MODEL_INVALID', /is not a version number/));
      assert.deepEqual(fake.requests, []);
    });

    it('a pinned local version ".." or "../victim" is refused (the local catalogue joins it into a path)', async () => {
      for (const version of ['..', '../victim', '../../victim', 'a/b']) {
        assert.throws(
          () => localCatalogue(join(root, 'cache'), NAME, version),
          refusal('SA_ERR_MODEL_INVALID', /the pinned model version .* is not a plain name/),
        );
      }
      untouched();
    });
  });

  it('a serving registry whose MLflow turns hostile keeps serving and warns; the folder beside the cache survives', async () => {
    const lines: { msg: string; err?: { message?: string } }[] = [];
    const log = createLogger({ level: 'info' }, 'test', { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) });
    const registry = await ModelRegistry.open({ catalogue: catalogue(), log, pollMs: 0 });
    try {
      assert.equal(registry.current().version, '1');
      hostile(ALIAS, (_req, res) => json(res, { model_version: { version: '../../victim', status: 'READY' } }));
      await registry.poll();
      assert.equal(registry.current().version, '1');
      assert.ok(lines.some((l) => l.msg.includes('looking for a new model version failed') && /not a version number/.test(l.err?.message ?? '')));
      assert.ok(existsSync(join(root, 'cache', NAME, '1', 'model.onnx')), 'the served version is still there');
      untouched();
    } finally {
      registry.close();
    }
    assert.ok(MODEL_FILES['model.onnx']!.length < MAX, 'the fixture model fits the test maximum');
  });
});
