/**
 * The fan-out tier's HTTP side: `/ws` (the WebSocket endpoint, upgrades checked by
 * upgrade.ts), `/healthz`, `/readyz` (503 until the history is warm, and while shutting
 * down), `/metrics`, `/dev/token` (only with devTokens), and the dashboard. ws runs with
 * compression off (frames are shared between clients), `maxPayload` from the settings,
 * and no client tracking of its own. Pings go out every `pingIntervalMs`; a peer that
 * has not answered the previous one is terminated.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import type { Logger } from '../logger';
import { Connection } from './connection';
import type { FanoutContext } from './context';
import { dashboardRoutes } from './dashboard';
import { signHs256 } from './jwt';
import { DISCONNECT } from './protocol';
import { admit, SUBPROTOCOL, writeRefusal } from './upgrade';

export class FanoutServer {
  readonly app: FastifyInstance;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  /** Upgrade sockets from their request until they close (refused, upgrading, or open). */
  private readonly sockets = new Set<Duplex>();
  private readonly perIp = new Map<string, number>();
  private shuttingDown = false;
  private pinger: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: FanoutContext, private readonly log: Logger) {
    ctx.forget = (c) => this.forget(c);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: ctx.settings.maxPayloadBytes, perMessageDeflate: false, clientTracking: false, handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false) });
    this.app = fastify({ logger: false, connectionTimeout: 30_000, requestTimeout: 15_000 });
    this.app.server.headersTimeout = 10_000; // slowloris: a request's headers must arrive within 10 s
    this.routes();
    this.app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  private routes(): void {
    const app = this.app;
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (_req, reply) => {
      const ready = this.ctx.source.ready() && !this.shuttingDown;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : this.shuttingDown ? 'shutting down' : 'catching up', connections: this.connections.size });
    });
    app.get('/metrics', async (_req, reply) => reply.type(this.ctx.metrics.registry.contentType).send(await this.ctx.metrics.registry.metrics()));
    app.get<{ Querystring: { channels?: string; ttl?: string; sub?: string } }>('/dev/token', async (req, reply) => {
      const s = this.ctx.settings;
      if (!s.devTokens || !s.jwtSecret) return reply.code(404).send({ error: { code: 'SA_ERR_WS_UNAUTHORIZED', message: 'development tokens are off', hint: 'set STREAMING_WEBSOCKET__DEV_TOKENS=true and a JWT_SECRET (development only)' } });
      const ttl = Math.min(86_400, Math.max(1, Number(req.query.ttl ?? 3600) || 3600));
      const channels = String(req.query.channels ?? '*').split(',').filter((c) => c.length > 0); // a repeated parameter arrives as an array
      const now = Math.floor(Date.now() / 1000);
      return { token: signHs256({ sub: String(req.query.sub ?? 'dev'), channels, iat: now, exp: now + ttl, ...(s.jwtIssuer ? { iss: s.jwtIssuer } : {}), ...(s.jwtAudience ? { aud: s.jwtAudience } : {}) }, s.jwtSecret), expires_in: ttl };
    });
    dashboardRoutes(app);
  }

  async listen(): Promise<string> {
    const s = this.ctx.settings;
    await this.app.listen({ host: s.host, port: s.port });
    this.pinger = setInterval(() => this.ping(), s.pingIntervalMs);
    const host = s.host === '0.0.0.0' ? '127.0.0.1' : s.host;
    return `http://${host}:${(this.app.server.address() as { port: number }).port}`;
  }

  /**
   * Every upgrade socket is counted (in all and per address) from its request until it
   * closes, whatever path it takes — refused, failed in ws's handshake, dropped by the
   * peer during the token check, or served and closed — so no path leaks a slot.
   */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const ip = req.socket.remoteAddress ?? 'unknown';
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
    if ((req.url ?? '/').split('?')[0] !== '/ws') return writeRefusal(socket, { status: 404, code: 'SA_ERR_WS_BAD_REQUEST', message: `no WebSocket endpoint at ${(req.url ?? '').slice(0, 100)}`, hint: 'connect to /ws' });
    const verdict = await admit(req, ip, { open: this.sockets.size - 1, perIp: (this.perIp.get(ip) ?? 1) - 1, shuttingDown: this.shuttingDown }, this.ctx);
    if ('refusal' in verdict) return writeRefusal(socket, verdict.refusal);
    if (socket.destroyed) return; // the peer left during the token check
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new Connection(ws, ip, verdict.claims, this.ctx);
      this.connections.add(c);
      this.ctx.metrics.connections.set(this.connections.size);
      if (this.shuttingDown) c.disconnect(DISCONNECT.shutdown); // admitted while the shutdown began
    });
  }

  private forget(c: Connection): void {
    if (!this.connections.delete(c)) return;
    this.ctx.metrics.connections.set(this.connections.size);
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
    await Promise.race([this.app.close(), new Promise((r) => setTimeout(r, 2_000).unref())]);
  }
}
