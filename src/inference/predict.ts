/**
 * Inline scoring, micro-batched: `stream.process(predict({ model, features }))` holds
 * each record's features back, and scores all of them in one model call when the input
 * batch ends, at the commit, or when `maxBatch` records are waiting — then forwards one
 * prediction per record, in arrival order, inside the same transaction as the input
 * offsets that caused them (the runtime flushes processors before every commit).
 *
 * The model is read once per scored batch, so a batch is scored by one model version
 * and every prediction names it; a hot swap takes effect between batches. Features are
 * checked against that model's metadata first: a record whose features fail goes to the
 * dead-letter topic (SA_ERR_FEATURES_INVALID, with the reason) and is counted, never
 * scored.
 */
import type { Registry } from 'prom-client';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../streams/processor';
import type { StreamRecord } from '../streams/record';
import { writeFeatures, type FeatureValues } from './features';
import { inferenceMetrics, type InferenceMetrics } from './metrics';
import type { OnnxModel } from './onnx-model';
import { murmur2 } from '../query/murmur2';

/** Where the serving model comes from (a fixed model, or a registry that swaps versions). */
export interface ModelSource {
  current(): OnnxModel;
}

export interface Prediction<V> {
  score: number;
  /** The model's positive label when score ≥ threshold, else its negative one. */
  label: string;
  flagged: boolean;
  model: string;
  modelVersion: string;
  threshold: number;
  features: Record<string, number>;
  input: V;
  /** The shadow model's answer on the same record, when `shadow.emit` is set (route it to a shadow topic, never to the predictions topic). */
  shadow?: { score: number; flagged: boolean; label: string; threshold: number; model: string; modelVersion: string };
}

export interface PredictOptions<K, V> {
  model: ModelSource | OnnxModel;
  /** The record's named feature values (names as in the model's metadata). */
  features: (value: V, key: K) => FeatureValues;
  /** Most records scored in one call (default 512). */
  maxBatch?: number;
  /** Where ml_* metrics go (the KafkaStreams instance's `metricsRegistry`); none: not measured. */
  metrics?: Registry;
  /**
   * A/B split: records whose split key hashes into the first `share` (0..1) of the hash
   * space are scored by `model` instead — stably, the same key always on the same side.
   */
  variant?: { model: ModelSource | OnnxModel; share: number };
  /**
   * A shadow model scores every scored record too; its answers go to metrics
   * (`ml_shadow_*`), and onto `Prediction.shadow` when `emit` is set — never in place of
   * the served prediction.
   */
  shadow?: { model: ModelSource | OnnxModel; emit?: boolean };
  /** The string the A/B split hashes (default: String(key)); e.g. the entity of a windowed key. */
  splitKey?: (key: K) => string;
}

const sourceOf = (m: ModelSource | OnnxModel): ModelSource => (typeof (m as ModelSource).current === 'function' ? (m as ModelSource) : { current: () => m as OnnxModel });

export function predict<K, V>(o: PredictOptions<K, V>): ProcessorSupplier<K, V, K, Prediction<V>> {
  const maxBatch = o.maxBatch ?? 512;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TypeError(`predict: maxBatch must be a whole number ≥ 1, not ${String(o.maxBatch)}`);
  if (o.variant && !(o.variant.share >= 0 && o.variant.share <= 1)) throw new TypeError(`predict: variant.share must be between 0 and 1, not ${String(o.variant.share)}`);
  const settings: Settings<K, V> = {
    primary: sourceOf(o.model),
    variant: o.variant ? { source: sourceOf(o.variant.model), below: Math.floor(o.variant.share * 2 ** 32) } : undefined,
    shadow: o.shadow ? { source: sourceOf(o.shadow.model), emit: o.shadow.emit ?? false } : undefined,
    featuresOf: o.features,
    splitKey: o.splitKey ?? ((k) => String(k)),
    maxBatch,
    metrics: o.metrics ? inferenceMetrics(o.metrics) : undefined,
  };
  return () => new PredictProcessor(settings);
}

interface Settings<K, V> {
  primary: ModelSource;
  variant: { source: ModelSource; below: number } | undefined;
  shadow: { source: ModelSource; emit: boolean } | undefined;
  featuresOf: (value: V, key: K) => FeatureValues;
  splitKey: (key: K) => string;
  maxBatch: number;
  metrics: InferenceMetrics | undefined;
}

interface Pending<K, V> {
  record: StreamRecord<K, V>;
  features: FeatureValues;
}

class PredictProcessor<K, V> implements Processor<K, V, K, Prediction<V>> {
  private ctx!: ProcessorContext<K, Prediction<V>>;
  private pending: Pending<K, V>[] = [];
  private rows = new Float32Array(0);

