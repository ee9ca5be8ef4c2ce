/**
 * Typed error replies, and forwarding a question to the instance that owns its key.
 *
 * A forward goes only to an owner from the host directory (claims validated there), to
 * the owner's advertised base URL plus a path this instance built from the parsed
 * request — nothing of the request's own host or absolute URL is used, so a request line
 * such as `GET http://elsewhere/…` cannot send it anywhere else. It passes the caller's
 * credentials on, follows no redirect, has a timeout and a size cap, and is marked so the
 * owner never forwards it again (one hop).
 */
import type { FastifyReply } from 'fastify';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors';
import { readCapped } from '../net/capped-body';

const STATUS: Partial<Record<ErrorCode, number>> = {
  SA_ERR_QUERY_BAD_REQUEST: 400,
  SA_ERR_QUERY_UNAUTHORIZED: 401,
  SA_ERR_QUERY_FORBIDDEN: 403,
  SA_ERR_QUERY_UNKNOWN_STORE: 404,
  SA_ERR_QUERY_NOT_FOUND: 404,
  SA_ERR_QUERY_AMBIGUOUS: 409,
  SA_ERR_QUERY_UNAVAILABLE: 503,
};

/** `{ error: { code, message, hint, retriable } }` with the code's status; 503 carries Retry-After. */
export function fail(reply: FastifyReply, code: ErrorCode, message: string, hint?: string): FastifyReply {
  const status = STATUS[code] ?? 500;
  if (status === 503) reply.header('retry-after', '1');
  return reply.code(status).send({ error: { code, message, ...(hint ? { hint } : {}), retriable: ERROR_CATALOGUE[code].retriable } });
}

/** fastify's answer to a request it cannot even route (bad percent-encoding): the same typed 400 as any bad request. */
export function unreadable(err: Error, _req: unknown, reply: FastifyReply): void {
  void fail(reply, 'SA_ERR_QUERY_BAD_REQUEST', `the request cannot be read: ${err.message.slice(0, 200)}`);
}

/** Set on forwarded requests: the receiver answers from its own tasks only. */
export const FORWARDED = 'x-sa-forwarded';
/** On a forwarded search: the partitions the receiver should look in (comma-separated). */
export const SEARCH = 'x-sa-search';

const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

export interface Forwarded {
  status: number;
  body: string;
  retryAfter: string | undefined;
}

export interface ForwardOptions {
  authorization?: string;
  search?: readonly number[];
  timeoutMs?: number;
}

/** Asks the owner at `baseUrl` for `path` (built by the caller from parsed parameters, starting with "/"). */
export async function forward(baseUrl: string, path: string, o: ForwardOptions = {}): Promise<Forwarded> {
  const base = new URL(baseUrl);
  const target = new URL(path, base);
  if (!path.startsWith('/') || path.startsWith('//') || target.origin !== base.origin) throw new Error("refusing to forward outside the owner's base URL");
  const headers: Record<string, string> = { accept: 'application/json', [FORWARDED]: '1' };
  if (o.authorization) headers.authorization = o.authorization;
  if (o.search) headers[SEARCH] = o.search.join(',');
  const res = await fetch(target, { method: 'GET', headers, redirect: 'manual', signal: AbortSignal.timeout(o.timeoutMs ?? 5_000) });
  if (res.status >= 300 && res.status < 400) throw new Error(`the owner answered a redirect (HTTP ${res.status}), which is not followed`);
  return { status: res.status, body: (await readCapped(res, MAX_ANSWER_BYTES)).toString('utf8'), retryAfter: res.headers.get('retry-after') ?? undefined };
}
