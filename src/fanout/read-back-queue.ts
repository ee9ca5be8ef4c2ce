/**
 * Who reads back from Kafka next. A resume the in-memory history no longer covers reads
 * its partitions back from Kafka (read-back.ts: a consumer of its own, holding up to the
 * resume's share of the reply cap), so these read-backs are rationed: at most `running` at a time in
 * the process and one at a time per owner (a connection). Waiting ones start round-robin
 * across owners, so a connection that resumes 32 subscriptions at once holds one slot,
 * and another connection's resume starts ahead of its second. At most `waitingPerOwner`
 * wait per owner and `waiting` in all; past either, a read-back is refused at once
 * (ReadBacksBusy), which the client is told is temporary.
 */

export interface ReadBackLimits {
  /** Read-backs running at once in the process (each holds a Kafka consumer). */
  running: number;
  /** Read-backs waiting in the process. */
  waiting: number;
  /** Read-backs waiting per owner (a connection holds at most 32 subscriptions). */
  waitingPerOwner: number;
}

export const READ_BACK_LIMITS: ReadBackLimits = { running: 4, waiting: 512, waitingPerOwner: 32 };

/** The queue is full: nothing was started or queued. */
export class ReadBacksBusy extends Error {}

/** Taken off the queue before it started (its connection closed, or it unsubscribed). */
export class ReadBackCancelled extends Error {}

interface Job {
  /** What the owner may cancel it by (a subscription). */
  tag: unknown;
  start(done: () => void): void;
  cancel(): void;
}

interface Owner {
  waiting: Job[];
  running: boolean;
}

export class ReadBackQueue {
  private readonly owners = new Map<object, Owner>();
  /** Owners with a read-back waiting and none running, in the order they get the next slot. */
  private readonly turn: object[] = [];
  private running = 0;
  private waiting = 0;

  constructor(private readonly limits: ReadBackLimits = READ_BACK_LIMITS) {}

  /** Runs `task` when `owner`'s turn comes; queued (or refused) before this returns. */
  run<T>(owner: object, tag: unknown, task: () => Promise<T>): Promise<T> {
    const o = this.owners.get(owner) ?? { waiting: [], running: false };
    if (o.waiting.length >= this.limits.waitingPerOwner)
      return Promise.reject(new ReadBacksBusy(`this connection already has ${this.limits.waitingPerOwner} resumes waiting to read Kafka`));
    if (this.waiting >= this.limits.waiting)
      return Promise.reject(new ReadBacksBusy(`this fan-out instance already has ${this.limits.waiting} resumes waiting to read Kafka`));
    this.owners.set(owner, o);
    return new Promise<T>((resolve, reject) => {
      o.waiting.push({
        tag,
        // The slot is handed on before the caller hears back, so the queue is never seen holding a finished read-back.
        start: (done) =>
          void (async () => task())().then(
            (v) => {
              done();
              resolve(v);
            },
            (err: unknown) => {
              done();
              reject(err);
            },
          ),
        cancel: () => reject(new ReadBackCancelled('the resume was cancelled before it read Kafka')),
      });
      this.waiting++;
      if (!o.running && o.waiting.length === 1) this.turn.push(owner);
      this.pump();
    });
  }

  /** Drops what `owner` has waiting (only the read-backs of `tag`, if given); a running one finishes. */
  cancel(owner: object, tag?: unknown): void {
    const o = this.owners.get(owner);
    if (!o) return;
    const dropped = o.waiting.filter((j) => tag === undefined || j.tag === tag);
    if (dropped.length === 0) return;
    o.waiting = o.waiting.filter((j) => !dropped.includes(j));
    this.waiting -= dropped.length;
    if (o.waiting.length === 0) {
      const at = this.turn.indexOf(owner);
      if (at >= 0) this.turn.splice(at, 1);
      if (!o.running) this.owners.delete(owner);
    }
    for (const j of dropped) j.cancel();
  }

  stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting };
  }

  private pump(): void {
    while (this.running < this.limits.running && this.turn.length > 0) {
      const owner = this.turn.shift()!;
      const o = this.owners.get(owner)!;
      const job = o.waiting.shift()!;
      this.waiting--;
      this.running++;
      o.running = true;
      job.start(() => this.finished(owner, o));
    }
  }

  private finished(owner: object, o: Owner): void {
    this.running--;
    o.running = false;
    if (o.waiting.length > 0)
      this.turn.push(owner); // behind everyone already waiting: round-robin
    else this.owners.delete(owner);
    this.pump();
  }
}
