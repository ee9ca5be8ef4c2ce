import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signHs256 } from '../../src/auth/jwt';
import { ROOT, cleanEnv } from '../support/cli';
import { createTopic, uniqueName, waitFor } from '../support/kafka';
import { freePort } from '../support/net';
import { useStack } from '../support/stack';
import { WsTestClient } from '../support/ws-client';

/**
 * The compiled runtime as the image runs it, on the real broker and registry. The
 * directory is made the way the Dockerfile's stages make /app: `npm run build`, the
 * package as `npm pack` would publish it, and the build stage's node_modules after
 * `npm prune --omit=dev` and ops/build/trim-native.sh — production dependencies only,
 * native modules as built, no tsx. (No container engine runs here; this is the image's
 * runtime stage without the container.) Then the processor, the generator and the fan-out start from `dist/` with plain
 * `node`, and an event travels all the way to a WebSocket client.
 */
describe('the compiled runtime, installed with production dependencies only', function () {
  this.timeout(300_000);
  const config = useStack();
  let app = '';
  let work = '';

  before(async function () {
    this.timeout(300_000);
    work = mkdtempSync(join(tmpdir(), 'sa-prod-'));
    run('npm', ['run', 'build'], ROOT);
    run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    run('tar', ['xzf', tarball], work);
    app = join(work, 'package');
    cpSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    // `cp -a`: the build stage's tree as it is, timestamps included.
    run('cp', ['-a', join(ROOT, 'node_modules'), join(app, 'node_modules')], ROOT);
    // As the Dockerfile does: npm distrusts a hidden lockfile older than any package folder (the native
    // builds touch theirs) and would reinstall those packages without their builds.
    run('touch', [join(app, 'node_modules/.package-lock.json')], app);
    run('npm', ['prune', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], app);
    run('sh', [join(ROOT, 'ops/build/trim-native.sh'), app], ROOT); // as the Dockerfile's build stage does
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the compiled code, the assets and production dependencies only: no tests, no ops, no tsx', () => {
    for (const dev of ['tsx', 'typescript', 'mocha', 'playwright-core', '@types/mocha'])
      assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} is a development dependency`);
    for (const needed of ['node-rdkafka', 'rocksdb', 'onnxruntime-node', 'fastify', 'ws']) assert.ok(existsSync(join(app, 'node_modules', needed)), needed);
    assert.deepEqual(readdirSync(join(app, 'dist')).sort(), ['native', 'schemas', 'src', 'state', 'topologies']);
    for (const f of [
      'dist/src/eos-verify/app.js',
      'dist/src/fanout/dashboard/index.html',
      'dist/schemas/analytics-event.avsc',
      'dist/src/index.d.ts',
      'models/anomaly-detector/1/model.onnx',
    ])
      assert.ok(existsSync(join(app, f)), f);
    assert.ok(!existsSync(join(app, 'dist/ops')), "the tools (npm start's launcher, the stack, benchmarks) are not built");
  });

  it('loads the native batch readers (restoration, processing) on the node-rdkafka left after trimming', () => {
    const script = `const r = require('./dist/src/kafka/rdkafka/batch-consumer.js').nativeBatchReader();
      const g = require('./dist/src/kafka/rdkafka/group-batch.js').nativeGroupReader();
      console.log([r, g].map((x) => (typeof x === 'string' ? x : 'loaded')).join(' '));`;
    assert.equal(run(process.execPath, ['-e', script], app).trim(), 'loaded loaded');
  });

  it('exports the engine, the inference operator and the fan-out, with types', () => {
    const script = `const e = require('streaming-analytics'), i = require('streaming-analytics/inference'), f = require('streaming-analytics/fanout');
      console.log(JSON.stringify([typeof e.StreamsBuilder, typeof e.KafkaStreams, typeof e.TopologyTestDriver, typeof i.predict, typeof i.ModelRegistry, typeof f.startFanout, require.resolve('streaming-analytics/inference')]));`;
    const res = run(process.execPath, ['-e', script], app);
    const [builder, streams, driver, predict, registry, fanout, resolved] = JSON.parse(res) as string[];
    assert.deepEqual([builder, streams, driver, predict, registry, fanout], ['function', 'function', 'function', 'function', 'function', 'function']);
    assert.equal(resolved, join(app, 'dist/src/inference/index.js'));
    for (const types of ['dist/src/inference/index.d.ts', 'dist/src/app/fanout.d.ts']) assert.ok(existsSync(join(app, types)), types);
  });

  it('every command answers --help from dist/ with plain node', () => {
    for (const command of ['processor', 'fanout', 'generate', 'config', 'schemas', 'eos-verify']) {
      const out = run(process.execPath, ['dist/src/cli/main.js', command, '--help'], app);
      assert.match(out, /^usage: /, command);
    }
  });

  it('the processor and the fan-out run from dist/: generated events come out as predictions on a WebSocket, and SIGTERM closes both', async () => {
    const topics = {
      events: uniqueName('prod-events'),
      predictions: uniqueName('prod-predictions'),
      alerts: uniqueName('prod-alerts'),
      metrics: uniqueName('prod-metrics'),
    };
    for (const t of Object.values(topics)) await createTopic(config(), t, 3);
    const [queryPort, adminPort, wsPort, wsAdminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const secret = 'p'.repeat(40);
    const env = cleanEnv({
      STREAMING_TOPICS__EVENTS: topics.events,
      STREAMING_TOPICS__PREDICTIONS: topics.predictions,
      STREAMING_TOPICS__ALERTS: topics.alerts,
      STREAMING_TOPICS__METRICS: topics.metrics,
      STREAMING_PROCESSOR__APPLICATION_ID: uniqueName('prod-app'),
      STREAMING_PROCESSOR__QUERY_HOST: '127.0.0.1',
      STREAMING_PROCESSOR__QUERY_PORT: String(queryPort),
      STREAMING_PROCESSOR__ADMIN_PORT: String(adminPort),
      STREAMING_WEBSOCKET__HOST: '127.0.0.1',
      STREAMING_WEBSOCKET__PORT: String(wsPort),
      STREAMING_WEBSOCKET__ADMIN_PORT: String(wsAdminPort),
      STREAMING_AUTH__JWT_SECRET: secret,
      STREAMING_LOG__LEVEL: 'warn',
    });
    const processor = start(['processor'], app, env);
    const fanout = start(['fanout'], app, env);
    try {
      await waitFor('the processor ready', () => ready(`http://127.0.0.1:${adminPort}/readyz`), 90_000);
      await waitFor('the fan-out ready', () => ready(`http://127.0.0.1:${wsAdminPort}/readyz`), 60_000);
      const dashboard = await fetch(`http://127.0.0.1:${wsPort}/dashboard/`);
      assert.equal(dashboard.status, 200);
      assert.match(await dashboard.text(), /<html/i);
      const client = await WsTestClient.connect(`ws://127.0.0.1:${wsPort}/ws`, {
        token: signHs256({ sub: 'prod-test', channels: ['*'], exp: Math.floor(Date.now() / 1000) + 600 }, secret),
      });
      assert.ok((await client.request('subscribe', { channel: 'predictions' })).result);
      const generated = run(process.execPath, ['dist/src/cli/main.js', 'generate', '--rate', '200', '--duration', '3', '--seed', '5'], app, env);
      assert.match(generated, /sent/i);
      await client.waitFor('a prediction pushed', () => client.pushes('predictions').length > 0, 60_000);
      const pushed = client.pushes('predictions')[0]!.pub.data;
      assert.equal(pushed.model_name, 'anomaly-detector');
      assert.equal(typeof pushed.score, 'number');
      const stores = (await (await fetch(`http://127.0.0.1:${queryPort}/stores`)).json()) as { stores: { name: string }[] };
      assert.deepEqual(
        stores.stores.map((s) => s.name),
        ['entity-features-1m'],
      );
      await client.close();
      assert.deepEqual(await Promise.all([stop(processor.child), stop(fanout.child)]), [0, 0], 'both exit 0 after SIGTERM');
    } catch (err) {
      process.stdout.write(`processor:\n${processor.output().slice(-3000)}\nfan-out:\n${fanout.output().slice(-3000)}\n`);
      throw err;
    } finally {
      processor.child.kill('SIGKILL');
      fanout.child.kill('SIGKILL');
    }
  });
});

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const res = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 240_000, maxBuffer: 64 << 20 });
  assert.equal(res.status, 0, `${command} ${args.join(' ')} exited ${res.status}:\n${(res.stdout ?? '').slice(-2000)}\n${(res.stderr ?? '').slice(0, 3000)}`);
  return res.stdout;
}

function start(args: string[], cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['dist/src/cli/main.js', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  return { child, output: () => log };
}

async function ready(url: string): Promise<boolean> {
  return fetch(url).then(
    (r) => r.ok,
    () => false,
  );
}

function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}
