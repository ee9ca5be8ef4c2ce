/**
 * Session windows (Kafka Streams' SessionWindows): a key's records closer together than
 * the inactivity gap form one session, [first record, last record], both ends inclusive.
 * A record that bridges two sessions merges them. Each key's sessions are kept together,
 * as one value of a key-value store (so a batch loads them with one multi-get, like any
 * aggregate); sessions older than the retention are dropped when their key is next seen.
 */
import { checkMs } from './windows';
import type { Serde } from '../../serdes';
import { mappedSerde, stampedListSerde } from '../../serdes';

export class SessionWindows {
  private constructor(
    readonly gapMs: number,
    readonly graceMs: number,
  ) {}

  static ofInactivityGapAndGrace(gapMs: number, graceMs: number): SessionWindows {
    return new SessionWindows(checkMs('inactivity gap', gapMs, 1), checkMs('grace period', graceMs, 0));
  }

  static ofInactivityGapWithNoGrace(gapMs: number): SessionWindows {
    return SessionWindows.ofInactivityGapAndGrace(gapMs, 0);
  }
}

export interface Session<VA> {
  start: number;
  end: number;
  value: VA;
}

/** A key's sessions, as one store value. */
export function sessionListSerde<VA>(inner: Serde<VA>): Serde<Session<VA>[]> {
  return mappedSerde(
    stampedListSerde('Sessions', inner, 2),
    (sessions: Session<VA>[]) => sessions.map((s) => ({ times: [s.start, s.end], value: s.value })),
    (list) => list.map((e) => ({ start: e.times[0]!, end: e.times[1]!, value: e.value })),
  );
}
