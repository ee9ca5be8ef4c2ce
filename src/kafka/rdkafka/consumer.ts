/** The Consumer interface over node-rdkafka's KafkaConsumer. */
import Kafka, { type LibrdKafkaError, type Message } from 'node-rdkafka';
import type { Consumer, ConsumerHooks } from '../clients';
import type { ClientSettings, ClusterInfo, ConsumedRecord, Header, TopicPartition, TopicPartitionOffset, Watermarks } from '../types';
import { consumeBatch, nativeClientOf } from './group-batch';
import { promised } from './promised';

const ASSIGN = -175;
const REVOKE = -174;
const NO_HEADERS: readonly Header[] = Object.freeze([]);

/** `batch: false` keeps node-rdkafka's own consume (the before of the batch reader, for benchmarks). */
export async function connectConsumer(settings: ClientSettings, hooks: ConsumerHooks, options: { batch?: boolean } = {}): Promise<RdKafkaConsumer> {
  const onRebalance = hooks.onRebalance;
  const all: Record<string, unknown> = { ...settings };
  if (onRebalance) {
    all.rebalance_cb = (err: LibrdKafkaError | undefined, assignment: TopicPartition[]) => {
      if (err?.code === ASSIGN) onRebalance('assign', assignment);
      else if (err?.code === REVOKE) onRebalance('revoke', assignment);
    };
  }
  const consumer = new Kafka.KafkaConsumer(all as Kafka.ConsumerGlobalConfig, { 'auto.offset.reset': 'earliest' });
  await promised<unknown>((cb) => consumer.connect({ timeout: hooks.connectTimeoutMs ?? 30_000 }, cb));
  consumer.setDefaultConsumeTimeout(hooks.consumeTimeoutMs);
  return new RdKafkaConsumer(consumer, options.batch === false ? undefined : nativeClientOf(consumer), hooks.consumeTimeoutMs);
}

/**
 * node-rdkafka's message, made a ConsumedRecord in place (no second object per record):
 * the key as bytes or null, the value null rather than undefined, headers as a list.
 */
export function asRecord(m: Message): ConsumedRecord {
  const r = m as unknown as ConsumedRecord & { key: unknown; headers: unknown; value: unknown };
  const key = m.key;
  if (key === undefined || key === null) r.key = null;
  else if (!Buffer.isBuffer(key)) r.key = Buffer.from(key);
  if (m.value === undefined) r.value = null;
  if (m.timestamp === undefined) r.timestamp = Date.now();
  const headers = m.headers;
  r.headers =
    headers === undefined || headers.length === 0
      ? NO_HEADERS
      : headers.flatMap((h) => Object.entries(h).map(([k, v]) => ({ key: k, value: Buffer.isBuffer(v) ? v : Buffer.from(v) })));
  return r;
}

export class RdKafkaConsumer implements Consumer {
  /**
   * `native`: node-rdkafka's native consumer, when the processing batch reader can read it
   * (group-batch.ts); `consume` then takes whole batches from the same consumer queue.
   */
  constructor(
    readonly client: Kafka.KafkaConsumer,
    private readonly native?: object,
    private readonly consumeTimeoutMs = 10,
  ) {}

  /** How consume() reads, for logs: 'batch' or 'records'. */
  get reads(): 'batch' | 'records' {
    return this.native ? 'batch' : 'records';
  }

  subscribe(topics: readonly string[]): void {
    this.client.subscribe([...topics]);
  }

  consume(max: number): Promise<ConsumedRecord[]> {
    if (this.native)
      return consumeBatch(this.native, max, this.consumeTimeoutMs).then(({ records, eof }) => {
        // As node-rdkafka's consume: the partitions read to their end reach the 'partition.eof' listeners.
        for (const e of eof) this.client.emit('partition.eof', { topic: e.topic, partition: e.partition });
        return records;
      });
    return new Promise((resolve, reject) =>
      this.client.consume(max, (err, messages) => {
        if (err) return reject(err);
        for (let i = 0; i < messages.length; i++) asRecord(messages[i]!);
        resolve(messages as unknown as ConsumedRecord[]);
      }),
    );
  }

  incrementalAssign(partitions: readonly (TopicPartition & { offset?: number })[]): void {
    this.client.incrementalAssign([...partitions]);
  }

  incrementalUnassign(partitions: readonly TopicPartition[]): void {
    this.client.incrementalUnassign([...partitions]);
  }

  assign(partitions: readonly TopicPartitionOffset[]): void {
    this.client.assign([...partitions]);
  }

  unassign(): void {
    this.client.unassign();
  }

  async committed(partitions: readonly TopicPartition[], timeoutMs: number): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    const tps = await promised<{ topic: string; partition: number; offset?: number }[]>((cb) => this.client.committed([...partitions], timeoutMs, cb));
    return tps.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: tp.offset !== undefined && tp.offset >= 0 ? tp.offset : -1 }));
  }

  seek(to: TopicPartitionOffset, timeoutMs: number): Promise<void> {
    return promised<void>((cb) => this.client.seek(to, timeoutMs, cb));
  }

  commitSync(offsets: readonly TopicPartitionOffset[]): void {
    this.client.commitSync([...offsets]);
  }

  position(partitions: readonly TopicPartition[]): TopicPartitionOffset[] {
    return this.client
      .position([...partitions])
      .map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset !== undefined && p.offset >= 0 ? p.offset : -1 }));
  }

  cachedWatermarks(topic: string, partition: number): Watermarks | undefined {
    try {
      const w = this.client.getWatermarkOffsets(topic, partition);
      return { low: w.lowOffset, high: w.highOffset };
    } catch {
      return undefined;
    }
  }

  queryWatermarks(topic: string, partition: number, timeoutMs: number): Promise<Watermarks> {
    return new Promise((resolve, reject) =>
      this.client.queryWatermarkOffsets(topic, partition, timeoutMs, (err, o) => (err ? reject(err) : resolve({ low: o.lowOffset, high: o.highOffset }))),
    );
  }

  async metadata(timeoutMs: number): Promise<ClusterInfo> {
    const m = await promised<Kafka.Metadata>((cb) => this.client.getMetadata({ timeout: timeoutMs }, cb));
    return {
      brokers: m.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port })),
      topics: new Map(m.topics.map((t) => [t.name, { partitions: t.partitions.length, replicas: t.partitions[0]?.replicas.length ?? 0 }])),
    };
  }

  onPartitionEof(listener: (tp: TopicPartition) => void): () => void {
    const handler = (e: { topic: string; partition: number }): void => listener({ topic: e.topic, partition: e.partition });
    this.client.on('partition.eof', handler);
    return () => void this.client.removeListener('partition.eof', handler);
  }

  isConnected(): boolean {
    return this.client.isConnected();
  }

  disconnect(): Promise<void> {
    if (!this.client.isConnected()) return Promise.resolve();
    return new Promise((resolve) => this.client.disconnect(() => resolve()));
  }
}
