/**
 * The processor's interactive-query API (fastify): the stores, read by key or scanned,
 * and the OpenAPI document. Every request but /openapi.json is authenticated (auth.ts);
 * every error is `{ error: { code, message, hint?, retriable } }`, and an unexpected
 * failure answers without internals (they go to the log). Health and metrics are on the
 * admin listener (admin.ts).
 */
import { networkInterfaces } from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { isLoopbackHost, reachableUrl } from '../net/hosts';
import { StreamingError } from '../errors';
import type { Logger } from '../logger';
import { authenticate, type QueryAuth } from './auth';
import { isBaseUrl } from './claim';
import { fail, unreadable } from './http';
import { OPENAPI } from './openapi';
import type { Queryable } from './queryable';
import { storeRoutes } from './store-routes';

export interface QueryServerOptions {
  port: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** How other instances reach this one (forwarded queries): http(s)://host:port, no path. Default http://<host>:<port>. */
  advertisedUrl?: string;
  /** Bearer-token verification, or 'none' (the default, allowed only on a loopback host). */
  auth?: QueryAuth;
  /** Serve https with this PEM key and certificate (chain). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/** Refuses an open API off loopback, and an advertised URL that is not a plain base URL. */
export function checkQueryServerOptions(o: QueryServerOptions): void {
  const open = (o.auth ?? 'none') === 'none';
  if (open && !isLoopbackHost(o.host ?? '127.0.0.1')) {
    throw new StreamingError('SA_ERR_STREAMS_CONFIG', `queryServer on ${o.host} has no auth: an open query API must not face the network`, {
      hint: 'give queryServer.auth a token verifier (STREAMING_PROCESSOR__QUERY_AUTH=jwt), or listen on 127.0.0.1',
    });
  }
  if (o.advertisedUrl !== undefined && !isBaseUrl(o.advertisedUrl)) {
    throw new StreamingError(
      'SA_ERR_STREAMS_CONFIG',
      `queryServer.advertisedUrl ${JSON.stringify(o.advertisedUrl.slice(0, 200))} is not an http(s)://host:port base URL`,
      { hint: 'advertise the scheme, host and port only, e.g. https://processor-0.processor:8080' },
    );
  }
}

/** The API's routes and hooks, not yet listening (fuzz tests drive it with inject()). */
export function buildQueryServer(q: Queryable, o: QueryServerOptions, log: Logger): FastifyInstance {
  const app = Fastify({
    ...(o.tls ? { https: { key: o.tls.key, cert: o.tls.cert } } : {}),
    logger: false,
    connectionTimeout: 30_000,
    requestTimeout: 15_000,
    routerOptions: { maxParamLength: 4096 },
    frameworkErrors: unreadable,
  });
  app.server.headersTimeout = 10_000;
  app.get('/openapi.json', async () => OPENAPI);
  authenticate(app, o.auth ?? 'none', log);
  storeRoutes(app, q, log);
  app.setNotFoundHandler((req, reply) =>
    fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `no endpoint ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`, 'see /openapi.json'),
  );
  app.setErrorHandler((err, _req, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status < 500) return void fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', (err as Error).message.slice(0, 300));
    log.error({ err }, 'query failed');
    void fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', 'the query could not be answered; retry (the server log has the cause)');
  });
  return app;
}

export async function startQueryServer(q: Queryable, o: QueryServerOptions, log: Logger): Promise<FastifyInstance> {
  const app = buildQueryServer(q, o, log);
  await app.listen({ port: o.port, host: o.host ?? '127.0.0.1' }).catch((err: unknown) => {
    throw new StreamingError(
      'SA_ERR_STREAMS_CONFIG',
      `the query API cannot listen on ${o.host ?? '127.0.0.1'}:${o.port}: ${err instanceof Error ? err.message : String(err)}`,
      { hint: 'choose a free port and an address of this machine (STREAMING_PROCESSOR__QUERY_HOST/QUERY_PORT)' },
    );
  });
  log.info({ url: advertisedUrl(o), port: o.port, auth: (o.auth ?? 'none') === 'none' ? 'none (loopback)' : 'bearer tokens' }, 'query server listening');
  return app;
}

/**
 * How peers reach this API. Unset, a wildcard listener advertises this machine's first
 * non-loopback IPv4 address (in a pod: the pod IP, which every peer can reach), never
 * 127.0.0.1 — that would send a peer's forwarded query back to the peer itself.
 */
export function advertisedUrl(o: QueryServerOptions): string {
  if (o.advertisedUrl) return o.advertisedUrl.replace(/\/+$/, '');
  const host = o.host ?? '127.0.0.1';
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  return reachableUrl(wildcard ? machineAddress() : host, o.port, o.tls ? 'https' : 'http');
}

function machineAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
