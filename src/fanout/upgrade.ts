/**
 * Checks an HTTP upgrade before any WebSocket exists: shutting down or at the process
 * limit → 503, at the per-address limit → 429 (the address is the client's as
 * client-address.ts finds it), an Origin not allowed → 403, a missing or refused token →
 * 401, a token that could not be checked for a reason of the server's own → 503 (the cause
 * logged, not sent). The token comes from `Authorization: Bearer`, from the
 * `Sec-WebSocket-Protocol` list as `bearer.<token>` (browsers cannot set headers; they
 * also offer `sa.v1`, which the server selects), or from `?token=`. Each refusal is a
 * JSON body with a stable code, what was wrong, and what to do.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../errors';
import type { FanoutContext } from './context';
import { TokenError, type Claims } from '../auth/jwt';

export const SUBPROTOCOL = 'sa.v1';

export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
  hint: string;
  /** For the log only, never in the answer. */
  cause?: unknown;
}

export function tokenOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  const inProtocol = offered.find((p) => p.startsWith('bearer.'));
  if (inProtocol) return inProtocol.slice('bearer.'.length);
  const query = (req.url ?? '').split('?')[1];
  return query === undefined ? undefined : (new URLSearchParams(query).get('token') ?? undefined);
}

export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser: Origin protects browsers from other sites' pages
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export interface Admission {
  /** Other sockets in upgrade or open. */
  open: number;
  /** Other sockets of the same address. */
  perIp: number;
  shuttingDown: boolean;
}

export async function admit(req: IncomingMessage, ip: string, a: Admission, ctx: FanoutContext): Promise<{ claims: Claims } | { refusal: Refusal }> {
  const s = ctx.settings;
  if (a.shuttingDown)
    return refuse(503, 'SA_ERR_WS_UNAVAILABLE', 'this fan-out instance is shutting down', 'connect again: another instance will answer', 'shutdown', ctx);
  if (!ctx.source.ready())
    return refuse(503, 'SA_ERR_WS_UNAVAILABLE', 'this fan-out instance is still reading its history from Kafka', 'retry in a few seconds', 'catching_up', ctx);
  if (a.open >= s.maxConnections)
    return refuse(
      503,
      'SA_ERR_WS_TOO_MANY_CONNECTIONS',
      `this fan-out instance holds its maximum of ${s.maxConnections} connections`,
      'retry later, or scale out the fan-out Deployment',
      'max_connections',
      ctx,
    );
  if (a.perIp >= s.maxConnectionsPerIp)
    return refuse(
      429,
      'SA_ERR_WS_TOO_MANY_CONNECTIONS',
      `${ip} holds its maximum of ${s.maxConnectionsPerIp} connections`,
      'close connections you do not use; one connection can hold many subscriptions',
      'per_ip',
      ctx,
    );
  if (!originAllowed(req, s.allowedOrigins))
    return refuse(
      403,
      'SA_ERR_WS_ORIGIN_FORBIDDEN',
      `origin ${String(req.headers.origin).slice(0, 200)} may not connect`,
      'add it to STREAMING_WEBSOCKET__ALLOWED_ORIGINS',
      'origin',
      ctx,
    );
  const token = tokenOf(req);
  if (!token) return unauthorized('no token: send it as "Authorization: Bearer <jwt>", as the subprotocol "bearer.<jwt>", or as ?token=<jwt>', 'missing', ctx);
  try {
    return { claims: await ctx.verify(token) };
  } catch (err) {
    if (err instanceof TokenError) return unauthorized(`the token was refused: ${err.message}`, 'invalid', ctx);
    const { refusal } = refuse(503, 'SA_ERR_WS_UNAVAILABLE', 'the token could not be checked right now', 'retry in a few seconds', 'verify_failed', ctx);
    return { refusal: { ...refusal, cause: err } };
  }
}

function unauthorized(message: string, reason: string, ctx: FanoutContext): { refusal: Refusal } {
  ctx.metrics.authFailures.inc({ reason });
  return {
    refusal: {
      status: 401,
      code: 'SA_ERR_WS_UNAUTHORIZED',
      message,
      hint: 'get a valid token from your identity provider (or, in development, GET /dev/token)',
    },
  };
}

function refuse(status: number, code: ErrorCode, message: string, hint: string, reason: string, ctx: FanoutContext): { refusal: Refusal } {
  ctx.metrics.rejected.inc({ reason });
  return { refusal: { status, code, message, hint } };
}

/**
 * Answers the upgrade request with a plain HTTP error and closes the socket: no WebSocket
 * is opened. The socket is destroyed once the answer is written (or after 1 s): after an
 * upgrade request Node's HTTP timeouts no longer apply, so a half-closed socket whose
 * peer never closes would otherwise stay open.
 */
export function writeRefusal(socket: Duplex, r: Refusal): void {
  const body = JSON.stringify({ error: { code: r.code, message: r.message, hint: r.hint } });
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' }[r.status] ?? 'Error';
  const extra = r.status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '';
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1_000).unref();
  socket.end(
    `HTTP/1.1 ${r.status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}
