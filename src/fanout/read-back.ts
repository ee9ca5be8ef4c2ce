/**
 * Reading a partition's older records back from Kafka, for a resume the in-memory history
 * no longer covers: a consumer of its own, assigned at the position, read_committed, until
 * the end of the range or of the partition (a range may end in transaction markers or
 * aborted records, which never arrive). Within a resume's budget, only the newest records
 * the resume keeps are held while reading.
 */
import type { ClientSettings, Consumer, ConsumerHooks, KafkaClientSupplier } from '../kafka';
import type { Decoder } from './decode';
import type { Publication } from './history';
import { NewestWithin, type Kept, type ResumeCap } from './resume-cap';
import type { SourceTopic } from './decode';

/** What one read-back may hold: the newest records `keep` accepts, within the share. */
export interface ReadBudget extends ResumeCap {
  keep(p: Publication): boolean;
  /** Set by the read-back: what it kept (the `pubs` it returns), and whether it let a record `keep` accepted go for newer ones. */
  kept?: Kept;
}

/** A consumer from `clients`, connected within `timeoutMs`, else the promise rejects. */
export function connectWithin(clients: KafkaClientSupplier, settings: ClientSettings, hooks: ConsumerHooks, timeoutMs: number): Promise<Consumer> {
  return clients.consumer(settings, { ...hooks, connectTimeoutMs: timeoutMs });
}

/** Records with from ≤ offset < to (within `budget`, if given: else every record is kept); also the partition's low watermark. */
export async function readBack(
  clients: KafkaClientSupplier,
  config: ClientSettings,
  source: SourceTopic,
  decoder: Decoder,
  partition: number,
  from: number,
  to: number,
  budget?: ReadBudget,
  timeoutMs = 10_000,
): Promise<{ low: number; pubs: Publication[] }> {
  const topic = source.topic;
  const c = await connectWithin(clients, config, { consumeTimeoutMs: 20 }, 10_000);
  try {
    const w = await c.queryWatermarks(topic, partition, 10_000);
    const start = Math.max(from, w.low);
    const stop = Math.min(to, w.high);
    const pubs: Publication[] = [];
    if (budget) budget.kept = { pubs, records: 0, bytes: 0, leftOut: false };
    if (start >= stop) return { low: w.low, pubs };
    const kept = budget && new NewestWithin(budget);
    // read_committed: the last offsets may be markers or aborted records, which never arrive; the end says so
    let atEnd = false;
    c.onPartitionEof(() => (atEnd = true));
    c.assign([{ topic, partition, offset: start }]);
    const deadline = Date.now() + timeoutMs;
    for (let next = start; next < stop && !atEnd; ) {
      if (Date.now() > deadline) throw new Error(`reading ${topic}[${partition}] from ${start} to ${stop} took longer than ${timeoutMs} ms`);
      const batch = await c.consume(1000);
      await source.serde.prepareBatch?.(
        topic,
        batch.map((m) => m.value),
      ); // the registry down: the resume fails, temporarily
      for (const m of batch) {
        next = m.offset + 1;
        if (m.offset >= stop) break;
        const p = decoder.publication(source, m, Date.now());
        if (!p) continue;
        if (!budget) pubs.push(p);
        else if (budget.keep(p)) kept!.add(p);
      }
    }
    if (!budget) return { low: w.low, pubs };
    budget.kept = kept!.kept();
    return { low: w.low, pubs: budget.kept.pubs };
  } finally {
    await c.disconnect();
  }
}
