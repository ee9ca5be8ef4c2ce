/**
 * The consumer group's committed lag on every input partition — not only this
 * instance's. Each instance polls it (every 30 s): high watermark (the last stable
 * offset, under read_committed) minus the group's committed offset. An instance's own
 * position-based lag (kafka_consumer_lag) vanishes with the instance, so while a pod is
 * down, or its partitions wait for a static member to come back, nobody would report
 * them; every other instance reports this one. The alert takes the max per partition.
 * A partition with no committed offset counts from its low watermark: all of it is unread.
 */
import type { Admin, Consumer } from '../kafka';
import type { Logger } from '../logger';
import { committedOffsets } from './consumer';

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/** At most this many partitions are polled (a bound for a hostile or huge cluster). */
const MAX_PARTITIONS = 10_000;
/** Watermark requests in flight at once. */
const PARALLEL = 16;

export class GroupLag {
  private latest: PartitionLag[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly o: { admin: Admin; topics: ReadonlySet<string>; consumer: () => Consumer | undefined; log: Logger; intervalMs?: number }) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.o.intervalMs ?? 30_000).unref();
    void this.poll();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  lags(): PartitionLag[] {
    return this.latest;
  }

  async poll(): Promise<void> {
    const consumer = this.o.consumer();
    if (this.polling || !consumer?.isConnected()) return;
    this.polling = true;
    try {
      const topics = (await this.o.admin.clusterInfo(10_000)).topics;
      const partitions = [...topics]
        .filter(([name]) => this.o.topics.has(name))
        .flatMap(([topic, t]) => Array.from({ length: t.partitions }, (_, partition) => ({ topic, partition })))
        .slice(0, MAX_PARTITIONS);
      const committed = await committedOffsets(consumer, partitions);
      const lags: PartitionLag[] = [];
      for (let i = 0; i < partitions.length; i += PARALLEL) {
        const chunk = partitions.slice(i, i + PARALLEL);
        const marks = await Promise.all(chunk.map((p) => consumer.queryWatermarks(p.topic, p.partition, 10_000)));
        chunk.forEach((p, j) => {
          const at = committed.get(`${p.topic}:${p.partition}`) ?? -1;
          const { low, high } = marks[j]!;
          if (high >= 0) lags.push({ ...p, lag: Math.max(0, high - (at >= 0 ? at : Math.max(0, low))) });
        });
      }
      this.latest = lags;
    } catch (err) {
      this.o.log.debug({ err }, "could not read the group's committed lag; keeping the previous figures");
    } finally {
      this.polling = false;
    }
  }
}
