/**
 * The fan-out's Kafka side. Every fan-out instance reads every partition of the
 * predictions, alerts and metrics topics read_committed (assigned, not subscribed: no
 * group, no shared offsets), decodes each record once (Avro through the registry; the
 * metrics summaries are JSON), keeps the last records of each partition for resume, and
 * hands each publication to the hub. It starts `historyPerPartition` records back, so a
 * restarted instance can resume clients from its history at once.
 * `readRange` reads older positions back from Kafka for a resume the history no longer
 * covers; resumes take turns at it through `readBacks` (read-back-queue.ts).
 */
import { rdkafkaClients, type ClientSettings, type ConsumedRecord, type Consumer, type KafkaClientSupplier, type TopicPartitionOffset } from '../kafka';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger';
import { RegistryWait } from '../serdes';
import { Decoder, type SourceTopic } from './decode';
import { PartitionHistory, type Publication } from './history';
import { connectWithin, readBack, type ReadBudget } from './read-back';
import { ReadBackQueue } from './read-back-queue';

export type { SourceTopic };

export interface SourceOptions {
  client: ClientSettings;
  /** Makes the Kafka clients; node-rdkafka's by default. */
  clients?: KafkaClientSupplier;
  topics: readonly SourceTopic[];
  historyPerPartition: number;
  log: Logger;
  onPublication(p: Publication): void;
  onUndecodable(topic: string): void;
}

export class FanoutSource {
  private consumer: Consumer | undefined;
  private stopEofs: (() => void) | undefined;
  private readonly clients: KafkaClientSupplier;
  private readonly histories = new Map<string, PartitionHistory>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  /** Partitions whose end (as of the start) is not reached yet: ready when none is left. */
  private readonly catchingUp = new Set<string>();
  private readonly decoder: Decoder;
  private discoverer: NodeJS.Timeout | undefined;
  /** Kafka read-backs of resumes: per connection one at a time, in all a few, round-robin. */
  readonly readBacks = new ReadBackQueue();

  constructor(private readonly o: SourceOptions) {
    this.clients = o.clients ?? rdkafkaClients;
    this.decoder = new Decoder(o.log, o.onUndecodable);
    this.registry = new RegistryWait(o.log, 5_000);
  }

