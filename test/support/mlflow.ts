/**
 * A real MLflow tracking server for tests (PyPI `mlflow`, in ops/mlflow/.venv, installed
 * on first use), on a free local port with a throw-away SQLite store and artifact
 * directory, and the REST calls that register a model version — no Python client.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli';

export interface MlflowServer {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startMlflow(): Promise<MlflowServer> {
  execFileSync('bash', [join(ROOT, 'ops/mlflow/setup.sh')], { stdio: 'inherit', timeout: 600_000 });
  const dir = mkdtempSync(join(tmpdir(), 'sa-mlflow-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(
    join(ROOT, 'ops/mlflow/.venv/bin/mlflow'),
    [
      'server',
      '--backend-store-uri',
      `sqlite:///${dir}/mlflow.db`,
      '--artifacts-destination',
      join(dir, 'artifacts'),
      '--serve-artifacts',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the MLflow server did not start:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function call<T>(url: string, method: 'GET' | 'POST', body?: unknown): Promise<T> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} → HTTP ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Logs the files of `modelDir` (model.onnx, metadata.json) as a run's artifacts and registers them as a new version of `name`. */
export async function registerModelVersion(server: string, name: string, modelDir: string): Promise<string> {
  const api = `${server}/api/2.0`;
  const run = await call<{ run: { info: { run_id: string; artifact_uri: string } } }>(`${api}/mlflow/runs/create`, 'POST', {
    experiment_id: '0',
    start_time: Date.now(),
  });
  const artifacts = `${run.run.info.artifact_uri}/model`;
  const path = artifacts.replace(/^mlflow-artifacts:\//, '');
  const files = new Map<string, Buffer>(
    readdirSync(modelDir)
      .filter((f) => f === 'model.onnx' || f === 'metadata.json')
      .map((f) => [f, readFileSync(join(modelDir, f))]),
  );
  files.set('MLmodel', Buffer.from('flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.23.2\n'));
  for (const [file, body] of files) {
    const res = await fetch(`${api}/mlflow-artifacts/artifacts/${path}/${file}`, { method: 'PUT', body });
    if (!res.ok) throw new Error(`uploading ${file}: HTTP ${res.status}: ${await res.text()}`);
  }
  await call(`${api}/mlflow/registered-models/create`, 'POST', { name }).catch((err: Error) => {
    if (!/RESOURCE_ALREADY_EXISTS/.test(err.message)) throw err;
  });
  const created = await call<{ model_version: { version: string } }>(`${api}/mlflow/model-versions/create`, 'POST', {
    name,
    source: artifacts,
    run_id: run.run.info.run_id,
  });
  return created.model_version.version;
}

export async function setAlias(server: string, name: string, alias: string, version: string): Promise<void> {
  await call(`${server}/api/2.0/mlflow/registered-models/alias`, 'POST', { name, alias, version });
}
