/** Typed error replies and forwarding to the instance that owns a key. */
import { request } from 'node:http';
import type { FastifyReply } from 'fastify';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors';

const STATUS: Partial<Record<ErrorCode, number>> = {
  SA_ERR_QUERY_BAD_REQUEST: 400,
  SA_ERR_QUERY_UNKNOWN_STORE: 404,
  SA_ERR_QUERY_NOT_FOUND: 404,
  SA_ERR_QUERY_UNAVAILABLE: 503,
};

/** `{ error: { code, message, hint, retriable } }` with the code's status; 503 carries Retry-After. */
export function fail(reply: FastifyReply, code: ErrorCode, message: string, hint?: string): FastifyReply {
  const status = STATUS[code] ?? 500;
  if (status === 503) reply.header('retry-after', '1');
  return reply.code(status).send({ error: { code, message, ...(hint ? { hint } : {}), retriable: ERROR_CATALOGUE[code].retriable } });
}

export const FORWARDED = 'x-sa-forwarded';

/** Asks the owning instance the same question; its answer (status and body) is passed on. */
export function forward(url: string, path: string, timeoutMs = 5_000): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: 'GET', headers: { [FORWARDED]: '1', accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, body, headers: { 'retry-after': String(res.headers['retry-after'] ?? '') } }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
