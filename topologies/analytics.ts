/**
 * The analytics topology — the product's main job:
 *
 *   analytics-events (Avro, keyed by entity_id)
 *     → validate (bad events to the dead-letter topic, SA_ERR_EVENT_INVALID)
 *     → per entity, 1-minute tumbling windows: the window features (store `entity-features-1m`)
 *         → predict (micro-batched, exactly once) → ml-predictions (Avro)
 *                                                 → streaming-alerts (Avro) when flagged
 *   and every `summaryIntervalMs` of wall-clock time, per task, a throughput/latency
 *   summary of that interval → streaming-metrics (JSON).
 *
 * A window is scored each time its features change — once per commit, through the
 * store's cache — so predictions follow a window as it fills; each names the model
 * version that made it. The store is queryable over HTTP.
 *
 * There is no separately materialised 5-minute hopping window: a 5-minute window hopping
 * by the minute is exactly five consecutive 1-minute windows (counts and sums add, maxima
 * take the max, distinct lists unite), which a range query of this store returns. Keeping
 * it as its own store meant five more window updates per event; measured, that halved
 * the pipeline's throughput (docs/inference.md).
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../src/logger';
import type { AnalyticsEvent } from './event';
import { predict, type ModelSource, type Prediction } from '../src/inference/predict';
import { Serdes, type Serde } from '../src/serdes';
import { StreamsBuilder } from '../src/streams/dsl/builder';
import type { Topology } from '../src/streams/dsl/topology';
import type { Windowed } from '../src/streams/dsl/windows';
import { TimeWindows } from '../src/streams/dsl/windows';
import { addEvent, emptyAggregate, featureVector, type WindowAggregate } from './features';
import { summaries, validateEvents, type Summary } from './analytics-processors';

export interface MlPrediction {
  entity_id: string;
  window_start: number;
  window_end: number;
  score: number;
  label: string;
  flagged: boolean;
  threshold: number;
  model_name: string;
  model_version: string;
  features: Record<string, number>;
  event_time: number;
  processing_time: number;
}

export interface StreamingAlert {
  alert_id: string;
  entity_id: string;
  kind: string;
  severity: 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
  score: number;
  threshold: number;
  window_start: number;
  window_end: number;
  model_name: string;
  model_version: string;
  event_time: number;
  message: string;
}

export interface AnalyticsTopologyOptions {
  topics: { events: string; predictions: string; alerts: string; metrics: string };
  serdes: { event: Serde<AnalyticsEvent | null>; prediction: Serde<MlPrediction | null>; alert: Serde<StreamingAlert | null> };
  model: ModelSource;
  /** A/B: this share (0..1) of the entities is scored by `variant.model` instead (stable per entity). */
  variant?: { model: ModelSource; share: number };
  /** Shadow: every scored window is also scored by `shadow.model`; its answers go to metrics, and to `shadow.topic` when given — never to the predictions topic. */
  shadow?: { model: ModelSource; topic?: string };
  /** Where ml_* metrics go (the instance's registry). */
  metrics?: Registry;
  /** Feature window (default 1 minute) and its grace period (default 10 s). */
  windowMs?: number;
  graceMs?: number;
  maxBatch?: number;
  /** Latency budget of one model call (ms; default none): see `predict()`'s `maxLatencyMs` (STREAMING_REALTIME_ML__MAX_LATENCY_MS). */
  maxLatencyMs?: number;
  /** Where the over-budget warning goes. */
  log?: Logger;
  /** Wall-clock interval of the streaming-metrics summaries (default 10 s; STREAMING_MONITORING__METRICS_INTERVAL_SECONDS × 1000). */
  summaryIntervalMs?: number;
  /** Wall-clock time (ms): event validation, processing times, summaries. */
  clock?: () => number;
  /** Milliseconds for timing model calls against the budget (default performance.now). */
  inferenceClock?: () => number;
}

export const FEATURE_STORE = 'entity-features-1m';

