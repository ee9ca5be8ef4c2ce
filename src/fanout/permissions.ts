/**
 * Topic-level permissions from the token: the `channels` claim lists what a client may
 * read, each entry a channel — `*`, `predictions` (every model), `predictions:<model>`,
 * `alerts`, `metrics` — optionally limited to keys with a prefix: `alerts#tenant-a-`.
 * Denied unless granted. A prefix grant is enforced on every record, whatever filter the
 * client asked for; a filter that can only match keys outside it is refused up front.
 */
import { ProtocolError, type Filter, type RequestId } from './protocol';

interface Grant {
  channel: string;
  prefix?: string;
}

export type Grants = readonly Grant[];

export function grantsFromClaims(claims: Record<string, unknown>): Grants {
  const list = claims.channels;
  if (!Array.isArray(list)) return [];
  return list
    .filter((e): e is string => typeof e === 'string')
    .map((e) => {
      const at = e.indexOf('#');
      return at < 0 ? { channel: e } : { channel: e.slice(0, at), prefix: e.slice(at + 1) };
    });
}

function covers(grant: string, channel: string): boolean {
  return grant === '*' || grant === channel || (grant === 'predictions' && channel.startsWith('predictions:'));
}

/**
 * May these grants read `channel` with `filter`? The answer is the key prefixes every
 * record must match (`undefined`: any key), or a ProtocolError.
 */
export function authorize(grants: Grants, channel: string, filter: Filter, id: RequestId): string[] | undefined {
  const matching = grants.filter((g) => covers(g.channel, channel));
  if (matching.length === 0) throw new ProtocolError('SA_ERR_WS_FORBIDDEN', `the token does not permit channel "${channel}"`, id);
  if (matching.some((g) => g.prefix === undefined)) return undefined;
  const prefixes = matching.map((g) => g.prefix!);
  const inside = (key: string): boolean => prefixes.some((p) => key.startsWith(p));
  const asked = filter.keys ?? (filter.keyPrefix !== undefined ? [filter.keyPrefix] : undefined);
  const narrowEnough = asked?.every((k) => inside(k));
  // A key prefix is allowed when it lies inside a granted one; without a filter the grant itself filters.
  if (asked !== undefined && !narrowEnough && !(filter.keyPrefix !== undefined && prefixes.some((p) => p.startsWith(filter.keyPrefix!)))) {
    throw new ProtocolError(
      'SA_ERR_WS_FORBIDDEN',
      `the token permits "${channel}" only for keys starting with ${prefixes.map((p) => JSON.stringify(p)).join(' or ')}`,
      id,
    );
  }
  return prefixes;
}