  private consumerConfig(): ClientSettings {
    return {
      ...this.o.client,
      'group.id': `fanout-${randomUUID()}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'fetch.wait.max.ms': 10,
      'enable.partition.eof': true,
    };
  }

  async start(): Promise<void> {
    // a latency-critical reader: a longer consume timeout holds a lone record back (measured: 5 ms → +4 ms p50)
    const c = await connectWithin(this.clients, this.consumerConfig(), { consumeTimeoutMs: 1 }, 15_000);
    this.consumer = c;
    // Caught up with a partition: its end was reached (its last offsets may be transaction markers).
    this.stopEofs = c.onPartitionEof((e) => this.catchingUp.delete(`${e.topic}:${e.partition}`));
    c.assign([]);
    // A topic just created may not be in the metadata yet: looked for a while at start, then every 30 s.
    const deadline = Date.now() + 10_000;
    while ((await this.discover()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    const missing = this.o.topics.filter((t) => this.partitions(t.topic).length === 0).map((t) => t.topic);
    if (missing.length > 0) this.o.log.warn({ topics: missing }, 'topics not found: their channels stay empty until they appear (looked for every 30 s)');
    this.discoverer = setInterval(() => void this.discover().catch((err: unknown) => this.o.log.warn({ err }, 'looking for new partitions failed')), 30_000);
    this.running = true;
    this.loop = this.run();
  }

  /** Assigns partitions not read yet (new topics, added partitions), each from `historyPerPartition` back. Returns how many topics are still missing. */
  private async discover(): Promise<number> {
    const c = this.consumer!;
    const topics = (await c.metadata(10_000)).topics;
    const added: TopicPartitionOffset[] = [];
    let missing = 0;
    try {
      for (const t of this.o.topics) {
        const count = topics.get(t.topic)?.partitions ?? 0;
        if (count === 0) missing++;
        for (let partition = 0; partition < count; partition++) {
          const key = `${t.topic}:${partition}`;
          if (this.histories.has(key)) continue;
          const w = await c.queryWatermarks(t.topic, partition, 10_000);
          const start = Math.max(w.low, w.high - this.o.historyPerPartition);
          this.histories.set(key, new PartitionHistory(this.o.historyPerPartition, start));
          this.catchingUp.add(key);
          added.push({ topic: t.topic, partition, offset: start });
        }
      }
    } finally {
      // Those found before a failure too: their histories exist, so a later look would not add them again.
      if (added.length > 0) c.incrementalAssign(added);
    }
    return missing;
  }

  /** Waiting for the schema registry while it does not answer (at most 5 s between attempts: delivery is latency-bound). */
  private readonly registry: RegistryWait;

  /** What delivery waits for, while it waits (the schema registry): /readyz says so. */
  get waitingFor(): string | undefined {
    return this.registry.waitingFor;
  }

  /** Caught up with what was in the topics at start (history warm). */
  ready(): boolean {
    return this.running && this.catchingUp.size === 0;
  }

  /** Resolves once ready; logs progress every 5 s meanwhile. */
  async whenReady(): Promise<void> {
    let waited = 0;
    while (!this.ready()) {
      await new Promise((r) => setTimeout(r, 50));
      if ((waited += 50) % 5_000 === 0) this.o.log.info({ partitionsLeft: this.catchingUp.size }, 'reading the history of the fan-out topics');
    }
  }

  history(topic: string, partition: number): PartitionHistory | undefined {
    return this.histories.get(`${topic}:${partition}`);
  }

  partitions(topic: string): number[] {
    return [...this.histories.keys()].filter((k) => k.startsWith(`${topic}:`)).map((k) => Number(k.slice(topic.length + 1)));
  }

  private async run(): Promise<void> {
    while (this.running) {
      let batch: ConsumedRecord[];
      try {
        batch = await this.consumer!.consume(1000);
      } catch (err) {
        this.o.log.warn({ err }, 'consuming failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (batch.length === 0) continue;
      const pubs = await this.decodeRetrying(batch);
      for (const p of pubs) {
        this.histories.get(`${p.topic}:${p.partition}`)?.add(p);
        try {
          this.o.onPublication(p);
        } catch (err) {
          this.o.log.error({ err, topic: p.topic, partition: p.partition, offset: p.offset }, 'delivering a record failed');
        }
      }
    }
  }

  /**
   * A registry that does not answer is waited for, with the batch held: skipping its
   * records would move clients' positions past records they never got.
   */
  private async decodeRetrying(batch: readonly ConsumedRecord[]): Promise<Publication[]> {
    for (;;) {
      try {
        const pubs = await this.decode(batch);
        this.registry.answered();
        return pubs;
      } catch (err) {
        if (!this.running) return [];
        await this.registry.backOff(err, 'new records wait for it');
      }
    }
  }

  /** Decoded publications of a batch; records that do not decode are counted and skipped. */
  private async decode(batch: readonly ConsumedRecord[]): Promise<Publication[]> {
    const receivedAt = Date.now();
    const out: Publication[] = [];
    for (const t of this.o.topics) {
      const records = batch.filter((m) => m.topic === t.topic);
      if (records.length === 0) continue;
      await t.serde.prepareBatch?.(
        t.topic,
        records.map((m) => m.value),
      ); // throws only when the registry does not answer
      for (const m of records) {
        const p = this.decoder.publication(t, m, receivedAt);
        if (p) out.push(p);
      }
    }
    return out;
  }

  /** Records of a partition with from ≤ offset < to, read back from Kafka within `budget` (read-back.ts); also the partition's low watermark. */
  readRange(topic: string, partition: number, from: number, to: number, budget?: ReadBudget): Promise<{ low: number; pubs: Publication[] }> {
    return readBack(this.clients, this.consumerConfig(), this.o.topics.find((t) => t.topic === topic)!, this.decoder, partition, from, to, budget);
  }

  async close(): Promise<void> {
    this.running = false;
    this.registry.stop();
    clearInterval(this.discoverer);
    await this.loop;
    this.stopEofs?.();
    await this.consumer?.disconnect();
  }
}
