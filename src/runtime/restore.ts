/**
 * Restoration: before a new task processes anything, each of its stores is brought up to
 * date from its changelog partition, read read_committed (aborted writes never come back)
 * from its checkpointed offset — or, without a valid one, wiped and read from the
 * beginning — to the end offset, in large batches, with progress in the log and metrics.
 *
 * The changelog partitions are split between two restore consumers outside the group
 * (they only assign and read), so one fetches while the other's batch is written. The
 * default supplier's restore consumer is the native batch reader: a whole fetch arrives as
 * one buffer, with no object per record, which doubled restoration (docs/performance.md).
 * Each partition belongs to one consumer, so its records are applied in offset order.
 *
 * A changelog record whose key the store could not hold (a window-store key of the wrong
 * shape: written by something else, or damaged) is skipped, counted and logged, not
 * restored: kept, it would break every later read of its range; refused, it would stop
 * every instance that takes the partition over.
 */
import { type RecordBatch, type RestoreConsumer, restoreConsumerOver } from '../kafka';
import type { Logger } from '../logger';
import type { StreamsMetrics } from './metrics';
import type { RestoreTarget } from '../streams/internals/task-stores';
import type { ResolvedStreamsConfig } from './streams-config';
import { FETCH_QUEUE_BACKOFF_MS } from './consumer';

const BATCH = 10_000;
const CONSUMERS = 2;
const PROGRESS_EVERY_MS = 5_000;

interface Progress {
  target: RestoreTarget;
  from: number;
  /** End offset when restoration started (the last stable offset, under read_committed). */
  end: number;
  restored: number;
  /** Changelog records whose key the store cannot hold (see the module comment). */
  skipped: number;
  done: boolean;
}

export class StoreRestorer {
  private readonly consumers: (RestoreConsumer | undefined)[] = [];
  /** stop() was called: restorations end at the next batch, unfinished. */
  private stopping = false;

  constructor(
    private readonly config: ResolvedStreamsConfig,
    private readonly log: Logger,
    private readonly metrics: StreamsMetrics,
  ) {}

  /** Ends the restoration in progress at its next batch (a close during restoration): restore() then resolves 'stopped'. */
  stop(): void {
    this.stopping = true;
  }

  /**
   * Restores the targets; 'stopped' when stop() cut it short — those stores are then
   * incomplete, and their targets are not told they were restored (no checkpoint moves).
   */
  async restore(targets: readonly RestoreTarget[]): Promise<'restored' | 'stopped'> {
    if (targets.length === 0 || this.stopping) return this.stopping ? 'stopped' : 'restored';
    const first = await this.connect(0);
    const started = Date.now();
    const progress = new Map<string, Progress>();
    for (const target of targets) {
      const { low, high: end } = await first.queryWatermarks(target.topic, target.partition, 10_000);
      const from = await this.startOffset(target, low, end);
      progress.set(`${target.topic}:${target.partition}`, { target, from, end, restored: 0, skipped: 0, done: from >= end });
    }
    for (const p of progress.values()) if (p.done) p.target.restored(p.end);
    const pending = [...progress.values()].filter((p) => !p.done);
    const total = pending.reduce((n, p) => n + p.end - p.from, 0);
    if (total === 0) return 'restored';
    this.log.info(
      { stores: targets.map((t) => `${t.store}/${t.partition}`), records: total, reads: first.reads },
      'restoring state stores from their changelogs',
    );
    const report = throttled(PROGRESS_EVERY_MS, () => this.report(progress, started, total));
    const shares = Array.from({ length: Math.min(CONSUMERS, pending.length) }, (_, i) => pending.filter((_p, j) => j % CONSUMERS === i));
    try {
      await Promise.all(shares.map(async (share, i) => this.read(await this.connect(i), share, report)));
    } finally {
      this.metrics.restoreRemaining(0);
    }
    if (this.stopping) {
      this.log.info(
        { restored: [...progress.values()].reduce((n, p) => n + p.restored, 0), total },
        'restoration stopped by close; the stores restore the rest at the next start',
      );
      return 'stopped';
    }
    for (const p of progress.values()) p.target.restored(p.end);
    const restored = [...progress.values()].reduce((n, p) => n + p.restored, 0);
    const skipped = [...progress.values()]
      .filter((p) => p.skipped > 0)
      .map((p) => ({ store: p.target.store, partition: p.target.partition, records: p.skipped }));
    const durationMs = Date.now() - started;
    this.log.info(
      {
        records: restored,
        durationMs,
        recordsPerSecond: Math.round(restored / Math.max(durationMs / 1000, 0.001)),
        ...(skipped.length > 0 ? { skipped } : {}),
      },
      'state stores restored',
    );
    if (skipped.length > 0) this.log.warn({ skipped }, 'changelog records skipped during restoration: their keys cannot be keys of their stores');
    return 'restored';
  }

