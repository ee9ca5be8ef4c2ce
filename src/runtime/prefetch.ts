/**
 * Fetching ahead: the next batch is consumed (on libuv's thread pool) while this one is
 * processed. A prefetched batch is never mixed with a rewind: `drop()` waits for it and
 * discards it before the caller seeks, so no record fetched from an old position is
 * processed after a seek.
 */
import type { ConsumedRecord, Consumer } from '../kafka';
import type { Logger } from '../logger';

export class Prefetcher {
  private next: Promise<ConsumedRecord[]> | undefined;
  private errorsInARow = 0;

  constructor(
    private readonly consumer: () => Consumer,
    private readonly maxRecords: number,
    private readonly maxErrorsInARow: number,
    private readonly log: Logger,
  ) {}

  /**
   * The batch fetched ahead (fetched now if there is none); the next fetch starts at once.
   * A consume error (e.g. a topic whose metadata has not spread yet) returns no records
   * and moves no position, so it is retried; only a long run of them is thrown.
   */
  async take(): Promise<ConsumedRecord[]> {
    const pending = this.next ?? this.fetch();
    try {
      const batch = await pending;
      this.errorsInARow = 0;
      return batch;
    } catch (err) {
      if (++this.errorsInARow > this.maxErrorsInARow) throw err;
      this.log.warn({ err, attempt: this.errorsInARow }, 'consume failed; retrying');
      await new Promise((r) => setTimeout(r, 500));
      return [];
    } finally {
      this.next = this.fetch();
    }
  }

  /** Waits for the batch in flight, if any, and discards it. */
  async drop(): Promise<void> {
    const pending = this.next;
    this.next = undefined;
    await pending?.catch(() => undefined);
  }

  private fetch(): Promise<ConsumedRecord[]> {
    const p = this.consumer().consume(this.maxRecords);
    p.catch(() => undefined); // observed when taken; never an unhandled rejection
    return p;
  }
}
