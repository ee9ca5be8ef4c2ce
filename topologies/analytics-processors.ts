/**
 * The analytics topology's own processors: event validation (bad events to the
 * dead-letter topic), and the per-task throughput/latency summaries for streaming-metrics.
 */
import type { AnalyticsEvent } from './event';
import type { Processor, ProcessorContext, ProcessorSupplier } from '../src/streams/processor-api/processor';
import type { StreamRecord } from '../src/streams/processor-api/record';
import type { MlPrediction } from './analytics';

/** Counters shared by the processors of one task (keyed by task id). */
export type TaskStats = Map<string, { events: number }>;

const DAY_MS = 86_400_000;

/** Why an event cannot be used, or undefined. */
export function eventProblem(key: string | null, e: AnalyticsEvent, now: number): string | undefined {
  if (!key) return 'the record has no key (it must be the entity_id)';
  if (!e.entity_id) return 'entity_id is empty';
  if (e.entity_id !== key) return `entity_id "${e.entity_id}" differs from the record key "${key}"`;
  if (!Number.isFinite(e.event_time) || e.event_time <= 0) return `event_time ${e.event_time} is not a time`;
  if (e.event_time > now + DAY_MS) return `event_time ${new Date(e.event_time).toISOString()} is more than a day ahead`;
  if (e.value !== null && !Number.isFinite(e.value)) return `value ${e.value} is not a finite number`;
  return undefined;
}

export function validateEvents(stats: TaskStats, clock: () => number = Date.now): ProcessorSupplier<string, AnalyticsEvent | null, string, AnalyticsEvent> {
  return () => {
    let ctx!: ProcessorContext<string, AnalyticsEvent>;
    let counters!: { events: number };
    return {
      init(context) {
        ctx = context;
        if (!stats.has(context.taskId)) stats.set(context.taskId, { events: 0 });
        counters = stats.get(context.taskId)!;
      },
      process(r: StreamRecord<string, AnalyticsEvent | null>) {
        if (r.value === null || r.value === undefined) return;
        counters.events++;
        const problem = eventProblem(r.key, r.value, clock());
        if (problem === undefined) return ctx.forward(r as StreamRecord<string, AnalyticsEvent>);
        ctx.deadLetter(
          { key: r.key === null ? null : Buffer.from(r.key), value: Buffer.from(JSON.stringify(r.value)), timestamp: r.timestamp },
          'SA_ERR_EVENT_INVALID',
          problem,
        );
      },
    } satisfies Processor<string, AnalyticsEvent | null, string, AnalyticsEvent>;
  };
}

export interface Summary {
  task: string;
  from: number;
  to: number;
  events: number;
  events_per_second: number;
  predictions: number;
  alerts: number;
  /** Event time of a window's latest event → its prediction, over the interval's predictions. */
  latency_ms: { p50: number; p95: number; max: number } | null;
}

/** Latencies kept per interval for the percentiles: a uniform sample of the whole interval, however long. */
const SAMPLE = 10_000;

/**
 * Every `intervalMs` of wall-clock time, one summary of the task's interval; records in
 * are not forwarded. The latency percentiles come from a uniform random sample (reservoir)
 * of the interval's predictions, so a long interval is not summarised by its first
 * SAMPLE predictions only.
 */
export function summaries(
  stats: TaskStats,
  intervalMs: number,
  clock: () => number,
  random: () => number = Math.random,
): ProcessorSupplier<string, MlPrediction, string, Summary> {
  return () => {
    let predictions = 0;
    let alerts = 0;
    let latencies: number[] = [];
    let from = clock();
    let eventsAtStart = 0;
    return {
      init(ctx) {
        if (!stats.has(ctx.taskId)) stats.set(ctx.taskId, { events: 0 });
        eventsAtStart = stats.get(ctx.taskId)!.events;
        ctx.schedule(intervalMs, 'wall-clock', (now) => {
          const events = stats.get(ctx.taskId)!.events - eventsAtStart;
          if (events + predictions > 0) {
            const seconds = Math.max(0.001, (now - from) / 1000);
            ctx.forward({
              key: ctx.taskId,
              value: {
                task: ctx.taskId,
                from,
                to: now,
                events,
                events_per_second: Math.round(events / seconds),
                predictions,
                alerts,
                latency_ms: percentiles(latencies),
              },
              timestamp: now,
              headers: [],
            });
          }
          eventsAtStart += events;
          predictions = 0;
          alerts = 0;
          latencies = [];
          from = now;
        });
      },
      process(r: StreamRecord<string, MlPrediction>) {
        predictions++;
        if (r.value.flagged) alerts++;
        const latency = r.value.processing_time - r.value.event_time;
        if (latencies.length < SAMPLE) latencies.push(latency);
        else {
          const slot = Math.floor(random() * predictions);
          if (slot < SAMPLE) latencies[slot] = latency;
        }
      },
    } satisfies Processor<string, MlPrediction, string, Summary>;
  };
}

function percentiles(values: number[]): Summary['latency_ms'] {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
}
