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
  private readonly perIp = new Map<string, number>();
  private upgrading = 0;
  private shuttingDown = false;
  private pinger: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: FanoutContext, private readonly log: Logger) {
    ctx.forget = (c) => this.forget(c);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: ctx.settings.maxPayloadBytes, perMessageDeflate: false, clientTracking: false, handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false) });
    this.app = fastify({ logger: false, connectionTimeout: 30_000, requestTimeout: 15_000 });
    this.app.server.headersTimeout = 10_000; // slowloris: a request's headers must arrive within 10 s
    this.routes();
    this.app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
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
      const channels = (req.query.channels ?? '*').split(',').filter((c) => c.length > 0);
      const now = Math.floor(Date.now() / 1000);
      return { token: signHs256({ sub: req.query.sub ?? 'dev', channels, iat: now, exp: now + ttl, ...(s.jwtIssuer ? { iss: s.jwtIssuer } : {}), ...(s.jwtAudience ? { aud: s.jwtAudience } : {}) }, s.jwtSecret), expires_in: ttl };
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

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    if (new URL(req.url ?? '/', 'http://fanout').pathname !== '/ws') return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    const ip = req.socket.remoteAddress ?? 'unknown';
    this.upgrading++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    let admitted = false;
    try {
      const verdict = await admit(req, ip, { open: this.connections.size + this.upgrading - 1, perIp: new Map([[ip, this.perIp.get(ip)! - 1]]), shuttingDown: this.shuttingDown }, this.ctx);
      if ('refusal' in verdict) return writeRefusal(socket, verdict.refusal);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const c = new Connection(ws, ip, verdict.claims, this.ctx);
        this.connections.add(c);
        this.ctx.metrics.connections.set(this.connections.size);
      });
      admitted = true;
    } finally {
      this.upgrading--;
      if (!admitted) this.release(ip);
    }
  }

  private forget(c: Connection): void {
    if (!this.connections.delete(c)) return;
    this.release(c.ip);
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

  /** Stop accepting, tell every client to reconnect elsewhere, wait for them to go (at most `graceMs`), then close. */
  async close(graceMs = 25_000): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    clearInterval(this.pinger);
    const sockets = [...this.connections].map((c) => c.ws);
    const gone = Promise.all(sockets.map((ws) => new Promise<void>((r) => (ws.readyState === ws.CLOSED ? r() : ws.once('close', () => r())))));
    for (const c of [...this.connections]) c.disconnect(DISCONNECT.shutdown);
    this.log.info({ connections: sockets.length }, 'shutting down: told every client to reconnect elsewhere');
    await Promise.race([gone, new Promise<void>((r) => setTimeout(r, graceMs).unref())]);
    const left = sockets.filter((ws) => ws.readyState !== ws.CLOSED);
    for (const ws of left) ws.terminate();
    if (left.length > 0) this.log.warn({ connections: left.length }, 'clients that did not close in time were cut off');
    await this.app.close();
  }
}
