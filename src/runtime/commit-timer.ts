/**
 * When the stream thread commits: once `commitIntervalMs` passed since the last commit,
 * or `commitMaxRecords` records were processed — and only when there is something to
 * commit (records, or a wall-clock punctuation's output). A commit, an abort and a rewind
 * all start the count again; this object is the one place that knows it.
 */
export class CommitTimer {
  private lastAt: number;
  private records = 0;
  private punctuated = false;

  constructor(
    private readonly intervalMs: number,
    private readonly maxRecords: number,
    now = Date.now(),
  ) {
    this.lastAt = now;
  }

  processed(records: number): void {
    this.records += records;
  }

  /** A wall-clock punctuation ran: its output must be committed even without input. */
  punctuation(): void {
    this.punctuated = true;
  }

  /** Records processed since the last restart (for the commit's log line). */
  get recordsSince(): number {
    return this.records;
  }

  due(now = Date.now()): boolean {
    if (this.records === 0 && !this.punctuated) return false;
    return this.records >= this.maxRecords || now - this.lastAt >= this.intervalMs;
  }

  /** After a commit, an abort or a rewind: nothing is pending any more. */
  restart(now = Date.now()): void {
    this.records = 0;
    this.punctuated = false;
    this.lastAt = now;
  }
}
