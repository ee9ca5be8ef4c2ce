/**
 * An in-memory Kafka for the runtime's broker-free tests: partitioned logs with
 * transactions (read_committed sees a record once its transaction commits; commit and
 * abort markers take an offset, as in Kafka), consumer groups with cooperative
 * rebalancing and committed offsets, transactional-id fencing, and faults on demand.
 * It implements what the runtime relies on. The contract suite
 * (test/support/kafka-contract.ts) runs the same expectations against it and against the
 * real broker, so what it checks cannot drift from librdkafka's behaviour unnoticed;
 * what it cannot check on a real broker in a test's time (a member dropped by the group
 * noticing it, faults, held records) is modelled here and documented where it is.
 */
import type { ClusterInfo, Headers, TopicPartition } from '../../../src/kafka';
import { partitionBy } from '../../../src/partitioner';

export type TxnState = 'open' | 'committed' | 'aborted';

export interface Txn {
  state: TxnState;
  /** "topic:partition" → partition touched (a marker goes to each at the end). */
  partitions: Set<string>;
  /** group → offsets added by sendOffsetsToTransaction, written at commit. */
  offsets: Map<string, Map<string, number>>;
  /** A delivery failed: the commit must fail as abortable. */
  failed?: FakeKafkaError;
}

export interface Entry {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
  txn?: Txn;
  /** A commit or abort marker: takes an offset, never delivered. */
  control?: true;
}

export class FakeKafkaError extends Error {
  constructor(
    message: string,
    readonly code: number,
    flags: { isFatal?: boolean; isRetriable?: boolean; isTxnRequiresAbort?: boolean } = {},
  ) {
    super(message);
    Object.assign(this, flags);
  }
}

export interface GroupMember {
  readonly memberId: string;
  readonly topics: readonly string[];
  /** Tells the member of partitions revoked from or assigned to it. */
  rebalance(kind: 'assign' | 'revoke', partitions: TopicPartition[]): void;
}

interface Group {
  generation: number;
  members: GroupMember[];
  assignment: Map<string, TopicPartition[]>;
  committed: Map<string, number>;
}

export type FaultPoint =
  | 'initTransactions'
  | 'beginTransaction'
  | 'sendOffsetsToTransaction'
  | 'commitTransaction'
  | 'abortTransaction'
  | 'consume'
  | 'committed';

export const tpKey = (topic: string, partition: number): string => `${topic}:${partition}`;

