/**
 * One client connection after its upgrade was authenticated: its requests (rate-limited
 * by a token bucket), its subscriptions, its token's expiry (a `refresh` push at expiry,
 * then a disconnect after the grace period unless a fresh token came), and its outbound
 * buffer: past `maxBufferedBytes`, predictions and alerts disconnect it as slow, while
 * metrics keep only the newest few until the socket drains.
 */
import type { WebSocket } from 'ws';
import { TokenError, type Claims } from '../auth/jwt';
import { ERROR_CATALOGUE, StreamingError } from '../errors';
import type { Logger } from '../logger';
import type { Publication } from './history';
import type { Subscription } from './hub';
import { Outbound } from './outbound';
import { authorize, grantsFromClaims, type Grants } from './permissions';
import { DISCONNECT, parseFrame, ProtocolError, reply, type Disconnect, type Request } from './protocol';
import type { FanoutContext } from './context';
import { subscribe } from './subscribe';

/** Bad requests in a row (the client's mistakes, not temporary refusals) before the connection is closed. */
const MAX_BAD_IN_A_ROW = 20;
/** Subscriptions one connection may hold (each costs a filter check per record). */
const MAX_SUBSCRIPTIONS = 32;

export class Connection {
  readonly subs = new Map<string, Subscription>();
  alive = true;
  private grants: Grants;
  private tokens: number;
  private lastRefill = Date.now();
  private refused = 0;
  private badInARow = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly out: Outbound;
  private closed = false;

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    private claims: Claims,
    private readonly ctx: FanoutContext,
    readonly log: Logger,
  ) {
    this.grants = grantsFromClaims(claims);
    this.out = new Outbound(ws, ctx.settings.maxBufferedBytes, ctx.metrics, () => this.slow());
    this.tokens = ctx.settings.messageBurst;
    this.idleTimer = setTimeout(() => this.disconnect(DISCONNECT.idle), ctx.settings.idleTimeoutMs);
    this.scheduleExpiry();
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('close', () => this.cleanUp());
    ws.on('error', () => this.cleanUp());
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.answer(new ProtocolError('SA_ERR_WS_BAD_REQUEST', 'binary frames are not part of the protocol: send JSON text'));
    for (const r of parseFrame(data.toString('utf8'))) {
      if (this.closed) return;
      if (!this.take()) {
        // A flood is answered by the rate limit alone (4029, reconnect), never counted as bad requests (4002, do not reconnect).
        if (++this.refused > this.ctx.settings.messageBurst) return this.disconnect(DISCONNECT.flood);
        this.send(new ProtocolError('SA_ERR_WS_RATE_LIMITED', `more than ${this.ctx.settings.messagesPerSecond} messages/s: slow down`, r.id).toReply());
        continue;
      }
      this.refused = 0;
      if (r instanceof ProtocolError) {
        this.answer(r);
        continue;
      }
      this.badInARow = 0;
      this.handle(r).catch((err: unknown) => this.answer(this.toProtocolError(err, r)));
    }
  }

  /** Token bucket: `messagesPerSecond` sustained, `messageBurst` at once. */
  private take(): boolean {
    const now = Date.now();
    const s = this.ctx.settings;
    this.tokens = Math.min(s.messageBurst, this.tokens + ((now - this.lastRefill) / 1000) * s.messagesPerSecond);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private async handle(r: Request): Promise<void> {
    switch (r.method) {
      case 'ping':
        return this.send(reply(r.id, {}));
      case 'unsubscribe': {
        const sub = this.subs.get(r.channel);
        if (!sub) throw new ProtocolError('SA_ERR_WS_SUBSCRIPTION', `not subscribed to "${r.channel}"`, r.id);
        this.ctx.hub.remove(sub);
        this.subs.delete(r.channel);
        this.ctx.source.readBacks.cancel(this, sub);
        return this.send(reply(r.id, {}));
      }
      case 'refresh':
        return this.refresh(r.id, r.token);
      case 'subscribe':
        return this.subscribe(r);
    }
  }

  private async subscribe(r: Extract<Request, { method: 'subscribe' }>): Promise<void> {
    if (this.subs.has(r.channel))
      throw new ProtocolError('SA_ERR_WS_SUBSCRIPTION', `already subscribed to "${r.channel}": unsubscribe first to change its filter`, r.id);
    if (this.subs.size >= MAX_SUBSCRIPTIONS)
      throw new ProtocolError('SA_ERR_WS_SUBSCRIPTION', `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`, r.id);
    clearTimeout(this.idleTimer); // a resume reading Kafka may take a while
    let subscribed;
    try {
      subscribed = await subscribe(this, r, this.grants, this.ctx);
    } catch (err) {
      if (this.subs.size === 0 && !this.closed) this.idleTimer = setTimeout(() => this.disconnect(DISCONNECT.idle), this.ctx.settings.idleTimeoutMs);
      throw err;
    }
    try {
      this.send(reply(r.id, subscribed.result));
      this.out.replied(); // a resume's reply may be large: not counted as slowness while it drains
    } finally {
      subscribed.goLive();
    }
  }

  /** A fresh token for the same subject; open subscriptions are checked against its grants again. */
  private async refresh(id: Request['id'], token: string): Promise<void> {
    let claims: Claims;
    try {
      claims = await this.ctx.verify(token);
    } catch (err) {
      if (err instanceof TokenError) throw new ProtocolError('SA_ERR_WS_UNAUTHORIZED', `the new token was refused: ${err.message}`, id);
      throw err; // not the token's fault: logged, and answered as temporary (toProtocolError)
    }
    if (claims.sub !== this.claims.sub)
      throw new ProtocolError('SA_ERR_WS_UNAUTHORIZED', 'the new token is for another subject: open a new connection for it', id);
    if (this.closed) return;
    this.claims = claims;
    this.grants = grantsFromClaims(claims);
    for (const [name, sub] of this.subs) {
      try {
        const prefixes = authorize(this.grants, name, sub.filter, id);
        if (prefixes) sub.prefixes = prefixes;
        else delete sub.prefixes;
      } catch {
        this.ctx.hub.remove(sub);
        this.subs.delete(name);
        this.send(JSON.stringify({ push: { channel: name, unsubscribed: { reason: 'the new token does not permit this channel' } } }));
      }
    }
    this.scheduleExpiry();
    this.send(reply(id, { expires_at: claims.exp * 1000 }));
  }

  private scheduleExpiry(): void {
    clearTimeout(this.expiryTimer);
    clearTimeout(this.graceTimer);
    const inMs = Math.max(0, this.claims.exp * 1000 - Date.now());
    // setTimeout's limit is 2^31-1 ms: a token valid longer than ~24 days is checked again then.
    this.expiryTimer = setTimeout(() => (inMs > 2 ** 31 - 1 ? this.scheduleExpiry() : this.expired()), Math.min(inMs, 2 ** 31 - 1));
  }

  private expired(): void {
    const graceMs = this.ctx.settings.tokenGraceSeconds * 1000;
    this.send(JSON.stringify({ push: { refresh: { reason: 'token expired', grace_ms: graceMs } } }));
    this.graceTimer = setTimeout(() => this.disconnect(DISCONNECT.unauthorized), graceMs);
  }

  /** One publication to this client (outbound.ts holds the slow-client policy). */
  deliver(p: Publication, frame: Buffer, channel: string): void {
    if (!this.closed) this.out.deliver(p, frame, channel);
  }

  private slow(): void {
    this.ctx.metrics.slowDisconnects.inc();
    this.disconnect(DISCONNECT.slow);
  }

  send(text: string): void {
    if (!this.closed && this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  /** An error reply; only the client's own mistakes count towards 4002, not temporary refusals (busy, unavailable). */
  private answer(e: ProtocolError): void {
    this.send(e.toReply());
    if (!ERROR_CATALOGUE[e.code].retriable && ++this.badInARow > MAX_BAD_IN_A_ROW) this.disconnect(DISCONNECT.badRequests);
  }

  /**
   * Tells the client why, then closes with the code. A slow client gets only the close
   * frame, after what is already queued; if it does not read that within 5 s, the socket
   * is destroyed.
   */
  disconnect(d: Disconnect): void {
    if (this.closed) return;
    this.ctx.metrics.disconnects.inc({ code: String(d.code) });
    if (d !== DISCONNECT.slow) this.send(JSON.stringify({ disconnect: d }));
    this.cleanUp();
    this.ws.close(d.code, JSON.stringify({ reason: d.reason, reconnect: d.reconnect })); // under the 123-byte limit of a close reason
    if (d === DISCONNECT.slow) setTimeout(() => this.ws.terminate(), 5_000).unref();
  }

  private cleanUp(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs.values()) this.ctx.hub.remove(s);
    this.subs.clear();
    this.ctx.source.readBacks.cancel(this);
    clearTimeout(this.idleTimer);
    clearTimeout(this.expiryTimer);
    clearTimeout(this.graceTimer);
    this.ctx.forget(this);
  }

  /** The answer to a request that failed: our own errors as they are; anything else is logged, and the client learns only that it was temporary. */
  private toProtocolError(err: unknown, r: Request): ProtocolError {
    if (err instanceof ProtocolError) return err;
    if (err instanceof StreamingError && err.code.startsWith('SA_ERR_WS_')) return new ProtocolError(err.code, err.message, r.id);
    this.log.error({ err, method: r.method }, 'a WebSocket request failed');
    return new ProtocolError('SA_ERR_WS_UNAVAILABLE', 'the request failed on the server; retry', r.id);
  }
}
