/**
 * The MLflow Model Registry as a model catalogue, over its REST API (no Python client):
 * the version behind an alias (or a pinned version number), where its files are
 * (`get-download-uri`), and the files themselves through the tracking server's artifact
 * proxy (`mlflow-artifacts:/…`), downloaded whole into the shared model cache
 * (`<cache>/<name>/<version>/`) and loaded from there. Every call goes through a circuit
 * breaker, with a timeout; a registry that is down costs the serving model nothing (the
 * registry keeps it).
 *
 * Every answer is treated as hostile until checked (an intercepted or compromised
 * registry must not reach outside the cache): versions are numbers, file names are plain
 * names, every path is resolved and must stay in the cache, no redirect is followed, and
 * the listing, each JSON answer and the model's files together have size caps. A refused
 * answer is a typed error; the serving model keeps serving.
 */
import type { Logger } from '../logger';
import { StreamingError } from '../errors';
import type { CircuitBreaker } from './circuit-breaker';
import type { ModelCache } from './model-cache';
import type { ModelCatalogue, ResolvedVersion } from './model-registry';
import { DEFAULT_MAX_MODEL_BYTES } from './onnx-model';
import { downloadTo, getJson } from './registry-http';
import { insideDir, isPlainName, isVersionNumber, plainName } from './safe-path';

export interface MlflowCatalogueOptions {
  /** The tracking server, e.g. http://mlflow:5000. */
  trackingUri: string;
  name: string;
  /** Serve the version behind this alias (default "champion")… */
  alias?: string;
  /** …or this version number. */
  version?: string;
  /** Where versions are downloaded: one cache shared by every catalogue of the process (its holds keep served versions). */
  cache: ModelCache;
  breaker: CircuitBreaker;
  /** Timeout of one registry call (default 10 s; a file download, 30 s). */
  timeoutMs?: number;
  /** Largest model accepted, all its files together (bytes; default 512 MiB). */
  maxModelBytes?: number;
  /** Where removals from the cache are reported. */
  log?: Logger;
}

/** Files one model version may have (model.onnx, metadata.json, MLmodel, environment files, external tensor data). */
export const MAX_ARTIFACT_FILES = 1000;

const refused = (
  message: string,
  hint = "the registry's answer was refused; check which server STREAMING_REALTIME_ML__MLFLOW_TRACKING_URI reaches",
): StreamingError => new StreamingError('SA_ERR_MODEL_INVALID', `MLflow: ${message}`, { hint });

export function mlflowCatalogue(o: MlflowCatalogueOptions): ModelCatalogue {
  const name = plainName(o.name, 'the model name', 'STREAMING_REALTIME_ML__MODEL_NAME must be a plain name');
  if (o.version !== undefined && !isVersionNumber(o.version)) {
    throw refused(
      `the pinned version ${JSON.stringify(o.version).slice(0, 40)} is not a version number`,
      'MLflow numbers versions 1, 2, 3, …: set STREAMING_REALTIME_ML__MODEL_VERSION (or VARIANT_VERSION, SHADOW_VERSION) to one of them',
    );
  }
  const base = o.trackingUri.replace(/\/+$/, '');
  const timeoutMs = o.timeoutMs ?? 10_000;
  const downloadTimeoutMs = o.timeoutMs ?? 30_000;
  const maxBytes = o.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
  const get = (path: string): Promise<unknown> => o.breaker.run(() => getJson({ url: `${base}${path}`, timeoutMs }));
  const where = `mlflow ${base} model "${name}" ${o.version ? `version ${o.version}` : `alias "${o.alias ?? 'champion'}"`}`;
  const q = encodeURIComponent;
  return {
    where,
    async resolve(): Promise<ResolvedVersion | undefined> {
      const answer = o.version
        ? await get(`/api/2.0/mlflow/model-versions/get?name=${q(name)}&version=${q(o.version)}`)
        : await get(`/api/2.0/mlflow/registered-models/alias?name=${q(name)}&alias=${q(o.alias ?? 'champion')}`);
      const mv = modelVersionOf(answer);
      if (o.version !== undefined && mv.version !== o.version) throw refused(`asked for version ${o.version}, the registry answered version ${mv.version}`);
      if (mv.status !== undefined && mv.status !== 'READY') return undefined; // still being registered: next poll
      const directory = o.cache.versionDir(name, mv.version);
      // Held from here on: a download for another registry never prunes it away before it loads.
      const release = o.cache.hold(directory);
      let downloaded = false;
      try {
        if (!o.cache.has(directory)) {
          const uri = downloadUriOf(await get(`/api/2.0/mlflow/model-versions/get-download-uri?name=${q(name)}&version=${q(mv.version)}`));
          await o.cache.fill(directory, (partial) => download(uri, partial, { base, timeoutMs, downloadTimeoutMs, maxBytes, breaker: o.breaker }));
          downloaded = true;
        }
      } catch (err) {
        release();
        throw err;
      }
      if (downloaded) {
        const removed = o.cache.prune();
        if (removed.length > 0) o.log?.info({ removed, kept: o.cache.maxVersions }, 'removed old model versions from the download cache');
      }
      return { version: mv.version, directory, fingerprint: `mlflow:${name}:${mv.version}`, release };
    },
  };
}

