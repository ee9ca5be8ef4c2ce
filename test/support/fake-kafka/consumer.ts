/** The Consumer interface on the in-memory broker (broker.ts). */
import { randomUUID } from 'node:crypto';
import type {
  ClientSettings,
  ClusterInfo,
  ConsumedRecord,
  Consumer,
  ConsumerHooks,
  TopicPartition,
  TopicPartitionOffset,
  Watermarks,
} from '../../../src/kafka';
import { FakeKafkaError, tpKey, type FakeBroker, type GroupMember } from './broker';

const OFFSET_BEGINNING = -2;

export class FakeConsumer implements Consumer {
  readonly memberId = randomUUID();
  readonly groupId: string;
  private readonly readCommitted: boolean;
  private readonly eof: boolean;
  private inGroup = false;
  private rejoining = false;
  private connected = true;
  /** "topic:partition" → next offset to read. */
  /** `known`: something was fetched since the assignment (librdkafka's position is unknown before). */
  private readonly positions = new Map<string, { topic: string; partition: number; offset: number; known?: boolean }>();
  private readonly eofSent = new Set<string>();
  private readonly eofListeners = new Set<(tp: TopicPartition) => void>();
  private next = 0;

  constructor(
    private readonly broker: FakeBroker,
    settings: ClientSettings,
    private readonly hooks: ConsumerHooks,
  ) {
    this.groupId = String(settings['group.id'] ?? '');
    this.readCommitted = settings['isolation.level'] === 'read_committed';
    this.eof = settings['enable.partition.eof'] === true || settings['enable.partition.eof'] === 'true';
  }

  /** The group member the broker rebalances: events reach the listener asynchronously, as librdkafka's do. */
  private readonly member: GroupMember & { topics: string[] } = {
    memberId: this.memberId,
    topics: [],
    rebalance: (kind, partitions) => setImmediate(() => this.hooks.onRebalance?.(kind, partitions)),
  };

  /** The generation this member joined in, or undefined once the group dropped it. */
  generation(): number | undefined {
    return this.inGroup ? this.broker.generationOf(this.groupId, this.memberId) : undefined;
  }

  subscribe(topics: readonly string[]): void {
    this.member.topics = [...topics];
    this.inGroup = true;
    this.broker.join(this.groupId, this.member);
  }

  async consume(max: number): Promise<ConsumedRecord[]> {
    this.broker.fault('consume');
    this.noticeLostAssignment();
    let out = this.fetch(max);
    if (out.length === 0) {
      await new Promise((r) => setTimeout(r, this.hooks.consumeTimeoutMs));
      out = this.fetch(max);
    } else await new Promise((r) => setImmediate(r));
    return out;
  }

  /**
   * As librdkafka does once it learns the group dropped it (its session timed out): its
   * partitions are revoked (lost), and it joins again.
   */
  private noticeLostAssignment(): void {
    if (!this.inGroup || this.rejoining || this.generation() !== undefined || !this.broker.noticed(this.memberId)) return;
    this.rejoining = true;
    const owned = [...this.positions.values()].map(({ topic, partition }) => ({ topic, partition }));
    if (owned.length > 0) this.member.rebalance('revoke', owned);
    setImmediate(() => {
      this.rejoining = false;
      this.broker.join(this.groupId, this.member);
    });
  }

