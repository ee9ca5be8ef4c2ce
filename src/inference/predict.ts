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
}

export interface PredictOptions<K, V> {
  model: ModelSource | OnnxModel;
  /** The record's named feature values (names as in the model's metadata). */
  features: (value: V, key: K) => FeatureValues;
  /** Most records scored in one call (default 512). */
  maxBatch?: number;
  /** Where ml_* metrics go (the KafkaStreams instance's `metricsRegistry`); none: not measured. */
  metrics?: Registry;
}

const isSource = (m: ModelSource | OnnxModel): m is ModelSource => typeof (m as ModelSource).current === 'function';

export function predict<K, V>(o: PredictOptions<K, V>): ProcessorSupplier<K, V, K, Prediction<V>> {
  const source: ModelSource = isSource(o.model) ? o.model : { current: () => o.model as OnnxModel };
  const maxBatch = o.maxBatch ?? 512;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TypeError(`predict: maxBatch must be a whole number ≥ 1, not ${String(o.maxBatch)}`);
  const metrics = o.metrics ? inferenceMetrics(o.metrics) : undefined;
  return () => new PredictProcessor(source, o.features, maxBatch, metrics);
}

interface Pending<K, V> {
  record: StreamRecord<K, V>;
  features: FeatureValues;
}

class PredictProcessor<K, V> implements Processor<K, V, K, Prediction<V>> {
  private ctx!: ProcessorContext<K, Prediction<V>>;
  private pending: Pending<K, V>[] = [];
  private rows = new Float32Array(0);

  constructor(private readonly source: ModelSource, private readonly featuresOf: (value: V, key: K) => FeatureValues, private readonly maxBatch: number, private readonly metrics: InferenceMetrics | undefined) {}

  init(context: ProcessorContext<K, Prediction<V>>): void {
    this.ctx = context;
  }

  process(record: StreamRecord<K, V>): void {
    if (record.value === null || record.value === undefined) return;
    this.pending.push({ record, features: this.featuresOf(record.value, record.key) });
    if (this.pending.length >= this.maxBatch) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const model = this.source.current();
    const specs = model.metadata.features;
    if (this.rows.length < batch.length * specs.length) this.rows = new Float32Array(Math.max(batch.length, this.maxBatch) * specs.length);
    const scored: Pending<K, V>[] = [];
    for (const p of batch) {
      const reason = writeFeatures(specs, p.features, this.rows, scored.length * specs.length);
      if (reason === undefined) scored.push(p);
      else this.reject(p, reason, model);
    }
    if (scored.length === 0) return;
    const started = performance.now();
    let scores: Float32Array;
    try {
      scores = model.score(this.rows, scored.length);
    } catch (err) {
      this.metrics?.failed(model);
      throw err;
    }
    this.metrics?.scored(model, scored.length, performance.now() - started);
    const { threshold, positiveLabel, negativeLabel } = model.metadata;
    for (let i = 0; i < scored.length; i++) {
      const { record, features } = scored[i]!;
      const score = scores[i]!;
      const flagged = score >= threshold;
      const value: Prediction<V> = { score, label: flagged ? positiveLabel : negativeLabel, flagged, model: model.name, modelVersion: model.version, threshold, features: features as Record<string, number>, input: record.value };
      this.ctx.forward({ key: record.key, value, timestamp: record.timestamp, headers: record.headers });
    }
  }

  private reject(p: Pending<K, V>, reason: string, model: OnnxModel): void {
    this.metrics?.invalid(model);
    const body = JSON.stringify({ key: p.record.key, features: p.features, reason, model: model.name, modelVersion: model.version });
    this.ctx.deadLetter({ key: p.record.key === null || p.record.key === undefined ? null : Buffer.from(String(p.record.key)), value: Buffer.from(body), timestamp: p.record.timestamp }, 'SA_ERR_FEATURES_INVALID', reason);
  }
}
