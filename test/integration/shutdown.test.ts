import { strict as assert } from 'node:assert';
import { kafkaClientConfig } from '../../src/config';
import { brokerNodes } from '../../ops/kafka/broker';
import { runningPid } from '../../ops/kafka/process';
import { KafkaStreams, Serdes, StreamsBuilder } from '../../src';
import { createLogger } from '../../src/logger';
import { createTopic, produceInput, readAll, uniqueName, waitFor } from '../support/kafka';
import { useStack } from '../support/stack';

const S = Serdes.String();

describe('KafkaStreams: close() when the broker stops answering', function () {
  this.timeout(180_000);
  const config = useStack();

  it('gives up after closeTimeoutMs, drops its clients, and a restarted instance still delivers every record exactly once', async function () {
    const pid = runningPid(brokerNodes(config().stack)[0]!.pidFile);
    if (pid === undefined) this.skip(); // an external broker cannot be paused from here
    const input = uniqueName('close-in');
    const output = uniqueName('close-out');
    const applicationId = uniqueName('close-app');
    await createTopic(config(), input, 2);
    await createTopic(config(), output, 2);
    const topology = (): ReturnType<StreamsBuilder['build']> => {
      const b = new StreamsBuilder();
      b.stream(input, { keySerde: S, valueSerde: S }).to(output, { keySerde: S, valueSerde: S });
      return b.build();
    };
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn' }, 'close-test', { write: (l: string) => void lines.push(l) });
    // A long commit interval keeps the last records in an open transaction when the broker is paused.
    const options = {
      applicationId,
      instanceId: 'only',
      kafka: kafkaClientConfig(config().kafka),
      handleSignals: false,
      closeTimeoutMs: 2_000,
      commitIntervalMs: 5_000,
    };

    await produceInput(config(), input, 1_000);
    const first = new KafkaStreams(topology(), { ...options, logger });
    await first.start();
    await waitFor('1000 committed outputs', async () => (await readAll(config(), output, 'read_committed', 0, 300)).length >= 1_000, 90_000);
    await produceInput(config(), input, 500);
    const processed = async (): Promise<number> =>
      (await first.metrics.getMetricsAsJSON()).find((m) => m.name === 'events_processed_total')!.values.reduce((a, v) => a + v.value, 0);
    await waitFor('1500 processed records', async () => (await processed()) >= 1_500, 30_000);
    process.kill(pid!, 'SIGSTOP');
    try {
      await first.close(); // would wait for the final commit forever without the timeout
    } finally {
      process.kill(pid!, 'SIGCONT');
    }
    assert.equal(first.state, 'NOT_RUNNING');
    assert.ok(
      lines.some((l) => l.includes('close timed out; dropping the Kafka clients')),
      lines.join('\n'),
    );

    // The same instance id fences the abandoned transaction; everything is delivered once.
    const second = new KafkaStreams(topology(), { ...options, logger: createLogger({ level: 'fatal' }) });
    await second.start();
    try {
      await waitFor('1500 committed outputs', async () => (await readAll(config(), output, 'read_committed', 0, 300)).length >= 1_500, 90_000);
    } finally {
      await second.close();
    }
    const values = (await readAll(config(), output, 'read_committed', 1_500, 1_000)).map((r) => Number(r.value)).sort((a, b) => a - b);
    assert.deepEqual(
      values,
      [...Array.from({ length: 1_000 }, (_, i) => i), ...Array.from({ length: 500 }, (_, i) => i)].sort((a, b) => a - b),
    );
  });
});
