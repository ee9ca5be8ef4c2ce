/**
 * Sliding windows (Kafka Streams' SlidingWindows): fixed-size windows [start, start + d]
 * (both ends inclusive) placed by the records themselves — one ending at each record, and
 * one starting just after each record that has a later record within d — so every
 * distinct set of records no further apart than d is aggregated exactly once.
 * Each key keeps its recent records (timestamp, value) as one store value; a window's
 * aggregate is folded from them in timestamp order, so any aggregator is exact.
 */
import { checkMs } from './windows';
import type { Serde } from '../../serdes';
import { mappedSerde, stampedListSerde } from '../../serdes';

export class SlidingWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    return new SlidingWindows(checkMs('time difference', timeDifferenceMs, 1), checkMs('grace period', graceMs, 0));
  }

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return SlidingWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }

  /** Starts of every window the records at these timestamps define. */
  windowStarts(timestamps: readonly number[]): number[] {
    const d = this.timeDifferenceMs;
    const sorted = [...timestamps].sort((a, b) => a - b);
    const starts = new Set<number>();
    sorted.forEach((t, i) => {
      starts.add(Math.max(0, t - d));
      const next = sorted.slice(i + 1).find((u) => u > t);
      if (next !== undefined && next <= t + 1 + d) starts.add(t + 1);
    });
    return [...starts].sort((a, b) => a - b);
  }
}

export interface TimedValue<V> {
  t: number;
  value: V;
}

/** A key's recent records, as one store value. */
export function timedListSerde<V>(inner: Serde<V>): Serde<TimedValue<V>[]> {
  return mappedSerde(
    stampedListSerde('Timed', inner, 1),
    (records: TimedValue<V>[]) => records.map((r) => ({ times: [r.t], value: r.value })),
    (list) => list.map((e) => ({ t: e.times[0]!, value: e.value })),
  );
}
