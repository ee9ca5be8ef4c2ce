import { strict as assert } from 'node:assert';
import { clusterInfo } from '../../src/kafka';
import { kafkaClientConfig } from '../../src/config';
import { KafkaStreams, Serdes, StreamsBuilder, TimeWindows } from '../../src';
import { createLogger } from '../../src/logger';
import { call, connectedProducer, createTopic, produceInput, readAll, uniqueName, waitFor } from '../support/kafka';
import { useStack } from '../support/stack';

const S = Serdes.String();
const quiet = createLogger({ level: 'fatal' });

/** Per key, the counts seen in the output: `k3=1`, `k3=2`, … */
function countsByKey(values: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const v of values) {
    const [key, n] = v.split('=');
    out.set(key!, [...(out.get(key!) ?? []), Number(n)]);
  }
  return out;
}

describe('state stores on the real broker: changelog and restoration', function () {
  this.timeout(180_000);
  const config = useStack();

  it('a restarted instance rebuilds its counts from the changelog and goes on counting exactly once', async () => {
    const input = uniqueName('state-in');
    const output = uniqueName('state-out');
    const applicationId = uniqueName('state-app');
    await createTopic(config(), input, 2);
    await createTopic(config(), output, 2);
    const topology = (): ReturnType<StreamsBuilder['build']> => {
      const b = new StreamsBuilder();
      // No cache: every update is emitted, so each count can be checked once (the verifier covers counting through the cache).
      b.stream(input, { keySerde: S, valueSerde: S })
        .groupByKey({ keySerde: S })
        .count({ name: 'counts', cacheMaxEntries: 0 })
        .toStream()
        .mapValues((n, k) => `${k}=${n}`)
        .to(output, { keySerde: S, valueSerde: S });
      return b.build();
    };
    const run = async (expected: number): Promise<KafkaStreams> => {
      const streams = new KafkaStreams(topology(), { applicationId, kafka: kafkaClientConfig(config().kafka), logger: quiet, handleSignals: false });
      await streams.start();
      try {
        await waitFor(`${expected} committed outputs`, async () => (await readAll(config(), output, 'read_committed', 0, 300)).length >= expected, 90_000);
      } finally {
        await streams.close();
      }
      return streams;
    };

    await produceInput(config(), input, 300);
    const first = await run(300);
    const restoredBy = async (s: KafkaStreams): Promise<number> =>
      (await s.metrics.getMetricsAsJSON()).find((m) => m.name === 'streams_restored_records_total')!.values.reduce((a, v) => a + v.value, 0);
    assert.equal(await restoredBy(first), 0, 'nothing to restore on the first run');

    const changelog = (await clusterInfo(kafkaClientConfig(config().kafka), 10_000)).topics.get(`${applicationId}-counts-changelog`);
    assert.equal(changelog?.partitions, 2, 'one changelog partition per input partition');

    await produceInput(config(), input, 100);
    const second = await run(400);
    assert.ok((await restoredBy(second)) >= 10, 'the second instance restored the counts of every key');

    const counts = countsByKey((await readAll(config(), output, 'read_committed', 400, 1_000)).map((r) => r.value));
    assert.equal(counts.size, 10);
    for (const [key, seq] of counts)
      assert.deepEqual(
        seq,
        Array.from({ length: 40 }, (_, i) => i + 1),
        `counts of ${key}`,
      );
  });

  it('a windowed count on RocksDB stores gives, per key and window, exactly the count of its records, emitted through the cache', async () => {
    const input = uniqueName('win-in');
    const output = uniqueName('win-out');
    const applicationId = uniqueName('win-app');
    await createTopic(config(), input, 2);
    await createTopic(config(), output, 2);
    // 600 records, keys k0..k5, event times spread over three 10-second windows.
    const base = Math.floor(Date.now() / 10_000) * 10_000 - 600_000; // recent: within the changelog's time retention
    const records = Array.from({ length: 600 }, (_, i) => ({ key: `k${i % 6}`, ts: base + ((i * 7919) % 30_000) }));
    const producer = await connectedProducer(config());
    for (const r of records) producer.produce(input, null, Buffer.from('x'), Buffer.from(r.key), r.ts);
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await call((cb) => producer.disconnect((err) => cb(err)));

    const b = new StreamsBuilder();
    b.stream(input, { keySerde: S, valueSerde: S })
      .groupByKey({ keySerde: S })
      .windowedBy(TimeWindows.ofSizeAndGrace(10_000, 60_000))
      .count({ name: 'per-window' })
      .toStream()
      .map((w, n) => [w.key, `${w.key}@${w.window.start}=${n}`])
      .to(output, { keySerde: S, valueSerde: S });
    const expected = new Map<string, number>();
    for (const r of records) {
      const w = `${r.key}@${Math.floor(r.ts / 10_000) * 10_000}`;
      expected.set(w, (expected.get(w) ?? 0) + 1);
    }
    // The latest count per window, in output order, and how many updates there were.
    const latest = async (): Promise<{ counts: [string, number][]; updates: number }> => {
      const outputs = await readAll(config(), output, 'read_committed', 0, 300);
      const counts = new Map<string, number>();
      for (const { value } of outputs) {
        const [w, n] = value.split('=');
        counts.set(w!, Number(n));
      }
      return { counts: [...counts].sort(), updates: outputs.length };
    };
    const streams = new KafkaStreams(b.build(), { applicationId, kafka: kafkaClientConfig(config().kafka), logger: quiet, handleSignals: false });
    await streams.start();
    try {
      await waitFor(
        'every window at its final count',
        async () => {
          const { counts } = await latest();
          return counts.length === expected.size && counts.every(([w, n]) => expected.get(w) === n);
        },
        90_000,
      );
    } finally {
      await streams.close();
    }
    const { counts, updates } = await latest();
    assert.deepEqual(counts, [...expected].sort());
    // The cache emits a window's latest count once per commit, not once per record.
    assert.ok(updates < records.length, `${updates} updates for ${records.length} records`);
    const changelog = (await clusterInfo(kafkaClientConfig(config().kafka), 10_000)).topics.get(`${applicationId}-per-window-changelog`);
    assert.equal(changelog?.partitions, 2);
  });

  it('a stream–table join on the real broker enriches records from a RocksDB table; topics that are not co-partitioned are refused', async () => {
    const [users, clicks, enriched, lopsided] = ['users', 'clicks', 'enriched', 'lopsided'].map((t) => uniqueName(`join-${t}`)) as [
      string,
      string,
      string,
      string,
    ];
    await createTopic(config(), users, 2);
    await createTopic(config(), clicks, 2);
    await createTopic(config(), enriched, 2);
    await createTopic(config(), lopsided, 3);
    const topology = (clickTopic: string): ReturnType<StreamsBuilder['build']> => {
      const b = new StreamsBuilder();
      const table = b.table(users, { keySerde: S, valueSerde: S }, { name: 'users' });
      b.stream(clickTopic, { keySerde: S, valueSerde: S })
        .join(table, (click, user) => `${click}:${user}`)
        .to(enriched, { keySerde: S, valueSerde: S });
      return b.build();
    };
    const refused = new KafkaStreams(topology(lopsided), {
      applicationId: uniqueName('join-bad'),
      kafka: kafkaClientConfig(config().kafka),
      logger: quiet,
      handleSignals: false,
    });
    await assert.rejects(
      refused.start(),
      (err: { code?: string; message: string }) => err.code === 'SA_ERR_TOPOLOGY_INVALID' && /same number of partitions/.test(err.message),
    );

    const producer = await connectedProducer(config());
    for (let i = 0; i < 20; i++) producer.produce(users, null, Buffer.from(`name${i}`), Buffer.from(`u${i}`));
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    const streams = new KafkaStreams(topology(clicks), {
      applicationId: uniqueName('join-app'),
      kafka: kafkaClientConfig(config().kafka),
      logger: quiet,
      handleSignals: false,
    });
    await streams.start();
    try {
      const processed = async (): Promise<number> =>
        (await streams.metrics.getMetricsAsJSON()).find((m) => m.name === 'events_processed_total')!.values.reduce((a, v) => a + v.value, 0);
      await waitFor('the table loaded', async () => (await processed()) >= 20, 60_000);
      for (let i = 0; i < 40; i++) producer.produce(clicks, null, Buffer.from(`c${i}`), Buffer.from(`u${i % 25}`)); // u20..u24 have no row
      await call((cb) => producer.flush(10_000, (err) => cb(err)));
      await waitFor('joined output', async () => (await readAll(config(), enriched, 'read_committed', 0, 300)).length >= 32, 60_000);
    } finally {
      await streams.close();
      await call((cb) => producer.disconnect((err) => cb(err)));
    }
    const out = (await readAll(config(), enriched, 'read_committed', 32, 1_000)).map((r) => r.value).sort();
    const expected = Array.from({ length: 40 }, (_, i) => i)
      .filter((i) => i % 25 < 20)
      .map((i) => `c${i}:name${i % 25}`)
      .sort();
    assert.deepEqual(out, expected);
  });

  it('wall-clock punctuation emits, and commits, without any input', async () => {
    const input = uniqueName('punct-in');
    const output = uniqueName('punct-out');
    await createTopic(config(), input, 1);
    await createTopic(config(), output, 1);
    const b = new StreamsBuilder();
    b.stream(input, { keySerde: S, valueSerde: S })
      .process<string, string>(() => {
        let fired = 0;
        return {
          init: (ctx) => void ctx.schedule(200, 'wall-clock', (now) => ctx.forward({ key: 'heartbeat', value: String(++fired), timestamp: now, headers: [] })),
          process: () => undefined,
        };
      })
      .to(output, { keySerde: S, valueSerde: S });
    const streams = new KafkaStreams(b.build(), {
      applicationId: uniqueName('punct-app'),
      kafka: kafkaClientConfig(config().kafka),
      logger: quiet,
      handleSignals: false,
    });
    await streams.start();
    try {
      await waitFor('RUNNING', () => streams.state === 'RUNNING', 60_000);
      await new Promise((r) => setTimeout(r, 3_000)); // about 15 intervals of 200 ms
    } finally {
      await streams.close();
    }
    // Read once the output is quiet (readAll waits for a pause in the records).
    const beats = (await readAll(config(), output, 'read_committed', 1, 500)).map((r) => Number(r.value));
    assert.ok(beats.length >= 3, `heartbeats: ${beats.join(', ')}`);
    assert.deepEqual(
      beats,
      beats.map((_, i) => i + 1),
      'each heartbeat once, in order',
    );
  });
});
