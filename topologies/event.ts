/** The `analytics-events` record (schemas/analytics-event.avsc) as TypeScript sees it. */
export const EVENT_TYPES = [
  'PAGE_VIEW',
  'CLICK',
  'SEARCH',
  'ADD_TO_CART',
  'CHECKOUT',
  'PURCHASE',
  'LOGIN',
  'LOGIN_FAILED',
  'LOGOUT',
  'PASSWORD_RESET',
  'ERROR',
  'OTHER',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface AnalyticsEvent {
  event_id: string;
  event_type: EventType;
  entity_id: string;
  user_id: string | null;
  session_id: string | null;
  /** ms since the epoch: the stream's event time. */
  event_time: number;
  value: number | null;
  currency: string | null;
  metrics: Record<string, number>;
  properties: Record<string, string>;
  source: string;
  schema_version: number;
}
