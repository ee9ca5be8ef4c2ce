/**
 * Who may read which store through the query API. With a verifier, every request but
 * /openapi.json carries `Authorization: Bearer <jwt>` (never in the URL, which ends up in
 * access logs); the token's `stores` claim grants stores by name, or all with "*".
 * Without one (an open, development-only API) the listener is on loopback, and a request
 * must name a loopback host, so a page re-pointed at 127.0.0.1 (DNS rebinding) cannot
 * read the stores either.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TokenError, type Claims } from '../auth/jwt';
import { isLoopbackHostHeader } from '../net/hosts';
import type { Logger } from '../logger';
import { fail } from './http';

/** How callers prove who they are: bearer tokens checked by `verify`, or 'none' (loopback only). */
export type QueryAuth = 'none' | { verify(token: string): Promise<Claims> };

/** Stores a caller may read: all, or these names. */
export type StoreGrants = { all: true } | { all: false; names: ReadonlySet<string> };

const OPEN: StoreGrants = { all: true };
const grantsOf = new WeakMap<FastifyRequest, StoreGrants>();

export function storeGrants(claims: Record<string, unknown>): StoreGrants {
  const list = typeof claims.stores === 'string' ? [claims.stores] : claims.stores;
  if (!Array.isArray(list)) return { all: false, names: new Set() };
  const names = list.filter((s): s is string => typeof s === 'string').slice(0, 1000);
  return names.includes('*') ? OPEN : { all: false, names: new Set(names) };
}

export function granted(req: FastifyRequest, store: string): boolean {
  const g = grantsOf.get(req) ?? { all: false, names: new Set<string>() };
  return g.all || g.names.has(store);
}

/** Replies 403 unless the request's token grants `store`; returns whether it did. */
export function requireStore(req: FastifyRequest, reply: FastifyReply, store: string): boolean {
  if (granted(req, store)) return true;
  fail(reply, 'SA_ERR_QUERY_FORBIDDEN', `the token does not grant store "${store}"`, 'ask for a token whose "stores" claim lists this store (or "*")');
  return false;
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer +([A-Za-z0-9._~+/=-]{1,8192})$/.exec(header ?? '');
  return m?.[1];
}

/** The hook every request but the OpenAPI document passes through. */
export function authenticate(app: FastifyInstance, auth: QueryAuth, log: Logger): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/openapi.json') return;
    if (auth === 'none') {
      if (isLoopbackHostHeader(req.headers.host)) return void grantsOf.set(req, OPEN);
      return fail(
        reply,
        'SA_ERR_QUERY_FORBIDDEN',
        'this query API is open to loopback requests only, and this request names another host',
        'use http://127.0.0.1:<port> (or turn on tokens: STREAMING_PROCESSOR__QUERY_AUTH=jwt)',
      );
    }
    const token = bearer(req.headers.authorization);
    if (!token) return unauthorized(reply, 'no bearer token: send "Authorization: Bearer <jwt>"');
    try {
      grantsOf.set(req, storeGrants(await auth.verify(token)));
    } catch (err) {
      if (err instanceof TokenError) return unauthorized(reply, `the token was refused: ${err.message}`);
      // The server could not check it (the identity provider's keys are unavailable): temporary, and not the caller's fault.
      log.warn({ err }, 'a query token could not be checked');
      return fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', 'the token could not be checked right now; retry');
    }
  });
}

function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  reply.header('www-authenticate', 'Bearer');
  return fail(
    reply,
    'SA_ERR_QUERY_UNAUTHORIZED',
    message,
    'get a token for the query API from your identity provider (its audience is STREAMING_PROCESSOR__QUERY_AUDIENCE)',
  );
}
