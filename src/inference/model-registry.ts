/**
 * The serving model, and how it changes: a ModelRegistry loads a model from a catalogue
 * (a local models directory now; the MLflow registry implements the same interface),
 * polls it for a newer version, and swaps the new one in atomically — `current()` returns
 * the old model until the new one has loaded and passed its checks, then the new one.
 * Scoring is synchronous and swaps happen on a timer, so no batch is ever scored by two
 * versions, and none is lost. A version that fails to load leaves the serving one in
 * place (a warning and `ml_model_load_failures_total`), and is not tried again until its
 * files change.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import { StreamingError } from '../errors';
import type { Logger } from '../logger';
import { DEFAULT_MAX_MODEL_BYTES, OnnxModel, type SessionSettings } from './onnx-model';
import type { ModelSource } from './predict';
import { insideDir, isPlainName, plainName } from './safe-path';

/** A version a catalogue found: its files in a local directory. */
export interface ResolvedVersion {
  version: string;
  directory: string;
  /** Changes when the version's files change: a new candidate. */
  fingerprint: string;
  /**
   * Ends the hold on the version's files that `resolve()` took (a download cache keeps
   * held versions): call it once the version is not served, or when it is not taken.
   */
  release?: () => void;
}

/** Where versions of a model come from. */
export interface ModelCatalogue {
  /** Human description for logs ("models/anomaly-detector", "mlflow http://…"). */
  readonly where: string;
  /** The version to serve now and a local directory holding its files (fetched if needed), or undefined if there is none. */
  resolve(): Promise<ResolvedVersion | undefined>;
}

/**
 * Versions in `<root>/<name>/<version>/`; the highest version (numerically where possible)
 * is served, or a pinned one. Names starting with "." are ignored: copy a new version in
 * under such a name and rename it, so a poll never sees half a version. The name and a
 * pinned version come from configuration: each must be a plain name (never "." or ".."),
 * and the directory must lie inside `root`.
 */
export function localCatalogue(root: string, name: string, pinned?: string): ModelCatalogue {
  const dir = insideDir(root, plainName(name, 'the model name', 'STREAMING_REALTIME_ML__MODEL_NAME must be a plain name'));
  if (pinned !== undefined)
    plainName(
      pinned,
      'the pinned model version',
      "STREAMING_REALTIME_ML__MODEL_VERSION (or VARIANT_VERSION, SHADOW_VERSION) must name a folder of the model's directory",
    );
  return {
    where: dir,
    async resolve() {
      let versions: string[];
      try {
        versions = readdirSync(dir).filter((v) => !v.startsWith('.') && isPlainName(v) && statSync(join(dir, v)).isDirectory());
      } catch {
        return undefined;
      }
      const version = pinned ?? versions.sort(compareVersions).at(-1);
      if (version === undefined || !versions.includes(version)) return undefined;
      const directory = insideDir(dir, version);
      return { version, directory, fingerprint: fingerprint(directory) };
    },
  };
}

export interface ModelRegistryOptions {
  catalogue: ModelCatalogue;
  log: Logger;
  /** How often to look for a new version (ms, default 30 000; 0: never). */
  pollMs?: number;
  session?: SessionSettings;
  metrics?: Registry;
  /** Largest model.onnx loaded (bytes; default 512 MiB): a larger one is refused before it is read. */
  maxModelBytes?: number;
}

export class ModelRegistry implements ModelSource {
  private serving: OnnxModel;
  private servingFingerprint: string;
  /** Ends the hold on the serving version's files (a download cache must not remove them). */
  private servingRelease: (() => void) | undefined;
  private failed: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;
  private readonly loadFailures: Counter<'model'> | undefined;

  private constructor(
    private readonly o: ModelRegistryOptions,
    first: { model: OnnxModel; found: ResolvedVersion },
  ) {
    this.serving = first.model;
    this.servingFingerprint = first.found.fingerprint;
    this.servingRelease = first.found.release;
    this.loadFailures = o.metrics ? loadFailureCounter(o.metrics) : undefined;
    const every = o.pollMs ?? 30_000;
    if (every > 0) this.timer = setInterval(() => void this.poll(), every).unref();
  }

  /** Loads the version to serve; without one that loads, there is nothing to serve: a typed error. */
  static async open(o: ModelRegistryOptions): Promise<ModelRegistry> {
    const found = await o.catalogue.resolve();
    if (!found)
      throw new StreamingError('SA_ERR_MODEL_NOT_FOUND', `no model version found in ${o.catalogue.where}`, {
        hint: 'a models directory holds <name>/<version>/ with model.onnx and metadata.json (npm run train writes one)',
      });
    const started = Date.now();
    o.log.info({ where: o.catalogue.where, version: found.version }, 'loading model');
    let model: OnnxModel;
    try {
      model = OnnxModel.load(found.directory, o.session, found.version, { maxModelBytes: o.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES });
    } catch (err) {
      found.release?.();
      throw err;
    }
    o.log.info(
      { model: model.name, version: model.version, features: model.metadata.features.length, threshold: model.metadata.threshold, ms: Date.now() - started },
      'model loaded',
    );
    return new ModelRegistry(o, { model, found });
  }

  current(): OnnxModel {
    return this.serving;
  }

  /** Looks for a newer version once (the timer calls it; tests may too). Never throws. */
  async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const found = await this.o.catalogue.resolve();
      if (!found) return;
      if (this.closed || found.fingerprint === this.servingFingerprint || found.fingerprint === this.failed) found.release?.();
      else this.swapTo(found);
    } catch (err) {
      this.o.log.warn({ err, where: this.o.catalogue.where }, 'looking for a new model version failed; the current one keeps serving');
    } finally {
      this.polling = false;
    }
  }

  private swapTo(found: ResolvedVersion): void {
    let next: OnnxModel;
    try {
      next = OnnxModel.load(found.directory, this.o.session, found.version, { maxModelBytes: this.o.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES });
    } catch (err) {
      found.release?.();
      this.failed = found.fingerprint;
      this.loadFailures?.inc({ model: this.serving.name });
      this.o.log.warn({ err, version: found.version, serving: this.serving.version }, 'a new model version failed to load; the current one keeps serving');
      return;
    }
    const previous = this.serving;
    const previousRelease = this.servingRelease;
    this.serving = next;
    this.servingFingerprint = found.fingerprint;
    this.servingRelease = found.release;
    this.failed = undefined;
    previous.dispose();
    previousRelease?.();
    this.o.log.info({ model: next.name, from: previous.version, to: next.version }, 'model swapped');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.serving.dispose();
    this.servingRelease?.();
  }
}

const counters = new WeakMap<Registry, Counter<'model'>>();
function loadFailureCounter(registry: Registry): Counter<'model'> {
  let c = counters.get(registry);
  if (!c)
    counters.set(
      registry,
      (c = new Counter({
        name: 'ml_model_load_failures_total',
        help: 'Model versions that failed to load (the serving version stayed).',
        labelNames: ['model'],
        registers: [registry],
      })),
    );
  return c;
}

/** Numeric versions in numeric order, others after them in string order. */
function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  if (Number.isFinite(na)) return -1;
  if (Number.isFinite(nb)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Version directory + its files' sizes and modification times: a changed file is a new candidate. */
function fingerprint(directory: string): string {
  const parts = [directory];
  for (const f of ['model.onnx', 'metadata.json']) {
    try {
      const s = statSync(join(directory, f));
      parts.push(`${f}:${s.size}:${s.mtimeMs}`);
    } catch {
      parts.push(`${f}:missing`);
    }
  }
  return parts.join('|');
}