export function analyticsTopology(o: AnalyticsTopologyOptions): Topology {
  const S = Serdes.String();
  const windowMs = o.windowMs ?? 60_000;
  const summaryIntervalMs = o.summaryIntervalMs ?? 10_000;
  if (!Number.isInteger(summaryIntervalMs) || summaryIntervalMs < 1)
    throw new TypeError(`analyticsTopology: summaryIntervalMs must be a whole number of ms ≥ 1, not ${String(o.summaryIntervalMs)}`);
  const clock = o.clock ?? Date.now;
  const b = new StreamsBuilder();
  const stats = new Map<string, { events: number }>();
  const events = b.stream(o.topics.events, { keySerde: S, valueSerde: o.serdes.event }).processValues(validateEvents(stats, clock));
  const scored = events
    .groupByKey({ keySerde: S })
    .windowedBy(TimeWindows.ofSizeAndGrace(windowMs, o.graceMs ?? 10_000))
    .aggregate(emptyAggregate, (_k, e, a) => addEvent(a, e), { name: FEATURE_STORE, valueSerde: Serdes.Json<WindowAggregate>() })
    .toStream()
    .process(
      predict<Windowed<string>, WindowAggregate>({
        model: o.model,
        features: (a) => featureVector(a, windowMs),
        splitKey: (w) => w.key,
        ...(o.variant ? { variant: o.variant } : {}),
        ...(o.shadow ? { shadow: { model: o.shadow.model, emit: o.shadow.topic !== undefined } } : {}),
        ...(o.maxBatch ? { maxBatch: o.maxBatch } : {}),
        ...(o.maxLatencyMs !== undefined ? { maxLatencyMs: o.maxLatencyMs } : {}),
        ...(o.log ? { log: o.log } : {}),
        ...(o.inferenceClock ? { clock: o.inferenceClock } : {}),
        ...(o.metrics ? { metrics: o.metrics } : {}),
      }),
    );
  const shadowTopic = o.shadow?.topic;
  if (shadowTopic) {
    const asServed = (p: Prediction<WindowAggregate>): Prediction<WindowAggregate> => ({
      ...p,
      ...p.shadow!,
      model: p.shadow!.model,
      modelVersion: p.shadow!.modelVersion,
    });
    scored
      .flatMap((w, p): [string, MlPrediction][] => (p.shadow ? [[w.key, toPrediction(w, asServed(p), clock())]] : []))
      .to(shadowTopic, { keySerde: S, valueSerde: o.serdes.prediction as Serde<MlPrediction> });
  }
  const predictions = scored.map((w, p): [string, MlPrediction] => [w.key, toPrediction(w, p, clock())]);
  predictions.to(o.topics.predictions, { keySerde: S, valueSerde: o.serdes.prediction as Serde<MlPrediction> });
  predictions
    .filter((_k, p) => p.flagged)
    .mapValues(toAlert)
    .to(o.topics.alerts, { keySerde: S, valueSerde: o.serdes.alert as Serde<StreamingAlert> });
  predictions.processValues(summaries(stats, summaryIntervalMs, clock)).to(o.topics.metrics, { keySerde: S, valueSerde: Serdes.Json<Summary>() });
  return b.build();
}

function toPrediction(w: Windowed<string>, p: Prediction<WindowAggregate>, now: number): MlPrediction {
  return {
    entity_id: w.key,
    window_start: w.window.start,
    window_end: w.window.end,
    score: p.score,
    label: p.label,
    flagged: p.flagged,
    threshold: p.threshold,
    model_name: p.model,
    model_version: p.modelVersion,
    features: p.features,
    event_time: p.input.last,
    processing_time: now,
  };
}

function toAlert(p: MlPrediction): StreamingAlert {
  const margin = (p.score - p.threshold) / (1 - p.threshold);
  const severity = margin >= 0.9 ? 'CRITICAL' : margin >= 0.6 ? 'HIGH' : margin >= 0.3 ? 'MEDIUM' : 'LOW';
  return {
    alert_id: `${p.entity_id}@${p.window_start}`,
    entity_id: p.entity_id,
    kind: p.label,
    severity,
    score: p.score,
    threshold: p.threshold,
    window_start: p.window_start,
    window_end: p.window_end,
    model_name: p.model_name,
    model_version: p.model_version,
    event_time: p.event_time,
    message: `${p.entity_id}: ${p.label} score ${p.score.toFixed(3)} ≥ ${p.threshold} in the window starting ${new Date(p.window_start).toISOString()} (${p.features.events ?? 0} events)`,
  };
}
