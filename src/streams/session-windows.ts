/**
 * Session windows (Kafka Streams' SessionWindows): a key's records closer together than
 * the inactivity gap form one session, [first record, last record], both ends inclusive.
 * A record that bridges two sessions merges them. Each key's sessions are kept together,
 * as one value of a key-value store (so a batch loads them with one multi-get, like any
 * aggregate); sessions older than the retention are dropped when their key is next seen.
 */
import { StreamingError } from '../errors';
import { SerdeError, type Serde } from '../serdes';

export class SessionWindows {
  private constructor(readonly gapMs: number, readonly graceMs: number) {}

  static ofInactivityGapAndGrace(gapMs: number, graceMs: number): SessionWindows {
    for (const [name, v, min] of [['inactivity gap', gapMs, 1], ['grace period', graceMs, 0]] as const) {
      if (!Number.isSafeInteger(v) || v < min) throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `${name} must be a whole number of milliseconds ≥ ${min}, not ${v}`);
    }
    return new SessionWindows(gapMs, graceMs);
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

/** A key's sessions: count, then per session start, end (8 bytes each), value length and value. */
export function sessionListSerde<VA>(inner: Serde<VA>): Serde<Session<VA>[]> {
  return {
    name: `Sessions(${inner.name})`,
    serialize: (topic, sessions) => {
      const values = sessions.map((s) => inner.serialize(topic, s.value) ?? Buffer.alloc(0));
      const out = Buffer.allocUnsafe(4 + values.reduce((n, v) => n + 20 + v.length, 0));
      let at = out.writeUInt32BE(sessions.length, 0);
      sessions.forEach((s, i) => {
        at = out.writeDoubleBE(s.start, at);
        at = out.writeDoubleBE(s.end, at);
        at = out.writeUInt32BE(values[i]!.length, at);
        at += values[i]!.copy(out, at);
      });
      return out;
    },
    deserialize: (topic, data) => {
      if (!data || data.length < 4) throw new SerdeError('Sessions', `a session list from "${topic}" is too short`);
      const sessions: Session<VA>[] = [];
      let at = 4;
      for (let i = data.readUInt32BE(0); i > 0; i--) {
        const start = data.readDoubleBE(at);
        const end = data.readDoubleBE(at + 8);
        const length = data.readUInt32BE(at + 16);
        sessions.push({ start, end, value: inner.deserialize(topic, data.subarray(at + 20, at + 20 + length)) });
        at += 20 + length;
      }
      return sessions;
    },
  };
}
