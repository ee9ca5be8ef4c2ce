/**
 * A subscription, and resuming one. Without `recover`, the subscription goes live at
 * once and the reply gives the current position of every partition, which the client
 * keeps up to date from the pushes. With `recover`, every partition named resumes after
 * the offset given: from the in-memory history when it still holds that offset, else
 * read back from Kafka up to where the history starts. Meanwhile live publications wait
 * in the subscription; the reply carries the missed ones (in offset order per partition),
 * and the waiting ones follow as pushes, none twice. The reply's cap is shared between
 * the partitions before anything is read (resume-cap.ts), and no partition reads or holds
 * more than its share. `recovered` is false when part of the gap is not in the reply:
 * Kafka no longer holds it (retention deleted it), it lies more than
 * MAX_RESUME_READ_PER_PARTITION offsets before the history, or it did not fit in the
 * partition's share (`truncated: true`). Kafka read-backs are rationed per connection and
 * per process (read-back-queue.ts).
 */
import type { Connection } from './connection';
import type { FanoutContext } from './context';
import type { Publication } from './history';
import { matches, passes, pubJson, pushFrame, type Subscription } from './hub';
import { authorize, type Grants } from './permissions';
import { parseChannel, ProtocolError, type Request } from './protocol';
import type { ReadBudget } from './read-back';
import { ReadBackCancelled, ReadBacksBusy } from './read-back-queue';
import { newest, RESUME_CAP, shareCap, type ResumeCap } from './resume-cap';

type SubscribeRequest = Extract<Request, { method: 'subscribe' }>;

export interface Subscribed {
  result: object;
  /** Run right after the reply is sent: publications that arrived during a resume follow it. */
  goLive(): void;
}

