/**
 * Watches whether input records sit where the declared partitioner puts their keys. A
 * record elsewhere means the input was written with another partitioner (or several):
 * a key look-up asking the declared partition would miss it, and a co-partitioned join
 * would meet the wrong records. Each such record is counted
 * (`streams_partitioner_mismatch_total`), the first one per topic is warned about with the
 * setting to change, and the query API stops trusting the partitioner for that topic.
 * Only keyed records of external input topics are checked: the runtime writes its own
 * repartition topics with murmur2. What was seen is kept in the state directory, so a
 * restarted instance that reads nothing new still knows (delete the file once the
 * producers are fixed and the topic rewritten).
 */
import type { Admin } from '../kafka';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Counter } from 'prom-client';
import type { Logger } from '../logger';
import { partitionBy, type InputPartitioner } from '../partitioner';

export interface CheckedRecord {
  topic: string;
  partition: number;
  key: Buffer | null;
}

export interface PartitionerCheckOptions {
  /** How the input's producers are declared to place keys. */
  declared: InputPartitioner;
  /** The external input topics (the runtime's own repartition topics are not checked). */
  external: ReadonlySet<string>;
  counter: Counter<'topic'>;
  log: Logger;
  /** Where the topics found off the partitioner are kept across restarts. */
  file?: string;
  /** Called when a topic is first found off the declared partitioner (the host directory spreads the news). */
  onMismatch?: (topic: string) => void;
}

export class PartitionerCheck {
  private readonly mismatched = new Set<string>();
  private partitionCounts: ReadonlyMap<string, number> = new Map();

  private readonly declared: InputPartitioner;
  private readonly external: ReadonlySet<string>;
  private readonly counter: Counter<'topic'>;
  private readonly log: Logger;
  private readonly file: string | undefined;
  private readonly onMismatch: (topic: string) => void;

  constructor(o: PartitionerCheckOptions) {
    this.declared = o.declared;
    this.external = o.external;
    this.counter = o.counter;
    this.log = o.log;
    this.file = o.file;
    this.onMismatch = o.onMismatch ?? (() => undefined);
    for (const topic of this.load()) if (this.external.has(topic)) this.mismatched.add(topic);
  }

  /** Partition counts of the input topics (taken at start and after every rebalance). */
  setPartitionCounts(counts: ReadonlyMap<string, number>): void {
    this.partitionCounts = counts;
  }

  /** Reads the partition counts from the cluster; a failure keeps the previous ones. */
  async refreshCounts(admin: Admin): Promise<void> {
    if (this.declared === 'unknown') return;
    try {
      const topics = (await admin.clusterInfo(10_000)).topics;
      this.setPartitionCounts(new Map([...topics].map(([name, t]) => [name, t.partitions])));
    } catch (err) {
      this.log.warn({ err }, "could not read the input topics' partition counts; the partitioner check uses the previous ones");
    }
  }

  observe(records: readonly CheckedRecord[]): void {
    const declared = this.declared;
    if (declared === 'unknown') return;
    for (const r of records) {
      if (r.key === null || !this.external.has(r.topic)) continue;
      const n = this.partitionCounts.get(r.topic);
      if (n === undefined || n < 2 || partitionBy(declared, r.key, n) === r.partition) continue;
      this.counter.inc({ topic: r.topic });
      if (this.mismatched.has(r.topic)) continue;
      this.mismatched.add(r.topic);
      this.save();
      this.onMismatch(r.topic);
      this.log.warn(
        { topic: r.topic, partition: r.partition, declared },
        `records of "${r.topic}" arrive on partitions the ${declared} partitioner would not choose: key look-ups now ask every instance, and co-partitioned joins of this topic may miss records. Declare how the producers partition (STREAMING_PROCESSOR__INPUT_PARTITIONER / inputPartitioner: murmur2 for Java clients, crc32 for librdkafka clients such as node-rdkafka, kcat, Python and Go; unknown if mixed)`,
      );
    }
  }

  /** The topics whose records were seen off the declared partitioner. */
  topics(): string[] {
    return [...this.mismatched];
  }

  /** Whether records of `topic` were seen off the declared partitioner. */
  mismatchSeen(topic: string): boolean {
    return this.mismatched.has(topic);
  }

  private load(): string[] {
    if (!this.file) return [];
    try {
      const text = readFileSync(this.file, 'utf8');
      const topics = (JSON.parse(text.length > 1_000_000 ? '{}' : text) as { topics?: unknown }).topics;
      return Array.isArray(topics) ? topics.filter((t): t is string => typeof t === 'string') : [];
    } catch {
      return []; // none seen yet, or a damaged file: checking starts afresh
    }
  }

  private save(): void {
    if (!this.file) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(`${this.file}.tmp`, JSON.stringify({ topics: [...this.mismatched] }));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'could not keep the partitioner mismatch in the state directory');
    }
  }
}
