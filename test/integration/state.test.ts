import { strict as assert } from 'node:assert';
import { clusterInfo } from '../../src/admin/cluster';
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
      b.stream(input, { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count({ name: 'counts' }).toStream().mapValues((n, k) => `${k}=${n}`).to(output, { keySerde: S, valueSerde: S });
      return b.build();
    };
    const run = async (expected: number): Promise<KafkaStreams> => {
      const streams = new KafkaStreams(topology(), { applicationId, kafka: config().kafka, logger: quiet, handleSignals: false });
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
    const restoredBy = async (s: KafkaStreams): Promise<number> => (await s.metrics.getMetricsAsJSON()).find((m) => m.name === 'streams_restored_records_total')!.values.reduce((a, v) => a + v.value, 0);
    assert.equal(await restoredBy(first), 0, 'nothing to restore on the first run');

    const changelog = (await clusterInfo(kafkaClientConfig(config().kafka), 10_000)).topics.get(`${applicationId}-counts-changelog`);
    assert.equal(changelog?.partitions, 2, 'one changelog partition per input partition');

    await produceInput(config(), input, 100);
    const second = await run(400);
    assert.ok((await restoredBy(second)) >= 10, 'the second instance restored the counts of every key');

    const counts = countsByKey((await readAll(config(), output, 'read_committed', 400, 1_000)).map((r) => r.value));
    assert.equal(counts.size, 10);
    for (const [key, seq] of counts) assert.deepEqual(seq, Array.from({ length: 40 }, (_, i) => i + 1), `counts of ${key}`);
  });

  it('a windowed count on RocksDB stores gives, per key and window, exactly the count of its records', async () => {
    const input = uniqueName('win-in');
    const output = uniqueName('win-out');
    const applicationId = uniqueName('win-app');
    await createTopic(config(), input, 2);
    await createTopic(config(), output, 2);
    // 600 records, keys k0..k5, event times spread over three 10-second windows.
    const base = 1_700_000_000_000;
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
    const streams = new KafkaStreams(b.build(), { applicationId, kafka: config().kafka, logger: quiet, handleSignals: false });
    await streams.start();
    try {
      await waitFor('600 committed updates', async () => (await readAll(config(), output, 'read_committed', 0, 300)).length >= 600, 90_000);
    } finally {
      await streams.close();
    }
    const expected = new Map<string, number>();
    for (const r of records) {
      const w = `${r.key}@${Math.floor(r.ts / 10_000) * 10_000}`;
      expected.set(w, (expected.get(w) ?? 0) + 1);
    }
    const final = new Map<string, number>();
    for (const v of (await readAll(config(), output, 'read_committed', 600, 1_000)).map((r) => r.value)) {
      const [w, n] = v.split('=');
      final.set(w!, Math.max(final.get(w!) ?? 0, Number(n)));
    }
    assert.deepEqual([...final].sort(), [...expected].sort());
    const changelog = (await clusterInfo(kafkaClientConfig(config().kafka), 10_000)).topics.get(`${applicationId}-per-window-changelog`);
    assert.equal(changelog?.partitions, 2);
  });
});
