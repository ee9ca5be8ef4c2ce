/**
 * Inline scoring, micro-batched: `stream.process(predict({ model, features }))` holds
 * each record's features back, and scores all of them in one model call when the input
 * batch ends, at the commit, or when `maxBatch` records are waiting — then forwards one
 * prediction per record, in arrival order, inside the same transaction as the input
 * offsets that caused them (the runtime flushes processors before every commit).
 *
 * With a latency budget (`maxLatencyMs`), a model call over it is counted and the next
 * calls take smaller chunks of what is held back (src/inference/latency-budget.ts): the
 * batch is then scored in several calls, one after the other, and forwarded in the same
 * order — nothing is dropped or scored twice.
 *
 * The model is read once per scored chunk, so a chunk is scored by one model version
 * and every prediction names it; a hot swap takes effect between chunks. Features are
 * checked against that model's metadata first: a record whose features fail goes to the
 * dead-letter topic (SA_ERR_FEATURES_INVALID, with the reason) and is counted, never
 * scored.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../streams/processor-api/processor';
import type { StreamRecord } from '../streams/processor-api/record';
import { writeFeatures, type FeatureValues } from './features';
import { LatencyBudget } from './latency-budget';
import { inferenceMetrics, type InferenceMetrics } from './metrics';
import type { OnnxModel } from './onnx-model';
import { murmur2 } from '../partitioner';

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
  /**
   * Latency budget of one model call (ms; default none). A call over it is counted
   * (`ml_inference_over_budget_total{model}`) and the next calls score smaller batches —
   * halved, then grown back step by step while calls stay under (between 1 and
   * `maxBatch`; `ml_inference_effective_batch_size{task}`) — with a warning at most once
   * a minute.
   */
  maxLatencyMs?: number;
  /** Where the over-budget warning goes. */
  log?: Logger;
  /** Milliseconds for timing model calls (default performance.now); tests inject one. */
  clock?: () => number;
}

const sourceOf = (m: ModelSource | OnnxModel): ModelSource =>
  typeof (m as ModelSource).current === 'function' ? (m as ModelSource) : { current: () => m as OnnxModel };

