/**
 * The per-entity window features the analytics topology computes and the model is
 * trained on — one definition for both, so training and serving cannot drift apart.
 * `WindowAggregate` is folded event by event (a windowed `aggregate`); `featureVector`
 * turns it into the model's named features; `FEATURES` gives their order, types and
 * valid ranges (copied into the model's metadata by ops/ml/train.py).
 */
import type { AnalyticsEvent, EventType } from './event';
import type { FeatureSpec } from '../src/inference/metadata';

/** Distinct values kept per window and field: beyond it, counts saturate (a feature's range ends there too). */
export const DISTINCT_CAP = 64;

export interface WindowAggregate {
  events: number;
  /** Events per type, by the EventType symbol. */
  byType: Partial<Record<EventType, number>>;
  valueSum: number;
  valueMax: number;
  sessions: string[];
  countries: string[];
  ips: string[];
  /** Event time of the first and last event seen (ms). */
  first: number;
  last: number;
}

export const emptyAggregate = (): WindowAggregate => ({
  events: 0,
  byType: {},
  valueSum: 0,
  valueMax: 0,
  sessions: [],
  countries: [],
  ips: [],
  first: 0,
  last: 0,
});

/** Folds one event in (events may arrive out of order within a window). */
export function addEvent(a: WindowAggregate, e: AnalyticsEvent): WindowAggregate {
  a.byType[e.event_type] = (a.byType[e.event_type] ?? 0) + 1;
  if (e.value !== null && Number.isFinite(e.value) && e.value > 0) {
    a.valueSum += e.value;
    a.valueMax = Math.max(a.valueMax, e.value);
  }
  addDistinct(a.sessions, e.session_id);
  addDistinct(a.countries, e.properties.country);
  addDistinct(a.ips, e.properties.ip);
  a.first = a.events === 0 ? e.event_time : Math.min(a.first, e.event_time);
  a.last = a.events === 0 ? e.event_time : Math.max(a.last, e.event_time);
  a.events++;
  return a;
}

function addDistinct(list: string[], value: string | null | undefined): void {
  if (value === null || value === undefined || list.length >= DISTINCT_CAP || list.includes(value)) return;
  list.push(value);
}

const MAX_EVENTS = 100_000;
const int = (name: string, max: number): FeatureSpec => ({ name, type: 'int', min: 0, max });
const float = (name: string, max: number): FeatureSpec => ({ name, type: 'float', min: 0, max });

/** The model's features, in order. */
export const FEATURES: readonly FeatureSpec[] = [
  int('events', MAX_EVENTS),
  int('page_views', MAX_EVENTS),
  int('clicks', MAX_EVENTS),
  int('searches', MAX_EVENTS),
  int('purchases', MAX_EVENTS),
  int('login_failures', MAX_EVENTS),
  int('errors', MAX_EVENTS),
  float('value_sum', 1e9),
  float('value_max', 1e9),
  float('mean_purchase_value', 1e9),
  int('distinct_sessions', DISTINCT_CAP),
  int('distinct_countries', DISTINCT_CAP),
  int('distinct_ips', DISTINCT_CAP),
  float('events_per_active_second', MAX_EVENTS),
  float('mean_gap_seconds', 3_600),
];

/** The named feature values of a window's aggregate (`windowMs`: the window size). */
export function featureVector(a: WindowAggregate, windowMs: number): Record<string, number> {
  const count = (t: EventType): number => a.byType[t] ?? 0;
  const purchases = count('PURCHASE');
  const activeSeconds = Math.max(1, (a.last - a.first) / 1000);
  return {
    events: a.events,
    page_views: count('PAGE_VIEW'),
    clicks: count('CLICK'),
    searches: count('SEARCH'),
    purchases,
    login_failures: count('LOGIN_FAILED'),
    errors: count('ERROR'),
    value_sum: round(a.valueSum),
    value_max: round(a.valueMax),
    mean_purchase_value: purchases > 0 ? round(a.valueSum / purchases) : 0,
    distinct_sessions: a.sessions.length,
    distinct_countries: a.countries.length,
    distinct_ips: a.ips.length,
    events_per_active_second: round(a.events / activeSeconds),
    mean_gap_seconds: a.events > 1 ? round((a.last - a.first) / 1000 / (a.events - 1)) : round(windowMs / 1000),
  };
}

/** Rounded to 1e-4: float32 carries the same value in Node and Python. */
function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
