/**
 * The client's address, for the per-address connection limit. Behind an ingress the TCP
 * peer is the proxy; its `X-Forwarded-For` is believed only when the peer is one of
 * STREAMING_WEBSOCKET__TRUSTED_PROXIES (addresses or CIDR ranges). The client is then the
 * right-most address in the header that is not itself a trusted proxy: each proxy
 * appends the address it was reached from, so everything left of that was written by the
 * client and proves nothing. Only the header's last MAX_HEADER_CHARS characters and
 * MAX_HOPS entries are read. Addresses are written one way — IPv4-mapped IPv6
 * (`::ffff:10.0.0.1`, what a dual-stack listener reports) as IPv4, IPv6 compressed and in
 * lower case — so one client cannot count as several.
 */
import { BlockList, isIP, SocketAddress } from 'node:net';
import { StreamingError } from '../errors';

/** Longer than a chain of 16 IPv6 proxies (16 × 47 characters). */
const MAX_HEADER_CHARS = 1024;
const MAX_HOPS = 16;
const SETTING = 'STREAMING_WEBSOCKET__TRUSTED_PROXIES';

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  /** Throws SA_ERR_CONFIG_INVALID naming the first entry that is not an address or a CIDR range. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) this.add(entry.trim());
    this.size = entries.length;
  }

  has(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  private add(entry: string): void {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry);
    const raw = m?.[1] ?? '';
    const address = isIP(raw) === 0 ? undefined : canonical(raw);
    if (!m || address === undefined) throw invalid(`"${entry.slice(0, 60)}" is not an IP address or a CIDR range`);
    const family = isIP(address);
    const mapped = family === 4 && isIP(raw) === 6; // ::ffff:a.b.c.d/prefix: a range of IPv4 addresses
    const bits = family === 4 ? 32 : 128;
    const prefix = m[2] === undefined ? bits : Number(m[2]) - (mapped ? 96 : 0);
    if (prefix < 0 || prefix > bits) throw invalid(`"${entry}" has a prefix length outside ${mapped ? '96–128 for an IPv4-mapped range' : `0–${bits}`}`);
    if (hostBitsSet(address, prefix))
      throw invalid(`"${entry}" has address bits set past its /${m[2]} prefix: name the range by its first address, or drop the prefix for one address`);
    this.list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** The address to count a connection under. */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: TrustedProxies): string {
  const ip = canonical(peer ?? '') ?? 'unknown';
  if (trusted.size === 0 || forwardedFor === undefined || !trusted.has(ip)) return ip;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const entries = header.slice(-MAX_HEADER_CHARS).split(',');
  if (header.length > MAX_HEADER_CHARS) entries.shift(); // cut in the middle of an entry
  let client = ip;
  for (let i = entries.length - 1; i >= Math.max(0, entries.length - MAX_HOPS); i--) {
    const hop = hopAddress(entries[i]!);
    if (hop === undefined) return client; // a trusted proxy passed on something unreadable: the nearest address known stands
    client = hop;
    if (!trusted.has(hop)) return hop;
  }
  return client; // only trusted proxies in reach: the farthest one read
}

/** One spelling per address (see the module comment); undefined when it is not an IP address. */
export function canonical(address: string): string | undefined {
  const bare = /^\[(.*)\]$/.exec(address)?.[1] ?? address;
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6 || bare.includes('%')) return undefined; // a zone index names an interface of the proxy, not a client
  const v6 = new SocketAddress({ address: bare, family: 'ipv6' }).address;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6)?.[1];
  return v4 ?? v6;
}

/** An X-Forwarded-For entry: an address, possibly with a port (`192.0.2.1:5000`, `[2001:db8::1]:443`), as some proxies write it. */
function hopAddress(entry: string): string | undefined {
  const e = entry.trim();
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(e) ?? /^\[([^\]]+)\]:\d{1,5}$/.exec(e);
  return canonical(withPort?.[1] ?? e);
}

function hostBitsSet(address: string, prefix: number): boolean {
  const bytes = toBytes(address);
  return bytes.some((b, i) => {
    const keep = Math.min(8, Math.max(0, prefix - i * 8));
    return (b & (0xff >> keep)) !== 0;
  });
}

/** A canonical address as bytes (4 or 16). */
function toBytes(address: string): number[] {
  if (isIP(address) === 4) return address.split('.').map(Number);
  const [head, tail = ''] = address.split('::');
  const groups = (part: string): number[] =>
    part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? toBytes(g) : [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
  const front = groups(head!);
  const back = address.includes('::') ? groups(tail) : [];
  return [...front, ...new Array<number>(16 - front.length - back.length).fill(0), ...back];
}

function invalid(what: string): StreamingError {
  return new StreamingError('SA_ERR_CONFIG_INVALID', `${SETTING}: ${what}`, { hint: 'list IP addresses or CIDR ranges, e.g. 10.0.0.0/8,fd00::/8,192.0.2.10' });
}
