/**
 * The fan-out tier's HTTP side. The public listener: `/ws` (the WebSocket endpoint,
 * upgrades checked by upgrade.ts), `/dev/token` (only with devTokens, only to a request
 * that names a loopback host) and the dashboard. The admin listener, on its own address
 * and port: `/healthz`, `/readyz` (503 until the history is warm, and while shutting
 * down) and `/metrics`, so they are not served next to the public API. ws runs with
 * compression off (frames are shared between clients), `maxPayload` from the settings,
 * and no client tracking of its own. Pings go out every `pingIntervalMs`; a peer that
 * has not answered the previous one is terminated.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { WebSocketServer } from 'ws';
import { signHs256 } from '../auth/jwt';
import { isLoopbackHostHeader, reachableUrl } from '../net/hosts';
import type { Logger } from '../logger';
import { clientAddress, TrustedProxies } from './client-address';
import { Connection } from './connection';
import type { FanoutContext } from './context';
import { dashboardRoutes } from './dashboard';
import { hideInternalErrors } from './http-errors';
import { DISCONNECT } from './protocol';
import { admit, SUBPROTOCOL, writeRefusal } from './upgrade';

export class FanoutServer {
  readonly app: FastifyInstance;
  /** /healthz, /readyz, /metrics: for the kubelet and the Prometheus scrape, not for clients. */
  readonly admin: FastifyInstance;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  /** Upgrade sockets from their request until they close (refused, upgrading, or open). */
  private readonly sockets = new Set<Duplex>();
  private readonly perIp = new Map<string, number>();
  private shuttingDown = false;
  private pinger: NodeJS.Timeout | undefined;
  /** Whose X-Forwarded-For names the client (client-address.ts). */
  private readonly trustedProxies: TrustedProxies;

  constructor(
    private readonly ctx: FanoutContext,
    private readonly log: Logger,
  ) {
    this.trustedProxies = new TrustedProxies(ctx.settings.trustedProxies);
    ctx.forget = (c) => this.forget(c);
    ctx.metrics.watchReadBacks(() => ctx.source.readBacks.stats());
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.settings.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    // A URL fastify cannot even route (bad percent-encoding) gets a typed answer too.
    const frameworkErrors = (err: Error, _req: unknown, reply: FastifyReply): void =>
      void reply.code(400).send({
        error: { code: 'SA_ERR_WS_BAD_REQUEST', message: `the request cannot be read: ${err.message.slice(0, 200)}`, hint: 'check the request line' },
      });
    this.app = fastify({ logger: false, connectionTimeout: 30_000, requestTimeout: 15_000, frameworkErrors });
    this.app.server.headersTimeout = 10_000; // slowloris: a request's headers must arrive within 10 s
    this.admin = fastify({ logger: false, connectionTimeout: 30_000, requestTimeout: 15_000, frameworkErrors });
    hideInternalErrors(this.app, log);
    hideInternalErrors(this.admin, log);
    this.routes();
    this.adminRoutes();
    this.app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  private routes(): void {
    this.app.get<{ Querystring: { channels?: string; ttl?: string; sub?: string } }>('/dev/token', async (req, reply) => this.devToken(req, reply));
    dashboardRoutes(this.app);
  }

  private adminRoutes(): void {
    const admin = this.admin;
    admin.get('/healthz', async () => ({ status: 'ok' }));
    admin.get('/readyz', async (_req, reply) => {
      const ready = this.ready();
      // Waiting for the registry stays ready: clients still connect, resume from history, and get the held records once it answers.
      const waiting = this.ctx.source.waitingFor;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : this.shuttingDown ? 'shutting down' : 'catching up',
        connections: this.connections.size,
        ...(waiting ? { waitingFor: waiting } : {}),
      });
    });
    admin.get('/metrics', async (_req, reply) => reply.type(this.ctx.metrics.registry.contentType).send(await this.ctx.metrics.registry.metrics()));
  }

  /**
   * Development tokens: configuration allows them only on a loopback listener, and the
   * request must name a loopback host, so a page whose own name was re-pointed at
   * 127.0.0.1 (DNS rebinding) is refused.
   */
  private devToken(req: FastifyRequest<{ Querystring: { channels?: string; ttl?: string; sub?: string } }>, reply: FastifyReply): unknown {
    const dev = this.ctx.devTokens;
    if (!dev)
      return reply.code(404).send({
        error: {
          code: 'SA_ERR_WS_UNAUTHORIZED',
          message: 'development tokens are off',
          hint: 'set STREAMING_WEBSOCKET__DEV_TOKENS=true and STREAMING_AUTH__JWT_SECRET (development only, on a loopback address)',
        },
      });
    if (!isLoopbackHostHeader(req.headers.host))
      return reply.code(403).send({
        error: {
          code: 'SA_ERR_WS_ORIGIN_FORBIDDEN',
          message: 'development tokens are handed out only to requests for a loopback host (localhost, 127.0.0.1, [::1])',
          hint: 'open the dashboard at http://127.0.0.1:<port>/dashboard/',
        },
      });
    const ttl = Math.min(86_400, Math.max(1, Number(req.query.ttl ?? 3600) || 3600));
    const channels = String(req.query.channels ?? '*')
      .split(',')
      .filter((c) => c.length > 0); // a repeated parameter arrives as an array
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: String(req.query.sub ?? 'dev').slice(0, 200),
      channels,
      iat: now,
      exp: now + ttl,
      ...(dev.issuer ? { iss: dev.issuer } : {}),
      ...(dev.audience ? { aud: dev.audience } : {}),
    };
    return { token: signHs256(claims, dev.secret), expires_in: ttl };
  }

  /**
   * Both listeners; returns their base URLs. `shared`: one of several fan-out processes
   * (cluster/): the public port with SO_REUSEPORT, and no admin listener (the primary
   * serves it for all).
   */
  async listen(shared = false): Promise<{ url: string; adminUrl: string | undefined }> {
    const s = this.ctx.settings;
    await this.app.listen({ host: s.host, port: s.port, ...(shared ? { reusePort: true } : {}) });
    if (!shared) await this.admin.listen({ host: s.adminHost, port: s.adminPort });
    this.pinger = setInterval(() => this.ping(), s.pingIntervalMs);
    return { url: baseUrl(s.host, this.app), adminUrl: shared ? undefined : baseUrl(s.adminHost, this.admin) };
  }

  /** Caught up with the history and not shutting down (what /readyz answers). */
  ready(): boolean {
    return this.ctx.source.ready() && !this.shuttingDown;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Every upgrade socket is counted (in all and per address) from its request until it
   * closes, whatever path it takes — refused, failed in ws's handshake, dropped by the
   * peer during the token check, or served and closed — so no path leaks a slot.
   */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const ip = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.trustedProxies);
    this.sockets.add(socket);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.release(ip);
    });
    this.upgrade(req, socket, head, ip).catch((err: unknown) => {
      this.log.warn({ err }, 'an upgrade failed');
      socket.destroy();
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ip: string): Promise<void> {
    if ((req.url ?? '/').split('?')[0] !== '/ws')
      return writeRefusal(socket, {
        status: 404,
        code: 'SA_ERR_WS_BAD_REQUEST',
        message: `no WebSocket endpoint at ${(req.url ?? '').slice(0, 100)}`,
        hint: 'connect to /ws',
      });
    const verdict = await admit(req, ip, { open: this.sockets.size - 1, perIp: (this.perIp.get(ip) ?? 1) - 1, shuttingDown: this.shuttingDown }, this.ctx);
    if ('refusal' in verdict) {
      if (verdict.refusal.cause !== undefined) this.log.warn({ err: verdict.refusal.cause, ip }, 'an upgrade could not be checked');
      return writeRefusal(socket, verdict.refusal);
    }
    if (socket.destroyed) return; // the peer left during the token check
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new Connection(ws, ip, verdict.claims, this.ctx, this.log);
      this.connections.add(c);
      this.ctx.metrics.connections.set(this.connections.size);
      if (this.shuttingDown) c.disconnect(DISCONNECT.shutdown); // admitted while the shutdown began
    });
  }

  private forget(c: Connection): void {
    if (!this.connections.delete(c)) return;
    this.ctx.metrics.connections.set(this.connections.size);
    this.ctx.metrics.closed.inc();
  }

  private release(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  private ping(): void {
    for (const c of this.connections) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  /**
   * Stop accepting (503), tell every client to reconnect elsewhere (4000), wait up to
   * `graceMs` for their sockets to close, destroy what is left, and close the HTTP server
   * (at most 2 s more): within the 30 s a Deployment's pod gets.
   */
  async close(graceMs = 20_000): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    clearInterval(this.pinger);
    const told = this.connections.size;
    for (const c of [...this.connections]) c.disconnect(DISCONNECT.shutdown);
    this.log.info({ connections: told }, 'shutting down: told every client to reconnect elsewhere');
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (this.sockets.size > 0) this.log.warn({ sockets: this.sockets.size }, 'clients that did not close in time were cut off');
    for (const socket of this.sockets) socket.destroy();
    this.app.server.closeAllConnections();
    await Promise.race([Promise.all([this.app.close(), this.admin.close()]), new Promise((r) => setTimeout(r, 2_000).unref())]);
  }
}

/** How to reach a listener from this machine. */
function baseUrl(host: string, app: FastifyInstance): string {
  return reachableUrl(host, (app.server.address() as { port: number }).port);
}
