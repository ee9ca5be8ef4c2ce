/**
 * How much one resume reply may carry. The reply is one WebSocket message, built in
 * memory and parsed at once by the client, so it is capped in records and in bytes.
 * The cap is shared between the partitions that missed something before anything is
 * read: each gets an equal share of what is left, the partitions that miss the fewest
 * first, so what one does not use goes to the others (as a round-robin would share it).
 * A partition keeps its newest publications within its share — from the history, then
 * from Kafka, while reading (NewestWithin) — so a resume never holds much more than the
 * cap. Past its share the reply says `truncated: true` and `recovered: false`: the client
 * has a gap before them, as when retention deleted part of it, and what follows the reply
 * (live pushes) joins on without one.
 */
import type { Publication } from './history';
import { pubJson } from './hub';

export interface ResumeCap {
  records: number;
  bytes: number;
}

/** About 2–4 MiB of predictions either way (a prediction is about 400–800 bytes as JSON). */
export const RESUME_CAP: ResumeCap = { records: 5_000, bytes: 4 * 1024 * 1024 };

/** What a publication adds to the reply. */
export function sizeInReply(p: Publication): number {
  return Buffer.byteLength(JSON.stringify(pubJson(p))) + 1; // + its comma
}

/**
 * Runs `take` once per partition that needs something (`needs[i]` > 0: at most that many
 * records), fewest needed first, with an equal share of what the partitions before it
 * left; `take` returns what it used.
 */
export async function shareCap(needs: readonly number[], cap: ResumeCap, take: (i: number, share: ResumeCap) => ResumeCap | Promise<ResumeCap>): Promise<void> {
  const order = needs
    .map((need, i) => ({ need, i }))
    .filter((x) => x.need > 0)
    .sort((a, b) => a.need - b.need || a.i - b.i);
  let left = { ...cap };
  for (const [k, { i }] of order.entries()) {
    const others = order.length - k;
    const used = await take(i, { records: Math.floor(left.records / others), bytes: Math.floor(left.bytes / others) });
    left = { records: left.records - used.records, bytes: left.bytes - used.bytes };
  }
}

export interface Kept extends ResumeCap {
  /** Oldest first: a suffix of what was offered. */
  pubs: Publication[];
  /** Something older was offered and did not fit. */
  leftOut: boolean;
}

/** The newest of `pubs` (oldest first) that fit in `share`, sized newest first: the rest is never serialised. */
export function newest(pubs: readonly Publication[], share: ResumeCap): Kept {
  let bytes = 0;
  for (let i = pubs.length - 1; i >= 0; i--) {
    const size = sizeInReply(pubs[i]!);
    const records = pubs.length - 1 - i;
    if (records + 1 > share.records || bytes + size > share.bytes) return { pubs: pubs.slice(i + 1), records, bytes, leftOut: true };
    bytes += size;
  }
  return { pubs: [...pubs], records: pubs.length, bytes, leftOut: false };
}

/**
 * The newest publications within `share` of a stream offered oldest first (a Kafka
 * read-back): older ones are let go as newer ones push them out, so at most the share
 * (and the one being added) is held at any time, however many or however big the
 * records read.
 */
export class NewestWithin {
  private held: (Publication | undefined)[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;
  private leftOut = false;

  constructor(private readonly share: ResumeCap) {}

  add(p: Publication): void {
    const size = sizeInReply(p);
    this.held.push(p);
    this.sizes.push(size);
    this.bytes += size;
    while (this.held.length - this.head > this.share.records || this.bytes > this.share.bytes) {
      this.bytes -= this.sizes[this.head]!;
      this.held[this.head++] = undefined; // let go now, not at the end of the read
      this.leftOut = true;
    }
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held = this.held.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  kept(): Kept {
    return { pubs: this.held.slice(this.head) as Publication[], records: this.held.length - this.head, bytes: this.bytes, leftOut: this.leftOut };
  }
}
