/**
 * End-to-end latency: from an input record's timestamp (its event time, as producers set
 * it) to the commit that made its outputs visible to read_committed consumers — the time
 * a user waits for a prediction, which the in-topology histogram cannot see (it misses
 * the wait in Kafka, the batch and the commit). The timestamps of the records processed
 * since the last commit wait here; a commit observes them all, an abort drops them (the
 * records are processed again and counted then). The buffer is bounded: past MAX_PENDING
 * records in one transaction the rest are not sampled.
 */
import type { Histogram } from 'prom-client';
import type { RawRecord } from '../streams/internals/task-graph';

const MAX_PENDING = 200_000;

export class EndToEndLatency {
  private times = new Float64Array(4096);
  private count = 0;

  constructor(private readonly histogram: Histogram) {}

  add(records: readonly RawRecord[]): void {
    for (const r of records) {
      if (!(r.timestamp > 0) || this.count >= MAX_PENDING) continue;
      if (this.count === this.times.length) this.grow();
      this.times[this.count++] = r.timestamp;
    }
  }

  /** The transaction committed now: every pending record's outputs became visible. */
  committed(now = Date.now()): void {
    for (let i = 0; i < this.count; i++) this.histogram.observe(Math.max(0, now - this.times[i]!));
    this.count = 0;
  }

  /** The transaction was aborted: the records will be processed again. */
  discard(): void {
    this.count = 0;
  }

  private grow(): void {
    const next = new Float64Array(Math.min(MAX_PENDING, this.times.length * 2));
    next.set(this.times);
    this.times = next;
  }
}
