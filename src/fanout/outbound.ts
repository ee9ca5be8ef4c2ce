/**
 * What goes out to one client, under the slow-client policy. A client whose queued bytes
 * pass `maxBufferedBytes` is slow: for predictions and alerts it is disconnected (it
 * resumes from its positions on a new connection, so nothing is lost), while metrics —
 * where only the latest matter — keep the newest HELD_METRICS until the socket drains,
 * dropping the oldest. The bytes of a resume reply do not count while they drain.
 */
import type { WebSocket } from 'ws';
import type { Publication } from './history';
import { pubJson, writeFrame } from './hub';
import type { FanoutMetrics } from './metrics';
import { onceDrained, queuedBytes } from './ws-internals';

/** Newest metrics publications held for a slow client. */
const HELD_METRICS = 50;

export class Outbound {
  private held: { p: Publication; frame: Buffer; channel: string }[] = [];
  /** Bytes of a resume reply still queued: not counted as slowness. */
  private allowance = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly maxBufferedBytes: number,
    private readonly metrics: FanoutMetrics,
    private readonly onSlow: () => void,
  ) {}

  /** A (possibly large) reply was just queued. */
  replied(): void {
    this.allowance = queuedBytes(this.ws);
  }

  deliver(p: Publication, frame: Buffer, channel: string): void {
    const buffered = queuedBytes(this.ws);
    this.allowance = Math.min(this.allowance, buffered);
    const congested = buffered - this.allowance > this.maxBufferedBytes;
    if (!congested && this.held.length > 0) this.flushHeld(); // 'drain' may not come (small buffers)
    if (congested && p.channel !== 'metrics') return this.onSlow();
    if (p.channel === 'metrics' && (congested || this.held.length > 0)) {
      this.hold(p, frame, channel);
      return;
    }
    writeFrame(this.ws, frame, () => JSON.stringify({ push: { channel, pub: pubJson(p) } }));
    this.metrics.sent(channel);
    this.metrics.delivery.observe(Date.now() - p.timestamp);
  }

  /** Held ones go out first when the socket drains: their order is kept. */
  private hold(p: Publication, frame: Buffer, channel: string): void {
    this.held.push({ p, frame, channel });
    if (this.held.length > HELD_METRICS) {
      this.held.shift();
      this.metrics.dropped(channel);
    }
    if (this.held.length === 1) onceDrained(this.ws, () => this.flushHeld());
  }

  private flushHeld(): void {
    for (const h of this.held.splice(0)) this.deliver(h.p, h.frame, h.channel);
  }
}
