/**
 * The processor's admin listener: `/healthz` (alive), `/readyz` (tasks assigned, stores
 * restored, the schema registry answering) and Prometheus `/metrics`, on an address and
 * port of their own — reachable by the kubelet and the scrape, not served next to the
 * public query API.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import { reachableUrl } from '../net/hosts';
import { fail, unreadable } from './http';

export interface AdminServerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface AdminView {
  instanceId: string;
  ready(): { ok: true } | { ok: false; why: string };
  /** Liveness beyond this process's own event loop (stream threads in processes of their own); default alive. */
  alive?(): { ok: true } | { ok: false; why: string };
  localTasks(): string[];
  metrics(): Registry;
}

export async function startAdminServer(view: AdminView, o: AdminServerOptions, log: Logger): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false, connectionTimeout: 30_000, requestTimeout: 15_000, frameworkErrors: unreadable });
  app.get('/healthz', async (_req, reply) => {
    const alive = view.alive?.() ?? { ok: true };
    return alive.ok ? { status: 'alive', instance: view.instanceId } : fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `not alive: ${alive.why}`);
  });
  app.get('/readyz', async (_req, reply) => {
    const ready = view.ready();
    return ready.ok
      ? { status: 'ready', instance: view.instanceId, tasks: view.localTasks() }
      : fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', `not ready: ${ready.why}`);
  });
  app.get('/metrics', async (_req, reply) => reply.header('content-type', view.metrics().contentType).send(await view.metrics().metrics()));
  app.setNotFoundHandler((req, reply) =>
    fail(
      reply,
      'SA_ERR_QUERY_BAD_REQUEST',
      `no endpoint ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`,
      'the admin listener serves /healthz, /readyz and /metrics',
    ),
  );
  app.setErrorHandler((err, _req, reply) => {
    log.error({ err }, 'an admin request failed');
    void fail(reply, 'SA_ERR_QUERY_UNAVAILABLE', 'the request could not be answered; retry');
  });
  const host = o.host ?? '127.0.0.1';
  await app.listen({ port: o.port, host });
  const url = reachableUrl(host, (app.server.address() as { port: number }).port);
  log.info({ url }, 'admin listener (health, metrics) listening');
  return { app, url };
}
