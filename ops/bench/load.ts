/** Load generation and measurement shared by the benchmarks (real broker, 127.0.0.1). */
import { JAVA_PARTITIONER } from '../../src/kafka';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Kafka from 'node-rdkafka';
import { brokerNodes } from '../kafka/broker';
import { runningPid } from '../kafka/process';
import type { Config } from '../../src/config';

export type Say = (line: string) => void;

export async function connectProducer(client: Record<string, string | number | boolean>): Promise<Kafka.Producer> {
  const producer = new Kafka.Producer(
    {
      ...client,
      'linger.ms': 10,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 1_000_000,
      'enable.idempotence': true,
    } as Kafka.ProducerGlobalConfig,
    JAVA_PARTITIONER,
  );
  await new Promise<void>((ok, fail) => producer.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  producer.setPollInterval(50);
  return producer;
}

/** Writes `count` events; with a rate, paces them in 1 ms steps. */
export async function produce(
  producer: Kafka.Producer,
  topic: string,
  count: number,
  rate: number,
  value: (i: number) => Buffer,
  key: (i: number) => string = (i) => `acct-${i % 5000}`,
): Promise<void> {
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    for (;;) {
      try {
        producer.produce(topic, null, value(i), Buffer.from(key(i)), Date.now());
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    if (rate > 0 && i % 100 === 99) await new Promise((r) => setTimeout(r, Math.max(0, started + ((i + 1) / rate) * 1000 - Date.now())));
  }
  await new Promise<void>((ok, fail) => producer.flush(60_000, (err) => (err ? fail(err) : ok())));
}

export async function waitDrained(
  client: Record<string, string | number | boolean>,
  groupId: string,
  topic: string,
  partitions: number,
  total: number,
): Promise<{ firstMs: number; lastMs: number }> {
  const consumer = new Kafka.KafkaConsumer({ ...client, 'group.id': groupId, 'enable.auto.commit': false } as Kafka.ConsumerGlobalConfig, {});
  await new Promise<void>((ok, fail) => consumer.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
  let firstMs = 0;
  try {
    for (;;) {
      const committed = await new Promise<{ offset?: number }[]>((ok, fail) => consumer.committed(tps, 5_000, (err, r) => (err ? fail(err) : ok(r))));
      const done = committed.reduce((a, c) => a + Math.max(0, c.offset ?? 0), 0);
      if (done > 0 && firstMs === 0) firstMs = Date.now();
      if (done >= total) return { firstMs, lastMs: Date.now() };
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await new Promise<void>((r) => consumer.disconnect(() => r()));
  }
}

export async function measureLatency(
  client: Record<string, string | number | boolean>,
  producer: Kafka.Producer,
  output: string,
  o: { partitions: number; rate: number; seconds: number },
  value: (i: number) => Buffer,
  input: string,
  say: Say,
  key?: (i: number) => string,
): Promise<number[]> {
  const consumer = new Kafka.KafkaConsumer(
    {
      ...client,
      'group.id': `latency-${randomUUID()}`,
      'isolation.level': 'read_committed',
      'enable.auto.commit': false,
      'fetch.wait.max.ms': 10,
    } as Kafka.ConsumerGlobalConfig,
    {},
  );
  await new Promise<void>((ok, fail) => consumer.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  // From the current end of every partition, fixed before the first measured record is
  // produced: every one of them is then read (none skipped by a late offset look-up).
  const ends = await Promise.all(
    Array.from(
      { length: o.partitions },
      (_, partition) =>
        new Promise<number>((ok, fail) => consumer.queryWatermarkOffsets(output, partition, 10_000, (err, w) => (err ? fail(err) : ok(w.highOffset)))),
    ),
  );
  consumer.assign(ends.map((offset, partition) => ({ topic: output, partition, offset })));
  consumer.setDefaultConsumeTimeout(20);
  const latencies: number[] = [];
  let stop = false;
  const reading = (async () => {
    while (!stop || latencies.length < o.rate * o.seconds) {
      const batch = await new Promise<Kafka.Message[]>((ok) => consumer.consume(1000, (err, m) => ok(err ? [] : m)));
      const now = Date.now();
      for (const m of batch) latencies.push(now - (m.timestamp ?? now));
      if (stop && batch.length === 0) break;
    }
  })();
  say(`latency phase: producing ${o.rate} events/s for ${o.seconds} s…`);
  await produce(producer, input, o.rate * o.seconds, o.rate, value, key);
  await new Promise((r) => setTimeout(r, 2_000));
  stop = true;
  await reading;
  await new Promise<void>((r) => consumer.disconnect(() => r()));
  return latencies;
}

export function cpuMeter(config: Config): { stop(wallMs: number): { self: number; broker: number } } {
  const self = process.cpuUsage();
  const pid = runningPid(brokerNodes(config.stack)[0]!.pidFile);
  const brokerTicks = (): number => {
    if (pid === undefined) return NaN;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const broker0 = brokerTicks();
  return {
    stop(wallMs: number) {
      const used = process.cpuUsage(self);
      return {
        self: Math.round(((used.user + used.system) / 1000 / wallMs) * 100),
        broker: Math.round((((brokerTicks() - broker0) * 10) / wallMs) * 100),
      };
    },
  };
}
