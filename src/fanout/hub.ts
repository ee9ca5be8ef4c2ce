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

export class Hub {
  private readonly byChannel = new Map<Channel, Set<Subscription>>();

  add(s: Subscription): void {
    let set = this.byChannel.get(s.base);
    if (!set) this.byChannel.set(s.base, (set = new Set()));
    set.add(s);
  }

  remove(s: Subscription): void {
    this.byChannel.get(s.base)?.delete(s);
  }

  publish(p: Publication): void {
    const subs = this.byChannel.get(p.channel);
    if (!subs) return;
    for (const s of subs) {
      if (!matches(s, p)) continue;
      if (s.pending) s.pending.push(p);
      else if (s.after === undefined || passes(s, p)) s.deliver(p, pushFrame(p, s.channel));
    }
  }
}
