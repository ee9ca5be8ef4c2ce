import { strict as assert } from 'node:assert';
import { kafkaClientConfig } from '../../src/config';
import { once } from 'node:events';
import { KafkaStreams, Serdes, StreamsBuilder, type StreamsState } from '../../src';
import { createLogger } from '../../src/logger';
import { createTopic, produceInput, readAll, uniqueName, waitFor } from '../support/kafka';
import { useStack } from '../support/stack';
import { partitionForKey } from '../../src/partitioner';

const S = Serdes.String();
const quiet = createLogger({ level: 'fatal' });

describe('KafkaStreams: exactly-once pipeline on the real broker', function () {
  this.timeout(180_000);
  const config = useStack();

  it('copies every input record to the output exactly once, in order per key', async () => {
    const input = uniqueName('eos-in');
    const output = uniqueName('eos-out');
    await createTopic(config(), input, 3);
    await createTopic(config(), output, 3);
    await produceInput(config(), input, 5_000);

    const b = new StreamsBuilder();
    b.stream(input, { keySerde: S, valueSerde: S })
      .mapValues((v) => `${v}:x2=${Number(v) * 2}`)
      .to(output, { keySerde: S, valueSerde: S });
    const streams = new KafkaStreams(b.build(), {
      applicationId: uniqueName('eos-app'),
      kafka: kafkaClientConfig(config().kafka),
      logger: quiet,
      handleSignals: false,
    });
    const states: StreamsState[] = [];
    streams.on('stateChange', (s) => states.push(s));
    await streams.start();
    let lag: { labels: Partial<Record<string, string | number>>; value: number }[] = [];
    try {
      await waitFor('5000 committed outputs', async () => (await readAll(config(), output, 'read_committed', 0, 500)).length >= 5_000, 90_000);
      await waitFor('zero consumer lag', async () => {
        lag = (await streams.metrics.getMetricsAsJSON()).find((m) => m.name === 'kafka_consumer_lag')!.values;
        return lag.length === 3 && lag.every((l) => l.value === 0);
      });
    } finally {
      await streams.close();
    }
    assert.deepEqual(
      lag.map((l) => `${l.labels.topic}/${l.labels.partition}`).sort(),
      [0, 1, 2].map((p) => `${input}/${p}`),
    );
    assert.equal(streams.state, 'NOT_RUNNING');
    assert.ok(states.includes('RUNNING'), `states: ${states.join(' → ')}`);

    const metrics = await streams.metrics.getMetricsAsJSON();
    const value = (name: string, labels: Record<string, string> = {}): number =>
      metrics
        .find((m) => m.name === name)!
        .values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((a, v) => a + v.value, 0);
    assert.equal(value('events_processed_total', { topic: input }), 5_000);
    assert.equal(value('event_processing_duration_ms', { le: '+Inf' } as never), 5_000, 'one observation per record');
    assert.ok(value('streams_transactions_total', { outcome: 'committed' }) >= 1);
    assert.equal(value('streams_transactions_total', { outcome: 'aborted' }), 0);
    assert.ok(value('streams_rebalances_total', { kind: 'assign' }) >= 1);
    assert.equal(value('events_failed_total'), 0);

    const out = await readAll(config(), output, 'read_committed', 5_000, 1_000);
    assert.equal(out.length, 5_000, 'no loss and no duplicates');
    const values = out.map((r) => Number(r.value.split(':')[0]));
    // The runtime's producer partitions by Kafka's Java partitioner (murmur2), as the query API assumes.
    for (const r of out) assert.equal(r.partition, partitionForKey(Buffer.from(`k${Number(r.value.split(':')[0]) % 10}`), 3));
    assert.deepEqual(
      [...values].sort((a, b) => a - b),
      Array.from({ length: 5_000 }, (_, i) => i),
    );
    for (const r of out) assert.equal(r.value, `${r.value.split(':')[0]}:x2=${Number(r.value.split(':')[0]) * 2}`);
    // Per key (hence per partition) the order of the input is kept.
    const byKey = new Map<number, number[]>();
    for (const v of values) byKey.set(v % 10, [...(byKey.get(v % 10) ?? []), v]);
    for (const [, seq] of byKey)
      assert.deepEqual(
        seq,
        [...seq].sort((a, b) => a - b),
      );
  });

  it('hides the output of an aborted transaction, and a restart re-processes its input exactly once', async () => {
    const input = uniqueName('eos-abort-in');
    const output = uniqueName('eos-abort-out');
    await createTopic(config(), input, 1);
    await createTopic(config(), output, 1);
    await produceInput(config(), input, 100, 1);
    const applicationId = uniqueName('eos-abort-app');

    // First run: a processor that fails on record 50, inside a transaction holding 0..49.
    const failing = new StreamsBuilder();
    failing
      .stream(input, { keySerde: S, valueSerde: S })
      .mapValues((v) => {
        if (v === '50') throw new Error('cannot handle 50');
        return v;
      })
      .to(output, { keySerde: S, valueSerde: S });
    const first = new KafkaStreams(failing.build(), {
      applicationId,
      kafka: kafkaClientConfig(config().kafka),
      logger: quiet,
      handleSignals: false,
      commitIntervalMs: 60_000,
      transactionTimeoutMs: 90_000,
      commitMaxRecords: 1_000_000,
    });
    const failed = once(first, 'error') as Promise<[Error & { code?: string }]>;
    await first.start();
    const [error] = await failed;
    assert.equal(error.code, 'SA_ERR_PROCESSING_FAILED');
    assert.equal(first.state, 'ERROR');
    assert.match(await first.metrics.metrics(), /events_failed_total\{reason="processing",application_id="[^"]+"\} 1/);
    await first.close();

    assert.deepEqual(await readAll(config(), output, 'read_committed', 0, 1_000), [], 'aborted output is invisible');
    const uncommitted = await readAll(config(), output, 'read_uncommitted', 50, 1_000);
    assert.equal(uncommitted.length, 50, 'records 0..49 were written, then aborted');

    // Second run, same application id: starts from the committed offsets (none) and processes all 100 once.
    const fixed = new StreamsBuilder();
    fixed.stream(input, { keySerde: S, valueSerde: S }).to(output, { keySerde: S, valueSerde: S });
    const second = new KafkaStreams(fixed.build(), { applicationId, kafka: kafkaClientConfig(config().kafka), logger: quiet, handleSignals: false });
    await second.start();
    try {
      await waitFor('100 committed outputs', async () => (await readAll(config(), output, 'read_committed', 0, 500)).length >= 100);
    } finally {
      await second.close();
    }
    const committed = await readAll(config(), output, 'read_committed', 100, 1_000);
    assert.deepEqual(
      committed.map((r) => Number(r.value)),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('a record the producer refuses (too large) goes to the production handler: dropped with continue, the rest committed', async () => {
    const input = uniqueName('eos-large-in');
    const output = uniqueName('eos-large-out');
    await createTopic(config(), input, 1);
    await createTopic(config(), output, 1);
    await produceInput(config(), input, 3, 1);
    const b = new StreamsBuilder();
    b.stream(input, { keySerde: S, valueSerde: S })
      .mapValues((v) => (v === '1' ? 'x'.repeat(2 * 1024 * 1024) : v))
      .to(output, { keySerde: S, valueSerde: S });
    const reasons: string[] = [];
    const streams = new KafkaStreams(b.build(), {
      applicationId: uniqueName('eos-large-app'),
      kafka: kafkaClientConfig(config().kafka),
      logger: quiet,
      handleSignals: false,
      productionExceptionHandler: (f) => {
        reasons.push(f.error.message);
        return 'continue';
      },
    });
    await streams.start();
    try {
      await waitFor('2 committed outputs', async () => (await readAll(config(), output, 'read_committed', 0, 500)).length >= 2);
    } finally {
      await streams.close();
    }
    assert.deepEqual(
      (await readAll(config(), output, 'read_committed', 2, 1_000)).map((r) => r.value),
      ['0', '2'],
    );
    assert.equal(reasons.length, 1);
    assert.match(reasons[0]!, /larger than the producer allows/);
    assert.equal(streams.state, 'NOT_RUNNING');
  });
});