  /** Records from the assigned partitions, one partition after another, fairly. */
  private fetch(max: number): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    const parts = [...this.positions.values()];
    for (let i = 0; i < parts.length && out.length < max; i++) {
      const p = parts[(this.next + i) % parts.length]!;
      if (this.broker.held.has(p.topic)) continue;
      const log = this.broker.log(p.topic, p.partition) ?? [];
      const end = this.readCommitted ? this.broker.lastStable(p.topic, p.partition) : log.length;
      while (p.offset < end && out.length < max) {
        const e = log[p.offset++]!;
        if (e.control || (this.readCommitted && e.txn?.state === 'aborted')) continue;
        out.push({ topic: p.topic, partition: p.partition, offset: e.offset, key: e.key, value: e.value, timestamp: e.timestamp, headers: e.headers });
      }
      p.known = true;
      const key = tpKey(p.topic, p.partition);
      if (p.offset >= end && !this.eofSent.has(`${key}@${end}`)) {
        this.eofSent.add(`${key}@${end}`);
        if (this.eof) for (const l of this.eofListeners) setImmediate(() => l({ topic: p.topic, partition: p.partition }));
      }
    }
    this.next++;
    return out;
  }

  incrementalAssign(partitions: readonly (TopicPartition & { offset?: number })[]): void {
    const committed = this.broker.group(this.groupId).committed;
    for (const tp of partitions) {
      const from = tp.offset ?? committed.get(tpKey(tp.topic, tp.partition)) ?? 0;
      this.positions.set(tpKey(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition, offset: Math.max(0, from) });
    }
  }

  async metadata(): Promise<ClusterInfo> {
    return this.broker.clusterInfo();
  }

  incrementalUnassign(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.positions.delete(tpKey(tp.topic, tp.partition));
  }

  assign(partitions: readonly TopicPartitionOffset[]): void {
    this.positions.clear();
    for (const tp of partitions)
      this.positions.set(tpKey(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition, offset: Math.max(tp.offset, 0) });
  }

  unassign(): void {
    this.positions.clear();
  }

  async committed(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    this.broker.fault('committed');
    const committed = this.broker.group(this.groupId).committed;
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: committed.get(tpKey(tp.topic, tp.partition)) ?? -1 }));
  }

  async seek(to: TopicPartitionOffset): Promise<void> {
    const p = this.positions.get(tpKey(to.topic, to.partition));
    if (!p) throw new FakeKafkaError(`Local: Erroneous state (seek on ${to.topic}:${to.partition}, not assigned)`, -172);
    p.offset = to.offset === OFFSET_BEGINNING ? 0 : to.offset;
  }

  commitSync(offsets: readonly TopicPartitionOffset[]): void {
    if (this.generation() === undefined) throw new FakeKafkaError('Broker: Specified group generation id is not valid', 22);
    const committed = this.broker.group(this.groupId).committed;
    for (const o of offsets) committed.set(tpKey(o.topic, o.partition), o.offset);
  }

  position(partitions: readonly TopicPartition[]): TopicPartitionOffset[] {
    return partitions.map((tp) => {
      const p = this.positions.get(tpKey(tp.topic, tp.partition));
      return { topic: tp.topic, partition: tp.partition, offset: p?.known ? p.offset : -1 };
    });
  }

  cachedWatermarks(topic: string, partition: number): Watermarks | undefined {
    return this.positions.has(tpKey(topic, partition)) ? this.watermarks(topic, partition) : undefined;
  }

  async queryWatermarks(topic: string, partition: number): Promise<Watermarks> {
    if (!this.broker.log(topic, partition)) throw new FakeKafkaError(`Broker: Unknown topic or partition (${topic}:${partition})`, 3);
    return this.watermarks(topic, partition);
  }

  private watermarks(topic: string, partition: number): Watermarks {
    const log = this.broker.log(topic, partition) ?? [];
    return { low: 0, high: this.readCommitted ? this.broker.lastStable(topic, partition) : log.length };
  }

  onPartitionEof(listener: (tp: TopicPartition) => void): () => void {
    this.eofListeners.add(listener);
    return () => void this.eofListeners.delete(listener);
  }

  isConnected(): boolean {
    return this.connected;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    if (this.inGroup) this.broker.leave(this.groupId, this.memberId);
    this.inGroup = false;
    await new Promise((r) => setTimeout(r, 5)); // the revocation is answered before the close completes
    this.connected = false;
    this.positions.clear();
  }
}