  constructor(private readonly s: Settings<K, V>) {}

  init(context: ProcessorContext<K, Prediction<V>>): void {
    this.ctx = context;
  }

  process(record: StreamRecord<K, V>): void {
    if (record.value === null || record.value === undefined) return;
    this.pending.push({ record, features: this.s.featuresOf(record.value, record.key) });
    if (this.pending.length >= this.s.maxBatch) this.flush();
  }

  /** Scores what is held back — one call per model — and forwards the predictions in arrival order. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const results: (Prediction<V> | undefined)[] = new Array(batch.length);
    const variant = this.s.variant;
    const onVariant = variant ? batch.map((p) => murmur2(Buffer.from(this.s.splitKey(p.record.key))) >>> 0 < variant.below) : undefined;
    const primary = batch.map((_p, i) => i).filter((i) => !onVariant?.[i]);
    this.scoreInto(this.s.primary.current(), batch, primary, results, true);
    if (variant) this.scoreInto(variant.source.current(), batch, batch.map((_p, i) => i).filter((i) => onVariant![i]), results, true);
    if (this.s.shadow) this.shadowScore(this.s.shadow, batch, results);
    results.forEach((value, i) => {
      const { key, timestamp, headers } = batch[i]!.record;
      if (value) this.ctx.forward({ key, value, timestamp, headers });
    });
  }

  /** Validates and scores the records at `indices` with one model call; invalid ones go to the dead-letter topic. */
  private scoreInto(model: OnnxModel, batch: readonly Pending<K, V>[], indices: readonly number[], results: (Prediction<V> | undefined)[], served: boolean): { valid: number[]; scores: Float32Array } | undefined {
    if (indices.length === 0) return undefined;
    const specs = model.metadata.features;
    if (this.rows.length < indices.length * specs.length) this.rows = new Float32Array(Math.max(indices.length, this.s.maxBatch) * specs.length);
    const valid: number[] = [];
    for (const i of indices) {
      const reason = writeFeatures(specs, batch[i]!.features, this.rows, valid.length * specs.length);
      if (reason === undefined) valid.push(i);
      else if (served) this.reject(batch[i]!, reason, model);
    }
    if (valid.length === 0) return undefined;
    const started = performance.now();
    let scores: Float32Array;
    try {
      scores = model.score(this.rows, valid.length);
    } catch (err) {
      this.s.metrics?.failed(model);
      throw err;
    }
    this.s.metrics?.scored(model, valid.length, performance.now() - started, served);
    if (!served) return { valid, scores };
    const { threshold, positiveLabel, negativeLabel } = model.metadata;
    valid.forEach((i, row) => {
      const { record, features } = batch[i]!;
      const score = scores[row]!;
      const flagged = score >= threshold;
      results[i] = { score, label: flagged ? positiveLabel : negativeLabel, flagged, model: model.name, modelVersion: model.version, threshold, features: features as Record<string, number>, input: record.value };
    });
    return undefined;
  }

  /** The shadow model on every record that was served; it never changes what is served. */
  private shadowScore(shadow: { source: ModelSource; emit: boolean }, batch: readonly Pending<K, V>[], results: (Prediction<V> | undefined)[]): void {
    const model = shadow.source.current();
    let scored;
    try {
      scored = this.scoreInto(model, batch, results.flatMap((r, i) => (r ? [i] : [])), results, false);
    } catch {
      return; // a failing shadow is counted (ml_inference_failures_total) and never stops serving
    }
    if (!scored) return;
    const { valid, scores } = scored;
    valid.forEach((i, row) => {
      const r = results[i]!;
      const { threshold, positiveLabel, negativeLabel } = model.metadata;
      const flagged = scores[row]! >= threshold;
      this.s.metrics?.shadow(model, flagged !== r.flagged);
      if (shadow.emit) r.shadow = { score: scores[row]!, flagged, label: flagged ? positiveLabel : negativeLabel, threshold, model: model.name, modelVersion: model.version };
    });
  }

  private reject(p: Pending<K, V>, reason: string, model: OnnxModel): void {
    this.s.metrics?.invalid(model);
    const body = JSON.stringify({ key: p.record.key, features: p.features, reason, model: model.name, modelVersion: model.version });
    this.ctx.deadLetter({ key: p.record.key === null || p.record.key === undefined ? null : Buffer.from(String(p.record.key)), value: Buffer.from(body), timestamp: p.record.timestamp }, 'SA_ERR_FEATURES_INVALID', reason);
  }
}
