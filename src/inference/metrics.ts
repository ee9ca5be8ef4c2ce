/**
 * Inference metrics (prom-client), one set per registry:
 *   ml_inference_duration_ms{model, version, per}  — per="batch": one model call; per="record": that call ÷ its rows
 *   ml_inference_batch_size{model}                 — rows per model call
 *   ml_predictions_total{model, version}
 *   ml_inference_failures_total{model, version}    — model calls that threw
 *   ml_invalid_features_total{model}               — records sent to the dead-letter topic instead of being scored
 *   ml_model_info{model, version}                  — 1 for the version that scored last
 *   ml_shadow_predictions_total{model, version}    — records a shadow model scored beside the served one
 *   ml_shadow_disagreements_total{model, version}  — …where it flagged differently (÷ the above: the disagreement rate)
 *   ml_inference_over_budget_total{model}          — model calls longer than the latency budget
 *   ml_inference_effective_batch_size{task}        — rows the budget lets into one call now (≤ maxBatch)
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OnnxModel } from './onnx-model';

export interface InferenceMetrics {
  /** A model call; `served`: its predictions go out (a shadow's do not: they count in ml_shadow_* only). */
  scored(model: OnnxModel, rows: number, ms: number, served: boolean): void;
  failed(model: OnnxModel): void;
  invalid(model: OnnxModel): void;
  shadow(model: OnnxModel, disagreed: boolean): void;
  overBudget(model: OnnxModel): void;
  /** The batch size the latency budget allows one task now. */
  batchSize(task: string, rows: number): void;
}

const byRegistry = new WeakMap<Registry, InferenceMetrics>();

export function inferenceMetrics(registry: Registry): InferenceMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const duration = new Histogram({
    name: 'ml_inference_duration_ms',
    help: 'Model call duration (ms): per="batch" for one call, per="record" for that call divided by its rows.',
    labelNames: ['model', 'version', 'per'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000],
    registers,
  }); // above the 50 ms budget and alert
  const batchSize = new Histogram({
    name: 'ml_inference_batch_size',
    help: 'Rows scored in one model call.',
    labelNames: ['model'],
    buckets: [1, 4, 16, 64, 128, 256, 512, 1024, 4096],
    registers,
  });
  const predictions = new Counter({ name: 'ml_predictions_total', help: 'Predictions made, by model version.', labelNames: ['model', 'version'], registers });
  const failures = new Counter({ name: 'ml_inference_failures_total', help: 'Model calls that failed.', labelNames: ['model', 'version'], registers });
  const invalid = new Counter({
    name: 'ml_invalid_features_total',
    help: "Records whose features failed the model's metadata (sent to the dead-letter topic, not scored).",
    labelNames: ['model'],
    registers,
  });
  const info = new Gauge({
    name: 'ml_model_info',
    help: 'The model version that scored most recently (value 1).',
    labelNames: ['model', 'version'],
    registers,
    // Stream threads (processes) each report it: across them it is still 1, not a count.
    aggregator: 'max',
  });
  const shadowed = new Counter({
    name: 'ml_shadow_predictions_total',
    help: 'Records a shadow model scored beside the served model.',
    labelNames: ['model', 'version'],
    registers,
  });
  const disagreements = new Counter({
    name: 'ml_shadow_disagreements_total',
    help: 'Shadow-scored records the shadow model flagged differently from the served model.',
    labelNames: ['model', 'version'],
    registers,
  });
  const overBudget = new Counter({
    name: 'ml_inference_over_budget_total',
    help: 'Model calls that took longer than the latency budget (STREAMING_REALTIME_ML__MAX_LATENCY_MS); the next calls score smaller batches.',
    labelNames: ['model'],
    registers,
  });
  const effective = new Gauge({
    name: 'ml_inference_effective_batch_size',
    help: 'Most records one model call scores now, per task: the latency budget halves it after a slow call and grows it back while calls stay under.',
    labelNames: ['task'],
    registers,
  });
  const serving = new Map<string, string>();
  const metrics: InferenceMetrics = {
    scored(model, rows, ms, served) {
      const labels = { model: model.name, version: model.version };
      duration.observe({ ...labels, per: 'batch' }, ms);
      duration.observe({ ...labels, per: 'record' }, ms / rows);
      batchSize.observe({ model: model.name }, rows);
      if (!served) return;
      predictions.inc(labels, rows);
      if (serving.get(model.name) !== model.version) {
        failures.inc(labels, 0); // a series from the first call, so the failure ratio is 0 rather than missing
        const previous = serving.get(model.name);
        if (previous !== undefined) info.remove({ model: model.name, version: previous });
        serving.set(model.name, model.version);
        info.set(labels, 1);
      }
    },
    failed: (model) => failures.inc({ model: model.name, version: model.version }),
    invalid: (model) => invalid.inc({ model: model.name }),
    overBudget: (model) => overBudget.inc({ model: model.name }),
    batchSize: (task, rows) => effective.set({ task }, rows),
    shadow(model, disagreed) {
      const labels = { model: model.name, version: model.version };
      shadowed.inc(labels);
      if (disagreed) disagreements.inc(labels);
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
