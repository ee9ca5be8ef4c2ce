/**
 * A latency budget for model calls. Scoring is a synchronous native call on the event
 * loop (docs/inference.md): a batch that takes too long delays polling, heartbeats and
 * commits. The budget adapts the batch size as TCP adapts its window — halve it after a
 * chunk with a call over the budget, grow it back by a fixed step after each full chunk
 * whose calls all stayed under — between 1 and `maxBatch`. It only changes how many
 * records go into one call: every record is still scored, in order.
 */
export class LatencyBudget {
  private size: number;
  /** Growth per full chunk under budget: back from 1 to `maxBatch` in about 32 chunks. */
  readonly step: number;

  constructor(
    readonly maxLatencyMs: number,
    readonly maxBatch: number,
  ) {
    if (!(maxLatencyMs > 0)) throw new TypeError(`predict: maxLatencyMs must be a number > 0, not ${String(maxLatencyMs)}`);
    this.size = maxBatch;
    this.step = Math.max(1, Math.ceil(maxBatch / 32));
  }

  /** Records to score in one call now. */
  get batchSize(): number {
    return this.size;
  }

  isOver(ms: number): boolean {
    return ms > this.maxLatencyMs;
  }

  /**
   * After a chunk of `rows` records: `over` when one of its calls was over budget.
   * Returns whether the batch size changed. A chunk smaller than the batch size says
   * nothing about whether a full one would fit, so it does not grow it.
   */
  after(rows: number, over: boolean): boolean {
    const before = this.size;
    if (over) this.size = Math.max(1, Math.floor(this.size / 2));
    else if (rows >= this.size) this.size = Math.min(this.maxBatch, this.size + this.step);
    return this.size !== before;
  }
}