  /** One consumer's partitions, read to their end offsets; the next batch is fetched while the previous one is written. */
  private async read(consumer: RestoreConsumer, share: readonly Progress[], report: () => void): Promise<void> {
    const byTopicPartition = new Map(share.map((p) => [`${p.target.topic}:${p.target.partition}`, p]));
    consumer.assign(share.map((p) => ({ topic: p.target.topic, partition: p.target.partition, offset: p.from })));
    try {
      let writing: Promise<void> = Promise.resolve();
      while (!this.stopping && share.some((p) => !p.done)) {
        const batch = await consumer.consumeBatch(BATCH);
        await writing;
        writing = this.apply(batch, byTopicPartition);
        for (const e of batch.eof) {
          const p = byTopicPartition.get(`${e.topic}:${e.partition}`);
          if (p) p.done = true;
        }
        report();
      }
      await writing;
    } finally {
      consumer.unassign();
    }
  }

  /**
   * From the checkpoint when it is usable; else the store is wiped and read from the
   * first offset the changelog still has. A checkpoint beyond the end (the changelog was
   * recreated or truncated) or below the start is not usable.
   */
  private async startOffset(target: RestoreTarget, low: number, end: number): Promise<number> {
    if (target.from >= low && target.from <= end) return target.from;
    if (target.from >= 0)
      this.log.warn(
        { store: target.store, partition: target.partition, checkpoint: target.from, changelogStart: low, changelogEnd: end },
        'checkpoint outside the changelog; wiping the store and restoring it from the beginning',
      );
    await target.wipe();
    return low;
  }

  /** End offsets (last stable offsets) of changelog partitions, for clean-close checkpoints. */
  async endOffsets(partitions: readonly { topic: string; partition: number }[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (partitions.length === 0) return out;
    const consumer = await this.connect(0);
    for (const p of partitions) out.set(`${p.topic}:${p.partition}`, (await consumer.queryWatermarks(p.topic, p.partition, 10_000)).high);
    return out;
  }

  private async apply(batch: RecordBatch, progress: ReadonlyMap<string, Progress>): Promise<void> {
    const byPartition = new Map<Progress, [Buffer, Buffer | null][]>();
    // Batches come in runs of one partition: look the partition up once per run.
    let p: Progress | undefined;
    let entries: [Buffer, Buffer | null][] = [];
    for (let i = 0; i < batch.length; i++) {
      const partition = batch.partition(i);
      if (p === undefined || partition !== p.target.partition || batch.topic(i) !== p.target.topic) {
        p = progress.get(`${batch.topic(i)}:${partition}`);
        if (!p) continue;
        entries = byPartition.get(p) ?? [];
        byPartition.set(p, entries);
      }
      const key = batch.key(i);
      const offset = batch.offset(i);
      const problem = key === null ? undefined : p.target.keyProblem?.(key);
      if (problem !== undefined) this.skip(p, offset, problem);
      else if (key !== null) entries.push([key, batch.value(i)]);
      if (offset >= p.end - 1) p.done = true;
    }
    await Promise.all(
      [...byPartition].map(async ([target, list]) => {
        await target.target.restore(list);
        target.restored += list.length;
        this.metrics.restored(target.target.store, list.length);
      }),
    );
  }

  private skip(p: Progress, offset: number, problem: string): void {
    // One warning per partition and restoration, then counted in the final log line.
    if (p.skipped++ === 0)
      this.log.warn(
        { store: p.target.store, topic: p.target.topic, partition: p.target.partition, offset, problem },
        'a changelog record cannot be a key of its store and is skipped (further ones are counted)',
      );
  }

  private report(progress: Map<string, Progress>, started: number, total: number): void {
    const restored = [...progress.values()].reduce((n, p) => n + p.restored, 0);
    const seconds = (Date.now() - started) / 1000;
    const rate = restored / Math.max(seconds, 0.001);
    const remaining = Math.max(0, total - restored);
    this.metrics.restoreRemaining(remaining);
    this.log.info(
      { restored, remaining, recordsPerSecond: Math.round(rate), etaSeconds: rate > 0 ? Math.round(remaining / rate) : null },
      'restoring state stores',
    );
  }

  private async connect(i: number): Promise<RestoreConsumer> {
    const existing = this.consumers[i];
    if (existing?.isConnected()) return existing;
    const settings = {
      ...this.config.client,
      'client.id': `${this.config.applicationId}-${this.config.instanceId}-restore-consumer-${i}`,
      // librdkafka needs a group id even to only assign; this one never joins or commits.
      'group.id': `${this.config.applicationId}-restore`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      // Large fetches, but a bounded queue ahead of the application: restoration must not cost more memory than the store.
      'fetch.max.bytes': 52_428_800,
      'queued.max.messages.kbytes': 16_384,
      // A full queue postpones the next fetch by 1 s by default: longer than restoration takes to drain it.
      'fetch.queue.backoff.ms': FETCH_QUEUE_BACKOFF_MS,
    };
    const clients = this.config.clients;
    const consumer = clients.restoreConsumer
      ? await clients.restoreConsumer(settings)
      : restoreConsumerOver(await clients.consumer(settings, { consumeTimeoutMs: 100 }), 'the client supplier has no restore consumer');
    this.consumers[i] = consumer;
    return consumer;
  }

  async close(): Promise<void> {
    const all = this.consumers.splice(0);
    await Promise.all(all.map((c) => c?.disconnect()));
  }
}

/** Calls `f` at most once every `ms`. */
function throttled(ms: number, f: () => void): () => void {
  let last = Date.now();
  return () => {
    if (Date.now() - last < ms) return;
    last = Date.now();
    f();
  };
}
