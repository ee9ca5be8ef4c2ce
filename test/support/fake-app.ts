/**
 * A counting application on the in-memory Kafka (fake-kafka/), for the runtime's
 * broker-free suite: records per key counted into a store, every update written to the
 * output topic (no cache), so exactly-once shows as each key's outputs being 1, 2, … n
 * with nothing missing or repeated.
 */
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { KafkaStreams, Serdes, StreamsBuilder, type StreamsConfig } from '../../src';
import { createLogger } from '../../src/logger';
import type { FakeKafka } from './fake-kafka';

export const INPUT = 'in';
export const OUTPUT = 'out';

export interface LogLine {
  msg: string;
  [key: string]: unknown;
}

export interface CountApp {
  streams: KafkaStreams;
  logs: LogLine[];
}

export function countApp(kafka: FakeKafka, o: { instanceId: string; stateDir: string; backend?: 'rocksdb' | 'in-memory' } & Partial<StreamsConfig>): CountApp {
  const { backend = 'in-memory', ...rest } = o;
  const b = new StreamsBuilder();
  b.stream(INPUT, { keySerde: Serdes.String(), valueSerde: Serdes.String() })
    .groupByKey({ keySerde: Serdes.String() })
    .count({ name: 'counts', backend, cacheMaxEntries: 0 })
    .toStream()
    .to(OUTPUT, { keySerde: Serdes.String(), valueSerde: Serdes.Long() });
  const logs: LogLine[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const streams = new KafkaStreams(b.build(), {
    applicationId: 'fake-app',
    kafka: { 'bootstrap.servers': 'fake:0' },
    clientSupplier: kafka,
    handleSignals: false,
    maxPollRecords: 25,
    logger: createLogger({ level: 'info' }, o.instanceId, sink),
    ...rest,
  });
  return { streams, logs };
}

/** Writes `perKey` records for each of `keys` keys to the input, spread by key over its partitions. */
export function feed(kafka: FakeKafka, keys: number, perKey: number): void {
  for (let i = 0; i < perKey; i++) for (let k = 0; k < keys; k++) kafka.broker.append(INPUT, null, Buffer.from(`k${k}`), Buffer.from(`v${i}`), Date.now(), []);
}

/** The committed output, key → the counts in the order they were written. */
export function committedCounts(kafka: FakeKafka): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const log of kafka.broker.topics.get(OUTPUT) ?? []) {
    for (const e of log) {
      if (e.control || (e.txn && e.txn.state !== 'committed')) continue;
      const key = e.key!.toString();
      out.set(key, [...(out.get(key) ?? []), Number(e.value!.readBigInt64BE())]);
    }
  }
  return out;
}

/** Waits until every key's count reached `perKey`. */
export async function untilCounted(kafka: FakeKafka, keys: number, perKey: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = committedCounts(kafka);
    if (counts.size === keys && [...counts.values()].every((c) => c.at(-1) === perKey)) return;
    if (Date.now() > deadline) throw new Error(`not counted in time: ${JSON.stringify([...counts].map(([k, c]) => [k, c.at(-1)]))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Exactly once: each key's outputs are 1, 2, … perKey, none missing, none repeated. */
export function assertExactlyOnce(kafka: FakeKafka, keys: number, perKey: number): void {
  const counts = committedCounts(kafka);
  assert.equal(counts.size, keys);
  for (const [key, seq] of counts)
    assert.deepEqual(
      seq,
      Array.from({ length: perKey }, (_, i) => i + 1),
      `key ${key}`,
    );
}

export async function until(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
