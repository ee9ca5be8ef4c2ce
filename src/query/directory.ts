/**
 * Which instance owns which task, for interactive queries. Each instance publishes its
 * tasks and advertised URL to the compacted internal topic `<applicationId>-query-hosts`
 * (keyed by instance id) whenever its assignment changes, and tails that topic. Chosen
 * over reading the consumer group because librdkafka cannot attach a host to a group
 * member (Kafka Streams puts it in the subscription's user data), and the group's member
 * host is an address, not an advertised URL. A task claimed by two instances (a moving
 * task) belongs to the newest claim; a cleanly closed instance withdraws its claim.
 *
 * Anyone who can write to the topic can publish a claim, and a claim decides where a
 * query is forwarded: every claim is validated (claim.ts) before it counts, and one that
 * fails is ignored with a warning.
 */
import type { ClientSettings, ConsumedRecord, Consumer, KafkaClientSupplier, Producer } from '../kafka';
import type { Logger } from '../logger';
import { parseClaim, type Claim } from './claim';

export type { Claim } from './claim';

/** More instances than any deployment runs: a flood of claims cannot grow the map without bound. */
const MAX_CLAIMS = 10_000;

export class HostDirectory {
  private readonly claims = new Map<string, Claim>();
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private running = false;
  private tailing: Promise<void> = Promise.resolve();

  private warnedAt = 0;

  constructor(
    private readonly clients: KafkaClientSupplier,
    private readonly client: ClientSettings,
    readonly topic: string,
    private readonly self: { applicationId: string; instanceId: string; url: string },
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.clients
      .admin(this.client)
      .createTopics([{ name: this.topic, partitions: 1, replicationFactor: -1, config: { 'cleanup.policy': 'compact' } }], 15_000);
    this.producer = await this.clients.producer(
      { ...this.client, 'enable.idempotence': true, 'linger.ms': 0 },
      { pollIntervalMs: 100, connectTimeoutMs: 15_000 },
    );
    this.consumer = await this.clients.consumer(
      { ...this.client, 'group.id': `${this.topic}-reader`, 'enable.auto.commit': false },
      { consumeTimeoutMs: 200, connectTimeoutMs: 15_000 },
    );
    this.consumer.assign([{ topic: this.topic, partition: 0, offset: 0 }]);
    this.running = true;
    this.tailing = this.tail();
  }

  /**
   * Announces this instance's tasks (an empty list withdraws nothing: it says "none here"),
   * and the input topics it found off the declared partitioner, so every instance learns.
   */
  publish(tasks: readonly string[], mismatched: readonly string[] = []): void {
    const claim: Claim = { ...this.self, tasks: [...tasks], at: Date.now(), ...(mismatched.length > 0 ? { mismatched: [...mismatched] } : {}) };
    this.apply(claim.instanceId, claim);
    this.producer?.produce(this.topic, 0, Buffer.from(JSON.stringify(claim)), Buffer.from(this.self.instanceId), claim.at);
  }

  /** The instance that owns a task, by the newest claim; undefined while nobody claims it. */
  ownerOf(taskId: string): Claim | undefined {
    let owner: Claim | undefined;
    for (const c of this.claims.values()) if (c.tasks.includes(taskId) && (!owner || c.at > owner.at)) owner = c;
    return owner;
  }

  /** Whether any instance's claim says records of `topic` arrive off the declared partitioner. */
  mismatchReported(topic: string): boolean {
    for (const c of this.claims.values()) if (c.mismatched?.includes(topic)) return true;
    return false;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.tailing;
    const producer = this.producer;
    if (producer?.isConnected()) {
      producer.produce(this.topic, 0, null, Buffer.from(this.self.instanceId), Date.now()); // withdraw this instance's claim
      await producer.flush(5_000).catch(() => undefined);
      await producer.disconnect(5_000);
    }
    await this.consumer?.disconnect();
  }

  private async tail(): Promise<void> {
    while (this.running) {
      const batch = await this.consumer!.consume(100).catch((): ConsumedRecord[] => []);
      for (const m of batch) this.read(m);
      if (batch.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
  }

  private read(m: ConsumedRecord): void {
    const parsed = parseClaim(m.key, m.value, this.self.applicationId);
    if (parsed.ok) return this.apply(parsed.instanceId, parsed.claim);
    if (Date.now() - this.warnedAt < 60_000) return;
    this.warnedAt = Date.now();
    this.log.warn(
      { topic: this.topic, offset: m.offset, reason: parsed.reason },
      'ignoring a host claim that is not valid (further ones are logged at most once a minute)',
    );
  }

  private apply(instanceId: string, claim: Claim | undefined): void {
    const known = this.claims.get(instanceId);
    if (!claim) this.claims.delete(instanceId);
    else if (!known && this.claims.size >= MAX_CLAIMS) return;
    else if (!known || claim.at >= known.at) this.claims.set(instanceId, claim);
  }
}
