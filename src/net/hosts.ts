/**
 * Loopback addresses: what only processes on the same machine can reach. Development
 * conveniences (token minting, an open query API, unchecked audiences) are allowed only
 * there, and a request to them must name a loopback host (against DNS rebinding).
 */
import { isIP } from 'node:net';

/** A listen address (or host name) that only this machine reaches: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7));
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The URL this machine reaches a listener at: a wildcard address is reached on loopback; IPv6 in brackets. */
export function reachableUrl(host: string, port: number, scheme = 'http'): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}

/**
 * Whether an HTTP Host header names this machine's loopback (with or without a port).
 * A page on another site that re-points its own name at 127.0.0.1 (DNS rebinding) still
 * sends its own name, so it is refused.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined || header.length === 0 || header.length > 300) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header.trim());
  return m !== null && isLoopbackHost(m[1]!);
}
