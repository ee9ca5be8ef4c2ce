/**
 * What the fan-out keeps per partition for resume: the last `capacity` publications, in
 * offset order. Offsets of a read_committed partition have holes (transaction markers,
 * aborted records), so positions are compared, never counted.
 */
import type { Channel } from './protocol';

export interface Publication {
  channel: Channel;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  /** The Kafka record's timestamp (ms). */
  timestamp: number;
  /** When the fan-out read it (ms). */
  receivedAt: number;
  data: unknown;
  /** predictions: the model that made it (for `predictions:<model>`). */
  model?: string;
  /** predictions and alerts: for the minScore filter. */
  score?: number;
  /** The record's W3C `traceparent` header, when it has one (src/tracing). */
  traceparent?: string;
  /** The push message, encoded and framed once per channel name (compression is off). */
  frames?: Map<string, Buffer>;
}

export class PartitionHistory {
  private readonly ring: (Publication | undefined)[];
  private head = 0;
  private size = 0;

  /** `start`: the offset reading starts from. */
  constructor(
    private readonly capacity: number,
    private nextOffset: number,
  ) {
    this.ring = new Array<Publication | undefined>(capacity);
  }

  /** The offset after the last publication read (what a client that saw everything resumes from). */
  next(): number {
    return this.nextOffset;
  }

  add(p: Publication): void {
    this.nextOffset = p.offset + 1;
    if (this.capacity === 0) return;
    this.ring[(this.head + this.size) % this.capacity] = p;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
  }

  /** The oldest offset held (undefined: empty). */
  first(): number | undefined {
    return this.size === 0 ? undefined : this.ring[this.head]!.offset;
  }

  /** Publications at or after `offset`, oldest first. */
  from(offset: number): Publication[] {
    const out: Publication[] = [];
    for (let i = 0; i < this.size; i++) {
      const p = this.ring[(this.head + i) % this.capacity]!;
      if (p.offset >= offset) out.push(p);
    }
    return out;
  }
}
