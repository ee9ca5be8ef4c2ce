/**
 * Routing publications to subscriptions. Each publication is encoded and framed once per
 * channel name and the same frame is written to every matching client (ws would frame it
 * again per `send()` — websockets/ws#617); this is only valid with compression off,
 * which the server enforces. What that takes of ws's internals is in ws-internals.ts.
 */
import type { WebSocket } from 'ws';
import type { Publication } from './history';
import type { Channel, Filter } from './protocol';
import { textFrame, writeRawFrame } from './ws-internals';

export interface Subscription {
  /** As the client named it: `predictions`, `predictions:<model>`, `alerts`, `metrics`. */
  channel: string;
  base: Channel;
  model?: string;
  filter: Filter;
  /** Key prefixes the token limits this channel to (undefined: any key). */
  prefixes?: string[];
  /** While a resume reads Kafka: live publications wait here. */
  pending?: Publication[] | undefined;
  /** `filter.keys` as a set, made on first use: checked for every record, with up to 1000 keys. */
  keySet?: ReadonlySet<string>;
  /** After a resume: per partition, the last offset the client has; nothing at or before it is sent. */
  after?: Map<number, number>;
  deliver(p: Publication, frame: Buffer): void;
}

export function matches(s: Subscription, p: Publication): boolean {
  if (s.model !== undefined && p.model !== s.model) return false;
  const f = s.filter;
  if (f.minScore !== undefined && (p.score === undefined || p.score < f.minScore)) return false;
  const key = p.key ?? '';
  if (s.prefixes && !s.prefixes.some((x) => key.startsWith(x))) return false;
  if (f.keyPrefix !== undefined && !key.startsWith(f.keyPrefix)) return false;
  if (f.keys && !(s.keySet ??= new Set(f.keys)).has(key)) return false;
  return true;
}

/** The publication is past the subscription's floor in its partition (a resumed position); the floor is dropped once passed. */
export function passes(s: Subscription, p: Publication): boolean {
  const floor = s.after?.get(p.partition);
  if (floor === undefined) return true;
  if (p.offset <= floor) return false;
  s.after!.delete(p.partition);
  return true;
}

/** The publication as clients see it (in pushes and in resume replies). */
export function pubJson(p: Publication): object {
  return { topic: p.topic, partition: p.partition, offset: p.offset, key: p.key, timestamp: p.timestamp, data: p.data };
}

/** The push frame of `p` on `channel` (header and payload in one buffer), made once and kept on the publication. */
export function pushFrame(p: Publication, channel: string): Buffer {
  p.frames ??= new Map();
  let frame = p.frames.get(channel);
  if (!frame) {
    const payload = Buffer.from(JSON.stringify({ push: { channel, pub: pubJson(p) } }));
    frame = textFrame(payload);
    p.frames.set(channel, frame);
  }
  return frame;
}

/** Writes a ready-made frame to a client's socket: one write, no re-framing. Falls back to `send`. */
export function writeFrame(ws: WebSocket, frame: Buffer, text: () => string): void {
  if (!writeRawFrame(ws, frame)) ws.send(text());
}

/**
 * The subscriptions of one channel, indexed by what selects keys, so a publication visits
 * only those that may want it: with 10,000 clients each on its own key prefix (the
 * dashboard pattern), a record meets one subscription, not 10,000. A subscription sits in
 * one place: under its `filter.keys`, else under its `filter.keyPrefix`, else with those
 * that see every key; `matches` still checks everything.
 */
class ChannelIndex {
  readonly all = new Set<Subscription>();
  readonly byKey = new Map<string, Set<Subscription>>();
  readonly byPrefix = new Map<string, Set<Subscription>>();
  /** Prefix length → how many indexed prefixes have it: a publication looks up one slice of its key per length. */
  readonly prefixLengths = new Map<number, number>();

  add(s: Subscription): void {
    const f = s.filter;
    if (f.keys) for (const k of f.keys) into(this.byKey, k, s);
    else if (f.keyPrefix !== undefined) {
      if (into(this.byPrefix, f.keyPrefix, s)) this.prefixLengths.set(f.keyPrefix.length, (this.prefixLengths.get(f.keyPrefix.length) ?? 0) + 1);
    } else this.all.add(s);
  }

  remove(s: Subscription): void {
    const f = s.filter;
    if (f.keys) for (const k of f.keys) out(this.byKey, k, s);
    else if (f.keyPrefix !== undefined) {
      if (!out(this.byPrefix, f.keyPrefix, s)) return;
      const n = this.prefixLengths.get(f.keyPrefix.length)! - 1;
      if (n === 0) this.prefixLengths.delete(f.keyPrefix.length);
      else this.prefixLengths.set(f.keyPrefix.length, n);
    } else this.all.delete(s);
  }

  /** Every subscription that may want a publication with this key, once each. */
  *candidates(key: string): Iterable<Subscription> {
    yield* this.all;
    const keyed = this.byKey.get(key);
    if (keyed) yield* keyed;
    for (const length of this.prefixLengths.keys()) {
      if (length > key.length) continue;
      const prefixed = this.byPrefix.get(key.slice(0, length));
      if (prefixed) yield* prefixed;
    }
  }
}

/** Adds `s` under `k`; true when `k` is a new entry. */
function into(map: Map<string, Set<Subscription>>, k: string, s: Subscription): boolean {
  const set = map.get(k);
  if (set) {
    set.add(s);
    return false;
  }
  map.set(k, new Set([s]));
  return true;
}

/** Removes `s` from under `k`; true when `k`'s entry went with it. */
function out(map: Map<string, Set<Subscription>>, k: string, s: Subscription): boolean {
  const set = map.get(k);
  if (!set?.delete(s) || set.size > 0) return false;
  map.delete(k);
  return true;
}

export class Hub {
  private readonly byChannel = new Map<Channel, ChannelIndex>();

  add(s: Subscription): void {
    let index = this.byChannel.get(s.base);
    if (!index) this.byChannel.set(s.base, (index = new ChannelIndex()));
    index.add(s);
  }

  remove(s: Subscription): void {
    this.byChannel.get(s.base)?.remove(s);
  }

  publish(p: Publication): void {
    const index = this.byChannel.get(p.channel);
    if (!index) return;
    for (const s of index.candidates(p.key ?? '')) {
      if (!matches(s, p)) continue;
      if (s.pending) s.pending.push(p);
      else if (s.after === undefined || passes(s, p)) s.deliver(p, pushFrame(p, s.channel));
    }
  }
}