export async function subscribe(conn: Connection, r: SubscribeRequest, grants: Grants, ctx: FanoutContext): Promise<Subscribed> {
  const ch = parseChannel(r.channel);
  if (!ch) throw new ProtocolError('SA_ERR_WS_UNKNOWN_CHANNEL', `no channel "${r.channel}": use predictions, predictions:<model>, alerts or metrics`, r.id);
  if (ch.base === 'metrics' && r.filter.minScore !== undefined)
    throw new ProtocolError('SA_ERR_WS_BAD_REQUEST', 'metrics have no score: minScore applies to predictions and alerts', r.id);
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
  const snapshot = [...r.recover].map(([partition, want]) => snapshotOf(ctx, topic, sub, partition, want));
  ctx.hub.add(sub);
  try {
    const { parts, fromKafka } = await gather(conn, sub, snapshot, topic, ctx);
    const truncated = parts.some((part) => part.truncated);
    const recovered = !truncated && parts.every((part) => !part.lost);
    ctx.metrics.resumes.inc({ from: fromKafka ? 'kafka' : 'history', recovered: String(recovered) });
    const publications = parts
      .flatMap((part) => part.pubs)
      .map((p) => {
        sub.after!.set(p.partition, Math.max(sub.after!.get(p.partition) ?? -1, p.offset));
        return pubJson(p);
      });
    return {
      result: { channel: r.channel, recovered, truncated, publications, positions },
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
    return new ProtocolError(
      'SA_ERR_WS_BUSY',
      `resuming "${r.channel}" needs records from Kafka, and ${err.message}: retry in a few seconds (or on another instance)`,
      r.id,
    );
  }
  if (err instanceof ReadBackCancelled)
    return new ProtocolError('SA_ERR_WS_SUBSCRIPTION', `"${r.channel}" was unsubscribed before its resume read Kafka`, r.id);
  conn.log.warn({ err, channel: r.channel, topic }, 'a resume could not read its records back from Kafka');
  return new ProtocolError(
    'SA_ERR_WS_UNAVAILABLE',
    `resuming "${r.channel}" needed records the history no longer holds, and reading them from Kafka failed; retry`,
    r.id,
  );
}

interface PartitionSnapshot {
  partition: number;
  want: number;
  /** What the history held from `want` on that the subscription takes: the newest RESUME_CAP.records of it. */
  held: Publication[];
  /** The history held more of it than `held`. */
  heldMore: boolean;
  /** Where the history starts: older offsets come from Kafka. */
  historyStart: number;
}

function snapshotOf(ctx: FanoutContext, topic: string, sub: Subscription, partition: number, want: number): PartitionSnapshot {
  const h = ctx.source.history(topic, partition)!;
  const held = h.from(want).filter((p) => matches(sub, p));
  const heldMore = held.length > RESUME_CAP.records;
  return { partition, want, held: heldMore ? held.slice(held.length - RESUME_CAP.records) : held, heldMore, historyStart: h.first() ?? h.next() };
}

/** At most how many publications the partition can add to the reply. */
function need(s: PartitionSnapshot): number {
  return s.held.length + (s.want < s.historyStart ? s.historyStart - Math.max(s.want, s.historyStart - MAX_RESUME_READ_PER_PARTITION) : 0);
}

/** A partition's part of the reply: its newest publications within its share, oldest first. */
interface Part {
  pubs: Publication[];
  /** Used of the reply's cap. */
  used: ResumeCap;
  /** Older publications of the gap were left out for the cap. */
  truncated: boolean;
  /** Part of the gap is gone from Kafka (retention), or lies past MAX_RESUME_READ_PER_PARTITION. */
  lost: boolean;
}

const NOTHING: Part = { pubs: [], used: { records: 0, bytes: 0 }, truncated: false, lost: false };

/**
 * Per partition (in the order named), its part of the reply. When any partition needs
 * Kafka, the whole reply is filled as one turn of the source's read-back queue
 * (read-back-queue.ts), which is queued — or refused — before this returns its promise.
 */
async function gather(
  conn: Connection,
  sub: Subscription,
  snapshot: readonly PartitionSnapshot[],
  topic: string,
  ctx: FanoutContext,
): Promise<{ parts: Part[]; fromKafka: boolean }> {
  const fromKafka = snapshot.some((s) => s.want < s.historyStart);
  const fill = (): Promise<Part[]> => fillReply(snapshot, sub, topic, ctx);
  return { parts: await (fromKafka ? ctx.source.readBacks.run(conn, sub, fill) : fill()), fromKafka };
}

/**
 * The reply cap shared between the partitions before anything is read (resume-cap.ts);
 * each partition's Kafka read, one after another, reads and holds no more than its share.
 */
async function fillReply(snapshot: readonly PartitionSnapshot[], sub: Subscription, topic: string, ctx: FanoutContext): Promise<Part[]> {
  const parts = snapshot.map(() => NOTHING);
  await shareCap(snapshot.map(need), RESUME_CAP, async (i, share) => (parts[i] = await fillPartition(snapshot[i]!, share, sub, topic, ctx)).used);
  return parts;
}

/** The newest from the history; if it all fits, the newest before it from Kafka, in what the share has left. */
async function fillPartition(s: PartitionSnapshot, share: ResumeCap, sub: Subscription, topic: string, ctx: FanoutContext): Promise<Part> {
  const recent = newest(s.held, share);
  const truncated = recent.leftOut || s.heldMore;
  if (truncated || s.want >= s.historyStart) return { pubs: recent.pubs, used: { records: recent.records, bytes: recent.bytes }, truncated, lost: false };
  const older = await readBehind(s, { records: share.records - recent.records, bytes: share.bytes - recent.bytes }, sub, topic, ctx);
  return { ...older, pubs: [...older.pubs, ...recent.pubs], used: { records: older.used.records + recent.records, bytes: older.used.bytes + recent.bytes } };
}

/**
 * What Kafka holds before the history starts, at most MAX_RESUME_READ_PER_PARTITION
 * offsets back (an older gap is not fully recovered): its newest publications within
 * `share`, kept so while reading (read-back.ts).
 */
async function readBehind(s: PartitionSnapshot, share: ResumeCap, sub: Subscription, topic: string, ctx: FanoutContext): Promise<Part> {
  if (share.records <= 0 || share.bytes <= 0) return { ...NOTHING, truncated: true };
  const floor = Math.max(s.want, s.historyStart - MAX_RESUME_READ_PER_PARTITION);
  // Unfiltered, every record is in the reply: the share is all there is to read. Filtered,
  // the newest share of offsets may hold few that match, so the whole gap is read.
  const from = takesEvery(sub) ? Math.max(floor, s.historyStart - share.records) : floor;
  const budget: ReadBudget = { ...share, keep: (p) => matches(sub, p) };
  const { low, pubs } = await ctx.source.readRange(topic, s.partition, from, s.historyStart, budget);
  const kept = budget.kept ?? newest(pubs.filter(budget.keep), share); // a source that ignored the budget is held to it here
  return {
    pubs: kept.pubs,
    used: { records: kept.records, bytes: kept.bytes },
    truncated: kept.leftOut || (from > floor && low < from),
    lost: s.want < Math.max(low, floor),
  };
}

/** The subscription takes every record of its channel (as `matches` sees it): no filter, model or granted prefixes. */
function takesEvery(sub: Subscription): boolean {
  const f = sub.filter;
  return sub.model === undefined && sub.prefixes === undefined && f.keys === undefined && f.keyPrefix === undefined && f.minScore === undefined;
}

const MAX_RESUME_READ_PER_PARTITION = 10_000;
