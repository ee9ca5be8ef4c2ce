/**
 * Window definitions, with Kafka Streams' semantics: windows are aligned to the epoch,
 * include their start and exclude their end, and accept records until stream time passes
 * their end plus the grace period (which is explicit: there is no default).
 */
import { StreamingError } from '../../errors';
import type { Windowed } from '../../serdes';

export type { Windowed };

/** A window parameter in whole milliseconds ≥ min, or a topology error naming it. */
export function checkMs(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `${name} must be a whole number of milliseconds ≥ ${min}, not ${value}`);
  return value;
}

/** Tumbling (size only) or hopping (size and a smaller advance) time windows. */
export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly graceMs: number,
    readonly advanceMs: number,
  ) {}

  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    return new TimeWindows(checkMs('window size', sizeMs, 1), checkMs('grace period', graceMs, 0), sizeMs);
  }

  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0);
  }

  /** Hopping windows: a new window every `advanceMs` (≤ size). */
  advanceBy(advanceMs: number): TimeWindows {
    checkMs('window advance', advanceMs, 1);
    if (advanceMs > this.sizeMs)
      throw new StreamingError('SA_ERR_TOPOLOGY_INVALID', `window advance (${advanceMs} ms) must not exceed the window size (${this.sizeMs} ms)`);
    return new TimeWindows(this.sizeMs, this.graceMs, advanceMs);
  }

  /** Starts of the windows that contain `timestamp`, oldest first. */
  windowsFor(timestamp: number): number[] {
    const starts: number[] = [];
    let start = Math.floor(Math.max(0, timestamp - this.sizeMs + this.advanceMs) / this.advanceMs) * this.advanceMs;
    for (; start <= timestamp; start += this.advanceMs) starts.push(start);
    return starts;
  }
}
