/**
 * The MLflow Model Registry as a model catalogue, over its REST API (no Python client):
 * the version behind an alias (or a pinned version number), where its files are
 * (`get-download-uri`), and the files themselves through the tracking server's artifact
 * proxy (`mlflow-artifacts:/…`), downloaded whole into a local cache directory
 * (`<cacheDir>/<name>/<version>/`) and loaded from there. Every call goes through a
 * circuit breaker, with a timeout; a registry that is down costs the serving model
 * nothing (the registry keeps it).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamingError } from '../errors';
import type { CircuitBreaker } from './circuit-breaker';
import type { ModelCatalogue } from './model-registry';

export interface MlflowCatalogueOptions {
  /** The tracking server, e.g. http://mlflow:5000. */
  trackingUri: string;
  name: string;
  /** Serve the version behind this alias (default "champion")… */
  alias?: string;
  /** …or this version number. */
  version?: string;
  cacheDir: string;
  breaker: CircuitBreaker;
  timeoutMs?: number;
}

interface ModelVersion {
  version: string;
  status?: string;
}

export function mlflowCatalogue(o: MlflowCatalogueOptions): ModelCatalogue {
  const base = o.trackingUri.replace(/\/+$/, '');
  const get = <T>(path: string): Promise<T> => o.breaker.run(() => getJson<T>(`${base}${path}`, o.timeoutMs ?? 10_000));
  const where = `mlflow ${base} model "${o.name}" ${o.version ? `version ${o.version}` : `alias "${o.alias ?? 'champion'}"`}`;
  return {
    where,
    async resolve() {
      const name = encodeURIComponent(o.name);
      const mv = o.version
        ? (await get<{ model_version: ModelVersion }>(`/api/2.0/mlflow/model-versions/get?name=${name}&version=${encodeURIComponent(o.version)}`)).model_version
        : (await get<{ model_version: ModelVersion }>(`/api/2.0/mlflow/registered-models/alias?name=${name}&alias=${encodeURIComponent(o.alias ?? 'champion')}`)).model_version;
      if (mv.status && mv.status !== 'READY') return undefined; // still being registered: next poll
      const directory = join(o.cacheDir, o.name, mv.version);
      if (!existsSync(join(directory, 'model.onnx'))) {
        const { artifact_uri: uri } = await get<{ artifact_uri: string }>(`/api/2.0/mlflow/model-versions/get-download-uri?name=${name}&version=${encodeURIComponent(mv.version)}`);
        await download(uri, directory, (path) => o.breaker.run(() => fetchOk(`${base}${path}`, o.timeoutMs ?? 30_000)));
      }
      return { version: mv.version, directory, fingerprint: `mlflow:${o.name}:${mv.version}` };
    },
  };
}

/** Downloads the artifact directory behind an `mlflow-artifacts:/…` URI into `directory`, atomically (a partial download is never loaded). */
async function download(uri: string, directory: string, fetchPath: (path: string) => Promise<Response>): Promise<void> {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri);
  if (!m) throw new StreamingError('SA_ERR_MODEL_INVALID', `the model's files are at ${uri}, which this processor cannot fetch`, { hint: 'run the MLflow tracking server with --serve-artifacts (artifacts proxied as mlflow-artifacts:/…)' });
  const root = m[1]!.replace(/\/+$/, '');
  const partial = `${directory}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const listing = (await (await fetchPath(`/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(root)}`)).json()) as { files?: { path: string; is_dir?: boolean }[] };
  const files = (listing.files ?? []).filter((f) => !f.is_dir);
  if (!files.some((f) => f.path.endsWith('model.onnx'))) throw new StreamingError('SA_ERR_MODEL_NOT_FOUND', `the artifacts at ${uri} hold no model.onnx (${files.map((f) => f.path).join(', ') || 'no files'})`, { hint: 'log model.onnx and metadata.json as the model version\'s artifacts' });
  for (const f of files) {
    const name = f.path.split('/').pop()!;
    const body = Buffer.from(await (await fetchPath(`/api/2.0/mlflow-artifacts/artifacts/${root}/${encodeURIComponent(name)}`)).arrayBuffer());
    writeFileSync(join(partial, name), body);
  }
  rmSync(directory, { recursive: true, force: true });
  renameSync(partial, directory);
}

async function fetchOk(url: string, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    throw new StreamingError('SA_ERR_MODEL_REGISTRY_UNAVAILABLE', `the model registry did not answer (${url}): ${(cause as Error).message}`, { cause });
  }
  if (res.status === 404) throw new StreamingError('SA_ERR_MODEL_NOT_FOUND', `the model registry has no ${url.replace(/^.*\/api\/2\.0/, '')}: ${await res.text()}`, { hint: 'check the model name, alias or version' });
  if (!res.ok) throw new StreamingError('SA_ERR_MODEL_REGISTRY_UNAVAILABLE', `the model registry answered HTTP ${res.status} to ${url}: ${(await res.text()).slice(0, 300)}`);
  return res;
}

async function getJson<T>(url: string, timeoutMs: number): Promise<T> {
  return (await (await fetchOk(url, timeoutMs)).json()) as T;
}