export class FakeBroker {
  readonly topics = new Map<string, Entry[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly epochs = new Map<string, object>();
  private readonly noticeAt = new Map<string, number>();
  private readonly faults = new Map<FaultPoint, FakeKafkaError[]>();
  private roundRobin = 0;
  /** Topics whose records no consumer receives for now (a slow or stuck fetch). */
  readonly held = new Set<string>();

  createTopic(name: string, partitions: number): boolean {
    if (this.topics.has(name)) return false;
    this.topics.set(
      name,
      Array.from({ length: partitions }, () => []),
    );
    return true;
  }

  clusterInfo(): ClusterInfo {
    return {
      brokers: [{ id: 1, host: 'fake', port: 0 }],
      topics: new Map([...this.topics].map(([name, parts]) => [name, { partitions: parts.length, replicas: 1 }])),
    };
  }

  log(topic: string, partition: number): Entry[] | undefined {
    return this.topics.get(topic)?.[partition];
  }

  /** The next call at `point` fails with `error` (queued: several calls fail in turn). */
  failNext(point: FaultPoint, error: FakeKafkaError): void {
    this.faults.set(point, [...(this.faults.get(point) ?? []), error]);
  }

  /** Throws the fault queued for `point`, if any. */
  fault(point: FaultPoint): void {
    const queue = this.faults.get(point);
    const err = queue?.shift();
    if (err) throw err;
  }

  /**
   * Appends a record. Without a partition, a keyed record goes where the producer's
   * partitioner puts it: murmur2 for a producer with Java's partitioner (the default here,
   * as for the runtime's producers), CRC32 for librdkafka's default.
   */
  append(
    topic: string,
    partition: number | null,
    key: Buffer | null,
    value: Buffer | null,
    timestamp: number,
    headers: Headers,
    txn?: Txn,
    partitioner: 'murmur2' | 'crc32' = 'murmur2',
  ): number {
    const parts = this.topics.get(topic);
    if (!parts) throw new FakeKafkaError(`Broker: Unknown topic or partition (${topic})`, 3);
    const p = partition ?? (key === null ? this.roundRobin++ % parts.length : partitionBy(partitioner, key, parts.length));
    const log = parts[p];
    if (!log) throw new FakeKafkaError(`Broker: Unknown topic or partition (${topic}:${p})`, 3);
    log.push({ offset: log.length, key, value, timestamp, headers, ...(txn ? { txn } : {}) });
    txn?.partitions.add(tpKey(topic, p));
    return p;
  }

  /** Ends a transaction: a marker on every partition it wrote; on commit its offsets become the groups'. */
  endTxn(txn: Txn, state: 'committed' | 'aborted'): void {
    txn.state = state;
    for (const key of txn.partitions) {
      const at = key.lastIndexOf(':');
      const log = this.log(key.slice(0, at), Number(key.slice(at + 1)))!;
      log.push({ offset: log.length, key: null, value: null, timestamp: Date.now(), headers: [], control: true, txn });
    }
    if (state === 'committed') for (const [group, offsets] of txn.offsets) for (const [tp, o] of offsets) this.group(group).committed.set(tp, o);
  }

  /** The last stable offset: below the first record of a transaction still open. */
  lastStable(topic: string, partition: number): number {
    const log = this.log(topic, partition) ?? [];
    const open = log.find((e) => e.txn?.state === 'open');
    return open ? open.offset : log.length;
  }

  /** A transactional id's newest producer; an older one is fenced. */
  registerTransactional(id: string, producer: object): void {
    this.epochs.set(id, producer);
  }

  isFenced(id: string, producer: object): boolean {
    return this.epochs.get(id) !== producer;
  }

  group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) this.groups.set(id, (g = { generation: 0, members: [], assignment: new Map(), committed: new Map() }));
    return g;
  }

  generationOf(groupId: string, memberId: string): number | undefined {
    const g = this.group(groupId);
    return g.members.some((m) => m.memberId === memberId) ? g.generation : undefined;
  }

  join(groupId: string, member: GroupMember): void {
    const g = this.group(groupId);
    g.members.push(member);
    this.rebalance(g);
  }

  /** A member leaves: its partitions are revoked from it first (as a consumer's close does). */
  leave(groupId: string, memberId: string, tell = true): void {
    const g = this.group(groupId);
    const member = g.members.find((m) => m.memberId === memberId);
    if (!member) return;
    const owned = g.assignment.get(memberId) ?? [];
    if (tell && owned.length > 0) member.rebalance('revoke', owned);
    g.members = g.members.filter((m) => m !== member);
    g.assignment.delete(memberId);
    this.rebalance(g);
  }

  /**
   * A member misses its session timeout (a long pause): the group moves its partitions to
   * the others without telling it. Its offset commits are refused (ILLEGAL_GENERATION);
   * it notices only `noticeAfterMs` later (librdkafka learns at its next heartbeat), then
   * loses its partitions and joins again.
   */
  expire(groupId: string, memberId: string, noticeAfterMs = 300): void {
    this.noticeAt.set(memberId, Date.now() + noticeAfterMs);
    this.leave(groupId, memberId, false);
  }

  /** Whether a member the group dropped has learnt it by now. */
  noticed(memberId: string): boolean {
    const at = this.noticeAt.get(memberId);
    if (at === undefined || Date.now() < at) return at === undefined;
    this.noticeAt.delete(memberId);
    return true;
  }

  /** Cooperative: each member is first revoked what moves away, then assigned what it gains. */
  private rebalance(g: Group): void {
    g.generation++;
    const target = new Map<string, TopicPartition[]>(g.members.map((m) => [m.memberId, []]));
    const owner = new Map<string, string>();
    for (const [member, tps] of g.assignment) for (const tp of tps) owner.set(tpKey(tp.topic, tp.partition), member);
    const all = [...new Set(g.members.flatMap((m) => m.topics))]
      .sort()
      .flatMap((t) => Array.from({ length: this.topics.get(t)?.length ?? 0 }, (_, partition) => ({ topic: t, partition })));
    const share = Math.ceil(all.length / Math.max(1, g.members.length));
    const unplaced: TopicPartition[] = [];
    for (const tp of all) {
      const was = owner.get(tpKey(tp.topic, tp.partition));
      const list = was === undefined ? undefined : target.get(was);
      if (list && list.length < share && g.members.find((m) => m.memberId === was)!.topics.includes(tp.topic)) list.push(tp);
      else unplaced.push(tp);
    }
    for (const tp of unplaced) {
      const m = g.members.filter((x) => x.topics.includes(tp.topic)).sort((a, b) => target.get(a.memberId)!.length - target.get(b.memberId)!.length)[0];
      if (m) target.get(m.memberId)!.push(tp);
    }
    for (const m of g.members) {
      const before = g.assignment.get(m.memberId) ?? [];
      const after = target.get(m.memberId)!;
      const has = new Set(after.map((tp) => tpKey(tp.topic, tp.partition)));
      const had = new Set(before.map((tp) => tpKey(tp.topic, tp.partition)));
      const revoked = before.filter((tp) => !has.has(tpKey(tp.topic, tp.partition)));
      const added = after.filter((tp) => !had.has(tpKey(tp.topic, tp.partition)));
      g.assignment.set(m.memberId, after);
      if (revoked.length > 0) m.rebalance('revoke', revoked);
      if (added.length > 0) m.rebalance('assign', added);
    }
  }
}