export function predict<K, V>(o: PredictOptions<K, V>): ProcessorSupplier<K, V, K, Prediction<V>> {
  const maxBatch = o.maxBatch ?? 512;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TypeError(`predict: maxBatch must be a whole number ≥ 1, not ${String(o.maxBatch)}`);
  if (o.maxLatencyMs !== undefined && !(o.maxLatencyMs > 0)) throw new TypeError(`predict: maxLatencyMs must be a number > 0, not ${String(o.maxLatencyMs)}`);
  if (o.variant && !(o.variant.share >= 0 && o.variant.share <= 1))
    throw new TypeError(`predict: variant.share must be between 0 and 1, not ${String(o.variant.share)}`);
  const settings: Settings<K, V> = {
    primary: sourceOf(o.model),
    variant: o.variant ? { source: sourceOf(o.variant.model), below: Math.floor(o.variant.share * 2 ** 32) } : undefined,
    shadow: o.shadow ? { source: sourceOf(o.shadow.model), emit: o.shadow.emit ?? false } : undefined,
    featuresOf: o.features,
    splitKey: o.splitKey ?? ((k) => String(k)),
    maxBatch,
    maxLatencyMs: o.maxLatencyMs ?? Infinity,
    metrics: o.metrics ? inferenceMetrics(o.metrics) : undefined,
    log: o.log,
    clock: o.clock ?? (() => performance.now()),
    warnedAt: -Infinity,
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
  maxLatencyMs: number;
  metrics: InferenceMetrics | undefined;
  log: Logger | undefined;
  clock: () => number;
  /** When the last over-budget warning was logged (shared by the supplier's processors: one warning a minute in all). */
  warnedAt: number;
}

const WARN_EVERY_MS = 60_000;

interface Pending<K, V> {
  record: StreamRecord<K, V>;
  features: FeatureValues;
}

class PredictProcessor<K, V> implements Processor<K, V, K, Prediction<V>> {
  private ctx!: ProcessorContext<K, Prediction<V>>;
  private pending: Pending<K, V>[] = [];
  private rows = new Float32Array(0);
  private readonly budget: LatencyBudget;
  /** Models whose call in the current chunk went over the budget. */
  private over: { model: OnnxModel; ms: number }[] = [];

  constructor(private readonly s: Settings<K, V>) {
    this.budget = new LatencyBudget(s.maxLatencyMs, s.maxBatch);
  }

  init(context: ProcessorContext<K, Prediction<V>>): void {
    this.ctx = context;
    this.s.metrics?.batchSize(context.taskId, this.budget.batchSize);
  }

  process(record: StreamRecord<K, V>): void {
    if (record.value === null || record.value === undefined) return;
    this.pending.push({ record, features: this.s.featuresOf(record.value, record.key) });
    if (this.pending.length >= this.budget.batchSize) this.flush();
  }

  /** Scores what is held back — in chunks of the current batch size, one call per model and chunk — and forwards the predictions in arrival order. */
  flush(): void {
    if (this.pending.length === 0) return;
    const all = this.pending;
    this.pending = [];
    for (let from = 0; from < all.length; ) {
      const chunk = all.slice(from, from + this.budget.batchSize);
      from += chunk.length;
      this.scoreChunk(chunk);
    }
  }

  private scoreChunk(batch: Pending<K, V>[]): void {
    this.over = [];
    const results: (Prediction<V> | undefined)[] = new Array(batch.length);
    const variant = this.s.variant;
    const onVariant = variant ? batch.map((p) => murmur2(Buffer.from(this.s.splitKey(p.record.key))) >>> 0 < variant.below) : undefined;
    const primary = batch.map((_p, i) => i).filter((i) => !onVariant?.[i]);
    try {
      this.scoreInto(this.s.primary.current(), batch, primary, results, true);
      if (variant)
        this.scoreInto(
          variant.source.current(),
          batch,
          batch.map((_p, i) => i).filter((i) => onVariant![i]),
          results,
          true,
        );
      if (this.s.shadow) this.shadowScore(this.s.shadow, batch, results);
    } finally {
      this.adapt(batch.length);
    }
    results.forEach((value, i) => {
      const { key, timestamp, headers } = batch[i]!.record;
      if (value) this.ctx.forward({ key, value, timestamp, headers });
    });
  }

  /** After a chunk: the budget's next batch size, and a warning (at most once a minute) when a call was over. */
  private adapt(rows: number): void {
    const before = this.budget.batchSize;
    if (this.budget.after(rows, this.over.length > 0)) this.s.metrics?.batchSize(this.ctx.taskId, this.budget.batchSize);
    const slowest = this.over.sort((a, b) => b.ms - a.ms)[0];
    if (!slowest || !this.s.log) return;
    const now = this.s.clock();
    if (now - this.s.warnedAt < WARN_EVERY_MS) return;
    this.s.warnedAt = now;
    this.s.log.warn(
      {
        model: slowest.model.name,
        version: slowest.model.version,
        ms: Math.round(slowest.ms * 100) / 100,
        rows,
        budgetMs: this.s.maxLatencyMs,
        batchSize: { from: before, to: this.budget.batchSize },
        task: this.ctx.taskId,
      },
      'a model call took longer than the latency budget (STREAMING_REALTIME_ML__MAX_LATENCY_MS); scoring smaller batches',
    );
  }

  /** Validates and scores the records at `indices` with one model call; invalid ones go to the dead-letter topic. */
  private scoreInto(
    model: OnnxModel,
    batch: readonly Pending<K, V>[],
    indices: readonly number[],
    results: (Prediction<V> | undefined)[],
    served: boolean,
  ): { valid: number[]; scores: Float32Array } | undefined {
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
    const started = this.s.clock();
    let scores: Float32Array;
    try {
      scores = model.score(this.rows, valid.length);
    } catch (err) {
      this.s.metrics?.failed(model);
      throw err;
    }
    const ms = this.s.clock() - started;
    this.s.metrics?.scored(model, valid.length, ms, served);
    if (this.budget.isOver(ms)) {
      this.over.push({ model, ms });
      this.s.metrics?.overBudget(model);
    }
    if (!served) return { valid, scores };
    const { threshold, positiveLabel, negativeLabel } = model.metadata;
    valid.forEach((i, row) => {
      const { record, features } = batch[i]!;
      const score = scores[row]!;
      const flagged = score >= threshold;
      results[i] = {
        score,
        label: flagged ? positiveLabel : negativeLabel,
        flagged,
        model: model.name,
        modelVersion: model.version,
        threshold,
        features: features as Record<string, number>,
        input: record.value,
      };
    });
    return undefined;
  }

  /** The shadow model on every record that was served; it never changes what is served. */
  private shadowScore(shadow: { source: ModelSource; emit: boolean }, batch: readonly Pending<K, V>[], results: (Prediction<V> | undefined)[]): void {
    const model = shadow.source.current();
    let scored;
    try {
      scored = this.scoreInto(
        model,
        batch,
        results.flatMap((r, i) => (r ? [i] : [])),
        results,
        false,
      );
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
      if (shadow.emit)
        r.shadow = { score: scores[row]!, flagged, label: flagged ? positiveLabel : negativeLabel, threshold, model: model.name, modelVersion: model.version };
    });
  }

  private reject(p: Pending<K, V>, reason: string, model: OnnxModel): void {
    this.s.metrics?.invalid(model);
    const body = JSON.stringify({ key: p.record.key, features: p.features, reason, model: model.name, modelVersion: model.version });
    this.ctx.deadLetter(
      {
        key: p.record.key === null || p.record.key === undefined ? null : Buffer.from(String(p.record.key)),
        value: Buffer.from(body),
        timestamp: p.record.timestamp,
      },
      'SA_ERR_FEATURES_INVALID',
      reason,
    );
  }
}