/** `{model_version: {version, status?}}` with a version number; anything else is refused. */
function modelVersionOf(answer: unknown): { version: string; status?: string } {
  const mv = (answer as { model_version?: { version?: unknown; status?: unknown } } | null)?.model_version;
  if (typeof mv !== 'object' || mv === null) throw refused('the answer holds no model_version');
  if (!isVersionNumber(mv.version))
    throw refused(`the version ${JSON.stringify(mv.version)?.slice(0, 80)} is not a version number (MLflow numbers versions 1, 2, 3, …); refused`);
  if (mv.status !== undefined && typeof mv.status !== 'string') throw refused("the model version's status is not a string");
  return mv.status === undefined ? { version: mv.version } : { version: mv.version, status: mv.status };
}

function downloadUriOf(answer: unknown): string {
  const uri = (answer as { artifact_uri?: unknown } | null)?.artifact_uri;
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > 2048) throw refused('get-download-uri answered no artifact_uri');
  return uri;
}

/**
 * The artifact folder behind an `mlflow-artifacts:/…` URI, as URL path segments: each
 * segment non-empty and not "." or "..", without "\\" or control characters, then
 * percent-encoded — so the URI can only name a folder of the artifact proxy.
 */
function artifactRoot(uri: string): { path: string; urlPath: string } {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri);
  if (!m)
    throw new StreamingError('SA_ERR_MODEL_INVALID', `the model's files are at ${uri.slice(0, 200)}, which this processor cannot fetch`, {
      hint: 'run the MLflow tracking server with --serve-artifacts (artifacts proxied as mlflow-artifacts:/…)',
    });
  const segments = m[1]!.replace(/\/+$/, '').split('/');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this refuses in a path segment.
  if (segments.some((s) => s === '' || s === '.' || s === '..' || /[\u0000-\u001f\u007f\\]/.test(s)))
    throw refused(`the artifact URI ${JSON.stringify(uri).slice(0, 200)} is not a plain folder path; refused`);
  return { path: segments.join('/'), urlPath: segments.map((s) => encodeURIComponent(s)).join('/') };
}

interface Listed {
  name: string;
  size: number | undefined;
}

/** The listing's files: at most MAX_ARTIFACT_FILES, each a plain file name, named once, with a size that fits. */
function filesOf(answer: unknown, maxBytes: number): Listed[] {
  const files = (answer as { files?: unknown } | null)?.files ?? [];
  if (!Array.isArray(files)) throw refused('the artifact listing is not a list');
  if (files.length > MAX_ARTIFACT_FILES) throw refused(`the artifact listing names ${files.length} entries; at most ${MAX_ARTIFACT_FILES} are accepted`);
  const out: Listed[] = [];
  const seen = new Set<string>();
  let declared = 0;
  for (const f of files as unknown[]) {
    const entry = (typeof f === 'object' && f !== null ? f : {}) as { path?: unknown; is_dir?: unknown; file_size?: unknown };
    if (entry.is_dir === true) continue;
    if (!isPlainName(entry.path))
      throw refused(`the artifact listing names a file ${JSON.stringify(entry.path)?.slice(0, 80)}, which is not a plain file name; refused`);
    if (seen.has(entry.path)) throw refused(`the artifact listing names ${entry.path} twice`);
    seen.add(entry.path);
    const size = entry.file_size === undefined ? undefined : Number(entry.file_size);
    if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0))
      throw refused(`the artifact listing gives ${entry.path} the size ${JSON.stringify(entry.file_size)?.slice(0, 40)}`);
    declared += size ?? 0;
    out.push({ name: entry.path, size });
  }
  if (declared > maxBytes) throw tooLarge(`its files declare ${declared} bytes`, maxBytes);
  for (const needed of ['model.onnx', 'metadata.json']) {
    if (!seen.has(needed))
      throw new StreamingError(
        'SA_ERR_MODEL_NOT_FOUND',
        `MLflow: the model version's artifacts hold no ${needed} (${[...seen].join(', ').slice(0, 300) || 'no files'})`,
        { hint: "log model.onnx and metadata.json as the model version's artifacts" },
      );
  }
  return out;
}

const tooLarge = (what: string, maxBytes: number): StreamingError =>
  new StreamingError('SA_ERR_MODEL_INVALID', `MLflow: the model version is larger than ${maxBytes} bytes (${what}); refused`, {
    hint: 'raise STREAMING_REALTIME_ML__MAX_MODEL_BYTES if the model is really that large',
  });

/** Downloads the artifact folder behind an `mlflow-artifacts:/…` URI into `partial` (the cache renames it into place). */
async function download(
  uri: string,
  partial: string,
  o: { base: string; timeoutMs: number; downloadTimeoutMs: number; maxBytes: number; breaker: CircuitBreaker },
): Promise<void> {
  const root = artifactRoot(uri);
  const listing = await o.breaker.run(() =>
    getJson({ url: `${o.base}/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(root.path)}`, timeoutMs: o.timeoutMs }),
  );
  let left = o.maxBytes;
  for (const f of filesOf(listing, o.maxBytes)) {
    const file = insideDir(partial, f.name);
    const url = `${o.base}/api/2.0/mlflow-artifacts/artifacts/${root.urlPath}/${encodeURIComponent(f.name)}`;
    // Each file may take what the files before it left of the model's budget.
    left -= await o.breaker.run(() => downloadTo({ url, timeoutMs: o.downloadTimeoutMs }, file, left));
  }
}
