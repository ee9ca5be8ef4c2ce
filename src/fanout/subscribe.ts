/**
 * A subscription, and resuming one. Without `recover`, the subscription goes live at
 * once and the reply gives the current position of every partition, which the client
 * keeps up to date from the pushes. With `recover`, every partition named resumes after
 * the offset given: from the in-memory history when it still holds that offset, else
 * read back from Kafka up to where the history starts. Meanwhile live publications wait
 * in the subscription; the reply carries the missed ones (in offset order per partition),
 * and the waiting ones follow as pushes, none twice. `recovered` is false only when Kafka
 * itself no longer holds part of the gap (retention deleted it).
 */
import type { Connection } from './connection';
import type { FanoutContext } from './context';
import type { Publication } from './history';
import { matches, pubJson, pushFrame, type Subscription } from './hub';
import { authorize, type Grants } from './permissions';
import { parseChannel, ProtocolError, type Request } from './protocol';

type SubscribeRequest = Extract<Request, { method: 'subscribe' }>;

export interface Subscribed {
  result: object;
  /** Run right after the reply is sent: publications that arrived during a resume follow it. */
  goLive(): void;
}

export async function subscribe(conn: Connection, r: SubscribeRequest, grants: Grants, ctx: FanoutContext): Promise<Subscribed> {
  const ch = parseChannel(r.channel);
  if (!ch) throw new ProtocolError('SA_ERR_WS_UNKNOWN_CHANNEL', `no channel "${r.channel}": use predictions, predictions:<model>, alerts or metrics`, r.id);
  if (ch.base === 'metrics' && r.filter.minScore !== undefined) throw new ProtocolError('SA_ERR_WS_BAD_REQUEST', 'metrics have no score: minScore applies to predictions and alerts', r.id);
  const prefixes = authorize(grants, r.channel, r.filter, r.id);
  const topic = ctx.topics[ch.base];
  const partitions = ctx.source.partitions(topic);
  for (const p of r.recover?.keys() ?? []) {
    if (!partitions.includes(p)) throw new ProtocolError('SA_ERR_WS_BAD_REQUEST', `"${r.channel}" has no partition ${p} (it has ${partitions.length})`, r.id);
  }
  const sub: Subscription = {
    channel: r.channel,
    base: ch.base,
    ...(ch.model ? { model: ch.model } : {}),
    filter: r.filter,
    ...(prefixes ? { prefixes } : {}),
    deliver: (p, frame) => conn.deliver(p, frame, r.channel),
  };
  const positions = (): Record<number, number> => Object.fromEntries(partitions.map((p) => [p, ctx.source.history(topic, p)!.next() - 1]));
  conn.subs.set(r.channel, sub);
  if (!r.recover) {
    ctx.hub.add(sub);
    return { result: { channel: r.channel, positions: positions() }, goLive: () => undefined };
  }
  sub.pending = [];
  ctx.hub.add(sub);
  try {
    const { missed, recovered, fromKafka } = await gather(r.recover, topic, ctx);
    ctx.metrics.resumes.inc({ from: fromKafka ? 'kafka' : 'history', recovered: String(recovered) });
    const last = new Map<number, number>();
    const publications = missed.filter((p) => matches(sub, p)).map((p) => {
      last.set(p.partition, p.offset);
      return pubJson(p);
    });
    return {
      result: { channel: r.channel, recovered, publications, positions: positions() },
      goLive: () => {
        const waiting = sub.pending ?? [];
        sub.pending = undefined;
        for (const p of waiting) if (p.offset > (last.get(p.partition) ?? -1)) sub.deliver(p, pushFrame(p, sub.channel));
      },
    };
  } catch (err) {
    ctx.hub.remove(sub);
    conn.subs.delete(r.channel);
    throw new ProtocolError('SA_ERR_WS_UNAVAILABLE', `resuming "${r.channel}" needed records the history no longer holds, and reading them from Kafka failed: ${(err as Error).message}; retry`, r.id);
  }
}

/** Per partition: what the history holds from the position on, preceded by what Kafka holds before the history starts. */
async function gather(recover: ReadonlyMap<number, number>, topic: string, ctx: FanoutContext): Promise<{ missed: Publication[]; recovered: boolean; fromKafka: boolean }> {
  const snapshot: [number, number, Publication[], number][] = [];
  for (const [partition, want] of recover) {
    const h = ctx.source.history(topic, partition)!;
    const held = h.from(want);
    snapshot.push([partition, want, held, h.first() ?? h.next()]);
  }
  const missed: Publication[] = [];
  let recovered = true;
  let fromKafka = false;
  for (const [partition, want, held, historyStart] of snapshot) {
    if (want < historyStart) {
      const { low, pubs } = await ctx.source.readRange(topic, partition, want, historyStart);
      if (want < low) recovered = false;
      missed.push(...pubs);
      fromKafka = true;
    }
    missed.push(...held);
  }
  return { missed, recovered, fromKafka };
}
