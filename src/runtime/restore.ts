/**
 * Restoration: before a new task processes anything, each of its stores is rebuilt from
 * its changelog partition, read read_committed (aborted writes never come back) from the
 * beginning to the end offset, in large batches, with progress in the log and metrics.
 * One restore consumer per thread, outside the group: it only assigns and reads.
 */
import Kafka, { type KafkaConsumer, type Message } from 'node-rdkafka';
import type { Logger } from '../logger';
import { keyBytes } from './consumer';
import type { StreamsMetrics } from './metrics';
import type { ResolvedStreamsConfig } from './streams-config';

export interface RestoreTarget {
  taskId: string;
  store: string;
  topic: string;
  partition: number;
  restore(batch: readonly (readonly [Buffer, Buffer | null])[]): void;
}

const BATCH = 10_000;
const PROGRESS_EVERY_MS = 5_000;

interface Progress {
  target: RestoreTarget;
  /** End offset when restoration started (the last stable offset, under read_committed). */
  end: number;
  restored: number;
  done: boolean;
}

export class StoreRestorer {
  private consumer: KafkaConsumer | undefined;

  constructor(private readonly config: ResolvedStreamsConfig, private readonly log: Logger, private readonly metrics: StreamsMetrics) {}

  async restore(targets: readonly RestoreTarget[]): Promise<void> {
    if (targets.length === 0) return;
    const consumer = await this.connect();
    const started = Date.now();
    const progress = new Map<string, Progress>();
    for (const target of targets) {
      const end = await endOffset(consumer, target.topic, target.partition);
      progress.set(`${target.topic}:${target.partition}`, { target, end, restored: 0, done: end <= 0 });
    }
    const pending = (): Progress[] => [...progress.values()].filter((p) => !p.done);
    const total = pending().reduce((n, p) => n + p.end, 0);
    if (total === 0) return;
    this.log.info({ stores: targets.map((t) => `${t.store}/${t.partition}`), records: total }, 'restoring state stores from their changelogs');
    const onEof = (e: { topic: string; partition: number }): void => {
      const p = progress.get(`${e.topic}:${e.partition}`);
      if (p) p.done = true;
    };
    consumer.on('partition.eof', onEof);
    consumer.assign(pending().map((p) => ({ topic: p.target.topic, partition: p.target.partition, offset: 0 })));
    let lastReport = Date.now();
    try {
      while (pending().length > 0) {
        const batch = await new Promise<Message[]>((resolve, reject) => consumer.consume(BATCH, (err, m) => (err ? reject(err) : resolve(m))));
        this.apply(batch, progress);
        if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
          lastReport = Date.now();
          this.report(progress, started, total);
        }
      }
    } finally {
      consumer.removeListener('partition.eof', onEof);
      consumer.unassign();
      this.metrics.restoreRemaining(0);
    }
    const restored = [...progress.values()].reduce((n, p) => n + p.restored, 0);
    this.log.info({ records: restored, durationMs: Date.now() - started }, 'state stores restored');
  }

  private apply(batch: readonly Message[], progress: Map<string, Progress>): void {
    const byPartition = new Map<Progress, [Buffer, Buffer | null][]>();
    for (const m of batch) {
      const p = progress.get(`${m.topic}:${m.partition}`);
      const key = keyBytes(m);
      if (!p || key === null) continue;
      let entries = byPartition.get(p);
      if (!entries) byPartition.set(p, (entries = []));
      entries.push([key, m.value ?? null]);
      if (m.offset >= p.end - 1) p.done = true;
    }
    for (const [p, entries] of byPartition) {
      p.target.restore(entries);
      p.restored += entries.length;
      this.metrics.restored(p.target.store, entries.length);
    }
  }

  private report(progress: Map<string, Progress>, started: number, total: number): void {
    const restored = [...progress.values()].reduce((n, p) => n + p.restored, 0);
    const seconds = (Date.now() - started) / 1000;
    const rate = restored / Math.max(seconds, 0.001);
    const remaining = Math.max(0, total - restored);
    this.metrics.restoreRemaining(remaining);
    this.log.info({ restored, remaining, recordsPerSecond: Math.round(rate), etaSeconds: rate > 0 ? Math.round(remaining / rate) : null }, 'restoring state stores');
  }

  private async connect(): Promise<KafkaConsumer> {
    if (this.consumer?.isConnected()) return this.consumer;
    const settings = {
      ...this.config.client,
      'client.id': `${this.config.applicationId}-${this.config.instanceId}-restore-consumer`,
      // librdkafka needs a group id even to only assign; this one never joins or commits.
      'group.id': `${this.config.applicationId}-restore`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      'fetch.max.bytes': 52_428_800,
    };
    const consumer = new Kafka.KafkaConsumer(settings as Kafka.ConsumerGlobalConfig, { 'auto.offset.reset': 'earliest' });
    await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
    consumer.setDefaultConsumeTimeout(100);
    this.consumer = consumer;
    return consumer;
  }

  async close(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    if (c?.isConnected()) await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  }
}

/** Under read_committed, the last stable offset: records past it belong to open transactions. */
function endOffset(consumer: KafkaConsumer, topic: string, partition: number): Promise<number> {
  return new Promise((resolve, reject) => consumer.queryWatermarkOffsets(topic, partition, 10_000, (err, o) => (err ? reject(err) : resolve(o.highOffset))));
}
