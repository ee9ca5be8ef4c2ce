/**
 * Minimal HTTP client for the stack scripts, on node:http. (fetch's AbortSignal.timeout
 * is an unref'd timer: when a peer drops the connection in a certain way the process can
 * run out of work and exit 0 mid-await, which a CLI must never do.)
 */
import { request } from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

export function httpRequest(url: string, opts: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> =
      opts.body === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json', 'content-length': String(Buffer.byteLength(opts.body)) };
    const req = request(url, { method: opts.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url} within ${opts.timeoutMs ?? 2000} ms`)), opts.timeoutMs ?? 2000);
    req.on('error', reject);
    req.on('close', () => clearTimeout(timer));
    req.end(opts.body);
  });
}

/** True when the URL answers 2xx; false on any error or other status. */
export async function answersOk(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await httpRequest(url, { timeoutMs });
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}
