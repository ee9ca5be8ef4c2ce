/**
 * An ONNX model on onnxruntime-node, loaded from a model directory (`model.onnx` +
 * `metadata.json`) and scored synchronously, many rows per call.
 *
 * Synchronous on purpose: processors run synchronously per batch, and onnxruntime-node's
 * `InferenceSession.run()` is itself a synchronous native call that the public API only
 * defers with setImmediate (microsoft/onnxruntime#26968). We use the package's native
 * session directly (`dist/binding`, typed by the package), pinned with the package
 * version; a test loads a real model through it. Session options are set explicitly:
 * one intra-op thread (the two cores are shared with librdkafka and RocksDB; a small
 * model gains nothing from more), sequential execution, all graph optimisations.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { binding, initOrt, type Binding } from 'onnxruntime-node/dist/binding';
import { StreamingError } from '../errors';
import { parseMetadata, type ModelMetadata } from './metadata';

export interface SessionSettings {
  intraOpThreads: number;
  optimization: 'disabled' | 'basic' | 'extended' | 'all';
}

export const DEFAULT_SESSION: SessionSettings = { intraOpThreads: 1, optimization: 'all' };
const FLOAT32 = 1; // onnxruntime's element type code

/** Largest model.onnx loaded unless told otherwise (STREAMING_REALTIME_ML__MAX_MODEL_BYTES). */
export const DEFAULT_MAX_MODEL_BYTES = 512 * 1024 * 1024;
/** Largest metadata.json read: a real one is a few KB. */
export const MAX_METADATA_BYTES = 1024 * 1024;

export interface LoadLimits {
  /** Largest model.onnx accepted (bytes): a larger one is refused before it is read. */
  maxModelBytes?: number;
}

export class OnnxModel {
  private disposed = false;

  private constructor(
    readonly metadata: ModelMetadata,
    readonly directory: string,
    private readonly session: Binding.InferenceSession,
  ) {}

  /**
   * Loads and checks a model directory; a missing or bad file is a typed error naming it.
   * `version` overrides the metadata's (a registry's own version number is the one
   * predictions should name).
   */
  static load(directory: string, settings: SessionSettings = DEFAULT_SESSION, version?: string, limits: LoadLimits = {}): OnnxModel {
    const modelFile = join(directory, 'model.onnx');
    const metadataFile = join(directory, 'metadata.json');
    const maxModelBytes = limits.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
    // Sizes are checked before anything is read: a huge file must not fill memory first.
    checkFile(directory, modelFile, maxModelBytes, 'raise STREAMING_REALTIME_ML__MAX_MODEL_BYTES if the model is really that large');
    checkFile(directory, metadataFile, MAX_METADATA_BYTES, 'metadata.json describes the model in a few KB (docs/inference.md)');
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(metadataFile, 'utf8'));
    } catch (cause) {
      throw new StreamingError('SA_ERR_MODEL_INVALID', `${metadataFile} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
    const metadata = { ...parseMetadata(raw, metadataFile), ...(version !== undefined ? { version } : {}) };
    initOrt();
    const session = new binding.InferenceSession();
    try {
      session.loadModel(modelFile, {
        intraOpNumThreads: settings.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: settings.optimization,
      });
    } catch (cause) {
      throw new StreamingError('SA_ERR_MODEL_INVALID', `${modelFile} cannot be loaded by onnxruntime: ${(cause as Error).message}`, {
        cause,
        hint: 'the file is damaged or not an ONNX model; export it again (ops/ml/train.py)',
      });
    }
    const model = new OnnxModel(metadata, directory, session);
    try {
      model.checkSignature();
    } catch (err) {
      model.dispose();
      throw err;
    }
    return model;
  }

  get name(): string {
    return this.metadata.name;
  }

  get version(): string {
    return this.metadata.version;
  }

  /** Positive-class probabilities of `rows` rows laid out one after another in `features`. */
  score(features: Float32Array, rows: number): Float32Array {
    if (this.disposed) throw new StreamingError('SA_ERR_INFERENCE_FAILED', `model ${this.name} v${this.version} was unloaded`);
    const width = this.metadata.features.length;
    if (rows === 0) return new Float32Array(0);
    const input = new Tensor('float32', features.subarray(0, rows * width), [rows, width]);
    let out;
    try {
      out = this.session.run({ [this.metadata.input]: input }, { [this.metadata.probabilities]: null }, {})[this.metadata.probabilities];
    } catch (cause) {
      throw new StreamingError('SA_ERR_INFERENCE_FAILED', `model ${this.name} v${this.version} failed on a batch of ${rows}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const probs = (out as Tensor).data as Float32Array;
    const scores = new Float32Array(rows);
    for (let r = 0; r < rows; r++) scores[r] = probs[r * 2 + 1]!;
    return scores;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.session.dispose();
  }

  /** The metadata must match the graph: a float32 input of the feature width, a [rows, 2] probability output. */
  private checkSignature(): void {
    const problem = (message: string): StreamingError =>
      new StreamingError('SA_ERR_MODEL_INVALID', `model ${this.name} v${this.version} in ${this.directory}: ${message}`, {
        hint: "metadata.json must name the graph's input and probability output (export with skl2onnx, zipmap disabled)",
      });
    const input = this.session.inputMetadata.find((m) => m.name === this.metadata.input);
    if (!input) throw problem(`the graph has no input "${this.metadata.input}" (it has ${this.session.inputMetadata.map((m) => m.name).join(', ')})`);
    if (!input.isTensor || input.type !== FLOAT32) throw problem(`input "${input.name}" is not a float32 tensor`);
    const width = input.shape[1];
    if (width !== undefined && width !== -1 && width !== this.metadata.features.length)
      throw problem(`input "${input.name}" takes ${width} features, the metadata lists ${this.metadata.features.length}`);
    const output = this.session.outputMetadata.find((m) => m.name === this.metadata.probabilities);
    if (!output)
      throw problem(`the graph has no output "${this.metadata.probabilities}" (it has ${this.session.outputMetadata.map((m) => m.name).join(', ')})`);
    if (!output.isTensor) throw problem(`output "${output.name}" is not a tensor (a ZipMap? export with zipmap disabled)`);
    if (output.type !== FLOAT32) throw problem(`output "${output.name}" is not a float32 tensor`);
    const classes = output.shape[1];
    if (classes !== undefined && classes !== -1 && classes !== 2)
      throw problem(`output "${output.name}" gives ${classes} columns, not the 2 class probabilities`);
    const probe = this.score(
      Float32Array.from(this.metadata.features, (f) => f.min),
      1,
    );
    if (probe.length !== 1 || !Number.isFinite(probe[0]!)) throw problem('a test row did not give one probability');
  }
}

/** The file exists, is a regular file, and is at most `max` bytes; else a typed error naming it. */
function checkFile(directory: string, file: string, max: number, hint: string): void {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    stat = undefined;
  }
  if (!stat?.isFile())
    throw new StreamingError('SA_ERR_MODEL_NOT_FOUND', `the model directory ${directory} has no ${file.slice(directory.length + 1)}`, {
      hint: 'a model directory holds model.onnx and metadata.json (npm run train writes both)',
    });
  if (stat.size > max)
    throw new StreamingError('SA_ERR_MODEL_INVALID', `${file} is ${stat.size} bytes, more than the ${max} accepted; refused before reading it`, { hint });
}
