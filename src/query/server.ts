/**
 * The processor's HTTP server (fastify): interactive queries of the state stores, health
 * (`/healthz` alive, `/readyz` tasks assigned and restored), Prometheus `/metrics`, and
 * the OpenAPI document. Every error is `{ error: { code, message, hint?, retriable } }`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../logger';
import { fail } from './http';
import { OPENAPI } from './openapi';
import type { Queryable } from './queryable';
import { storeRoutes } from './store-routes';

export interface QueryServerOptions {
  port: number;
  /** Interface to listen on. Default 127.0.0.1 (0.0.0.0 in a container). */
  host?: string;
  /** How other instances reach this one (forwarded queries). Default http://<host>:<port>. */
  advertisedUrl?: string;
}

export async function startQueryServer(q: Queryable, o: QueryServerOptions, log: Logger): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'alive', instance: q.instance.instanceId }));
  app.get('/readyz', async (_req, reply) => {
    const ready = q.instance.ready();
    return ready.ok ? { status: 'ready', instance: q.instance.instanceId, tasks: q.instance.localTasks() } : fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `not ready: ${ready.why}`);
  });
  app.get('/metrics', async (_req, reply) => reply.header('content-type', q.instance.metrics().contentType).send(await q.instance.metrics().metrics()));
  app.get('/openapi.json', async () => OPENAPI);
  storeRoutes(app, q);
  app.setNotFoundHandler((req, reply) => fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `no endpoint ${req.method} ${req.url.split('?')[0]}`, 'see /openapi.json'));
  app.setErrorHandler((err, _req, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status < 500) return void fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', (err as Error).message);
    log.error({ err }, 'query failed');
    void fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `the query could not be answered: ${(err as Error).message}`);
  });
  await app.listen({ port: o.port, host: o.host ?? '127.0.0.1' });
  log.info({ url: advertisedUrl(o), port: o.port }, 'query server listening');
  return app;
}

export function advertisedUrl(o: QueryServerOptions): string {
  return o.advertisedUrl ?? `http://${o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1'}:${o.port}`;
}
