/**
 * A subscription, and resuming one. Without `recover`, the subscription goes live at
 * once and the reply gives the current position of every partition, which the client
 * keeps up to date from the pushes. With `recover`, every partition named resumes after
 * the offset given: from the in-memory history when it still holds that offset, else
 * read back from Kafka up to where the history starts. Meanwhile live publications wait
 * in the subscription; the reply carries the missed ones (in offset order per partition),
 * and the waiting ones follow as pushes, none twice. `recovered` is false when part of
 * the gap is not in the reply: Kafka no longer holds it (retention deleted it), it lies
 * more than MAX_RESUME_READ_PER_PARTITION offsets before the history, or the reply was
 * capped (resume-cap.ts, `truncated: true`). Kafka read-backs are rationed per connection
 * and per process (read-back-queue.ts).
 */
import type { Connection } from './connection';
import type { FanoutContext } from './context';
import type { Publication } from './history';
import { matches, passes, pubJson, pushFrame, type Subscription } from './hub';
import { authorize, type Grants } from './permissions';
import { parseChannel, ProtocolError, type Request } from './protocol';
import { ReadBackCancelled, ReadBacksBusy } from './read-back-queue';
import { capResume } from './resume-cap';

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
  // Taken with the history snapshot, in the same tick as the hub registration: what the reply
  // says the client has seen never runs ahead of what it will have been sent.
  const positions = Object.fromEntries(partitions.map((p) => [p, ctx.source.history(topic, p)!.next() - 1]));
  conn.subs.set(r.channel, sub);
  if (!r.recover) {
    ctx.hub.add(sub);
    return { result: { channel: r.channel, positions }, goLive: () => undefined };
  }
  // Nothing at or before a named position is sent again, live or replayed.
  sub.after = new Map([...r.recover].map(([partition, want]) => [partition, want - 1]));
  sub.pending = [];
  const snapshot = [...r.recover].map(([partition, want]) => snapshotOf(ctx, topic, partition, want));
  ctx.hub.add(sub);
  try {
    const { missed, recovered, fromKafka } = await gather(conn, sub, snapshot, topic, ctx);
    const capped = capResume(missed.map((ps) => ps.filter((p) => matches(sub, p))));
    ctx.metrics.resumes.inc({ from: fromKafka ? 'kafka' : 'history', recovered: String(recovered && !capped.truncated) });
    const publications = capped.partitions.flat().map((p) => {
      sub.after!.set(p.partition, Math.max(sub.after!.get(p.partition) ?? -1, p.offset));
      return pubJson(p);
    });
    return {
      result: { channel: r.channel, recovered: recovered && !capped.truncated, truncated: capped.truncated, publications, positions },
      goLive: () => {
        const waiting = sub.pending ?? [];
        sub.pending = undefined;
        if (conn.subs.get(r.channel) !== sub) return; // unsubscribed meanwhile
        for (const p of waiting) if (passes(sub, p)) sub.deliver(p, pushFrame(p, sub.channel));
      },
    };
  } catch (err) {
    ctx.hub.remove(sub);
    if (conn.subs.get(r.channel) === sub) conn.subs.delete(r.channel);
    throw resumeFailed(err, r, topic, conn, ctx);
  }
}

/** What the client is told when a resume could not be answered; the cause goes to the log only. */
function resumeFailed(err: unknown, r: SubscribeRequest, topic: string, conn: Connection, ctx: FanoutContext): ProtocolError {
  if (err instanceof ReadBacksBusy) {
    ctx.metrics.resumesRefused.inc({ reason: 'busy' });
    return new ProtocolError('SA_ERR_WS_BUSY', `resuming "${r.channel}" needs records from Kafka, and ${err.message}: retry in a few seconds (or on another instance)`, r.id);
  }
  if (err instanceof ReadBackCancelled) return new ProtocolError('SA_ERR_WS_SUBSCRIPTION', `"${r.channel}" was unsubscribed before its resume read Kafka`, r.id);
  conn.log.warn({ err, channel: r.channel, topic }, 'a resume could not read its records back from Kafka');
  return new ProtocolError('SA_ERR_WS_UNAVAILABLE', `resuming "${r.channel}" needed records the history no longer holds, and reading them from Kafka failed; retry`, r.id);
}

interface PartitionSnapshot {
  partition: number;
  want: number;
  /** What the history held from `want` on. */
  held: Publication[];
  /** Where the history starts: older offsets come from Kafka. */
  historyStart: number;
}

function snapshotOf(ctx: FanoutContext, topic: string, partition: number, want: number): PartitionSnapshot {
  const h = ctx.source.history(topic, partition)!;
  return { partition, want, held: h.from(want), historyStart: h.first() ?? h.next() };
}

/**
 * Per partition (in the order named): what Kafka holds before the history starts (at
 * most MAX_RESUME_READ_PER_PARTITION offsets back: an older gap is not fully recovered),
 * then what the history held. The Kafka reads of one resume run one after another, as
 * one turn of the source's read-back queue (read-back-queue.ts), which is queued — or
 * refused — before this returns its promise.
 */
async function gather(conn: Connection, sub: Subscription, snapshot: readonly PartitionSnapshot[], topic: string, ctx: FanoutContext): Promise<{ missed: Publication[][]; recovered: boolean; fromKafka: boolean }> {
  const behind = snapshot.filter((s) => s.want < s.historyStart);
  const read = behind.length === 0 ? new Map<number, ReadBack>() : await ctx.source.readBacks.run(conn, sub, () => readBehind(behind, topic, ctx));
  return {
    missed: snapshot.map((s) => [...(read.get(s.partition)?.pubs ?? []), ...s.held]),
    recovered: [...read.values()].every((r) => !r.lost),
    fromKafka: behind.length > 0,
  };
}

interface ReadBack {
  pubs: Publication[];
  /** Part of the gap is gone from Kafka (retention), or lies past MAX_RESUME_READ_PER_PARTITION. */
  lost: boolean;
}

async function readBehind(behind: readonly PartitionSnapshot[], topic: string, ctx: FanoutContext): Promise<Map<number, ReadBack>> {
  const out = new Map<number, ReadBack>();
  for (const { partition, want, historyStart } of behind) {
    const from = Math.max(want, historyStart - MAX_RESUME_READ_PER_PARTITION);
    const { low, pubs } = await ctx.source.readRange(topic, partition, from, historyStart);
    out.set(partition, { pubs, lost: want < Math.max(low, from) });
  }
  return out;
}

const MAX_RESUME_READ_PER_PARTITION = 10_000;
