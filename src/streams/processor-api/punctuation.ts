/**
 * Punctuation: timers a processor schedules per task (Kafka Streams' `schedule`). A
 * stream-time punctuator fires when the task's stream time reaches it — so only as records
 * arrive; a wall-clock punctuator fires when the clock does, even with no input. Missed
 * intervals are not replayed: a punctuator fires once, and its next time is the next
 * multiple of the interval.
 */
export type PunctuationType = 'stream-time' | 'wall-clock';

export interface Cancellable {
  cancel(): void;
}

interface Punctuator {
  type: PunctuationType;
  intervalMs: number;
  next: number | undefined;
  callback: (timestamp: number) => void;
  cancelled: boolean;
}

export class Punctuations {
  private readonly all: Punctuator[] = [];

  schedule(intervalMs: number, type: PunctuationType, callback: (timestamp: number) => void, now: number): Cancellable {
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) throw new RangeError(`a punctuation interval must be a whole number of ms ≥ 1, not ${intervalMs}`);
    const p: Punctuator = { type, intervalMs, next: type === 'wall-clock' ? now + intervalMs : undefined, callback, cancelled: false };
    this.all.push(p);
    return { cancel: () => void (p.cancelled = true) };
  }

  streamTime(streamTime: number): void {
    this.fire('stream-time', streamTime);
  }

  wallClock(now: number): void {
    this.fire('wall-clock', now);
  }

  /** Whether a wall-clock punctuator is scheduled: it may write state in a transaction that commits no input offsets. */
  hasWallClock(): boolean {
    return this.all.some((p) => p.type === 'wall-clock' && !p.cancelled);
  }

  wallClockDue(now: number): boolean {
    return this.all.some((p) => p.type === 'wall-clock' && !p.cancelled && p.next !== undefined && now >= p.next);
  }

  private fire(type: PunctuationType, time: number): void {
    for (const p of this.all) {
      if (p.type !== type || p.cancelled || time < 0) continue;
      if (p.next === undefined) p.next = time + p.intervalMs; // stream time starts the clock
      if (time < p.next) continue;
      p.next += Math.ceil((time - p.next + 1) / p.intervalMs) * p.intervalMs;
      p.callback(time);
    }
  }
}
