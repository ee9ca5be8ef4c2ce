import { strict as assert } from 'node:assert';
import { connectConsumer, FETCH_QUEUE_BACKOFF_MS } from '../../../src/runtime/consumer';
import { resolveStreamsConfig, type StreamsConfig } from '../../../src/runtime/streams-config';

const kafka = { 'bootstrap.servers': '127.0.0.1:9092' };
const base: StreamsConfig = { applicationId: 'app', kafka };

describe('streams configuration', () => {
  it('takes plain librdkafka properties and refuses anything else with SA_ERR_STREAMS_CONFIG', () => {
    for (const bad of [{}, { 'bootstrap.servers': '' }, { 'bootstrap.servers': ['a:1'] }, { 'bootstrap.servers': 'a:1', 'ssl.ca': { x: 1 } }]) {
      assert.throws(
        () => resolveStreamsConfig({ applicationId: 'app', kafka: bad as never }),
        (err: { code?: string; hint?: string }) => err.code === 'SA_ERR_STREAMS_CONFIG' && typeof err.hint === 'string',
      );
    }
    assert.deepEqual(resolveStreamsConfig({ applicationId: 'app', kafka: { 'bootstrap.servers': 'a:1', 'socket.timeout.ms': 5000 } }).client, {
      'bootstrap.servers': 'a:1',
      'socket.timeout.ms': 5000,
    });
  });

  it('defaults to exactly_once_v2 with Kafka Streams’ commit interval and transaction timeout', () => {
    const c = resolveStreamsConfig(base);
    assert.equal(c.processingGuarantee, 'exactly_once_v2');
    assert.equal(c.eos, true);
    assert.equal(c.commitIntervalMs, 100);
    assert.equal(c.commitMaxRecords, 100_000, 'a bound on one transaction; the interval governs');
    assert.equal(c.transactionTimeoutMs, 10_000);
    assert.equal(c.deadLetterTopic, 'app-dlq');
    assert.equal(c.staticMembership, false);
    assert.equal(c.client['bootstrap.servers'], '127.0.0.1:9092');
  });

  it('uses a 30 s commit interval under at-least-once', () => {
    assert.equal(resolveStreamsConfig({ ...base, processingGuarantee: 'at_least_once' }).commitIntervalMs, 30_000);
  });

  it('turns a configured instance id into static membership', () => {
    const c = resolveStreamsConfig({ ...base, instanceId: 'processor-0' });
    assert.equal(c.instanceId, 'processor-0');
    assert.equal(c.staticMembership, true);
  });

  const refusals: [string, Partial<StreamsConfig>, RegExp][] = [
    [
      'a transaction timeout below the commit interval',
      { commitIntervalMs: 5_000, transactionTimeoutMs: 1_000 },
      /transactionTimeoutMs \(1000\) is below commitIntervalMs \(5000\)/,
    ],
    ['auto-commit under exactly-once', { consumerOverrides: { 'enable.auto.commit': true } }, /enable\.auto\.commit=true/],
    ['an unknown processing guarantee', { processingGuarantee: 'exactly_once' as never }, /processingGuarantee "exactly_once" is not known/],
    ['a RocksDB cache of 4 GiB or more', { rocksDbCacheBytes: 2 ** 32 }, /rocksDbCacheBytes must be below 4 GiB/],
    ['a store key budget of 0', { storeMaxLoadedKeys: 0 }, /storeMaxLoadedKeys must be a positive integer/],
    ['a query server port out of range', { queryServer: { port: 70_000 } }, /queryServer\.port must be a port number/],
    ['a non-positive commit interval', { commitIntervalMs: 0 }, /commitIntervalMs must be a positive integer, got 0/],
    ['a bad instance id', { instanceId: 'pod 0' }, /instanceId "pod 0" is not valid/],
    ['a bad application id', { applicationId: 'a/b' }, /applicationId "a\/b" is not valid/],
    [
      'a consumer override of the isolation level',
      { consumerOverrides: { 'isolation.level': 'read_uncommitted' } },
      /consumerOverrides sets "isolation.level", which the runtime owns/,
    ],
    [
      'a consumer override of the assignment strategy',
      { consumerOverrides: { 'partition.assignment.strategy': 'range' } },
      /consumerOverrides sets "partition.assignment.strategy"/,
    ],
    [
      'a producer override of the transactional id',
      { producerOverrides: { 'transactional.id': 'x' } },
      /producerOverrides sets "transactional.id", which the runtime owns/,
    ],
  ];
  for (const [what, patch, message] of refusals) {
    it(`refuses ${what} with SA_ERR_STREAMS_CONFIG`, () => {
      assert.throws(
        () => resolveStreamsConfig({ ...base, ...patch }),
        (err: { code?: string; message: string; hint?: string }) => {
          assert.equal(err.code, 'SA_ERR_STREAMS_CONFIG');
          assert.match(err.message, message);
          assert.ok(err.hint, 'says what to do');
          return true;
        },
      );
    });
  }

  it('allows auto-commit to be turned off explicitly, and a transaction timeout equal to the interval', () => {
    assert.doesNotThrow(() =>
      resolveStreamsConfig({ ...base, consumerOverrides: { 'enable.auto.commit': false }, commitIntervalMs: 1_000, transactionTimeoutMs: 1_000 }),
    );
  });

  it('the processing consumer fetches again 20 ms after its queue filled (librdkafka: 1 s), unless consumerOverrides say otherwise', async () => {
    const seen: Record<string, unknown>[] = [];
    const capture = (overrides: Record<string, string | number | boolean>) =>
      resolveStreamsConfig({
        ...base,
        consumerOverrides: overrides,
        clientSupplier: {
          consumer: async (settings) => {
            seen.push(settings);
            return {} as never;
          },
          producer: async () => ({}) as never,
          admin: () => ({}) as never,
        },
      });
    await connectConsumer(capture({}), () => undefined);
    await connectConsumer(capture({ 'fetch.queue.backoff.ms': 500 }), () => undefined);
    assert.equal(seen[0]!['fetch.queue.backoff.ms'], FETCH_QUEUE_BACKOFF_MS);
    assert.equal(FETCH_QUEUE_BACKOFF_MS, 20);
    assert.equal(seen[1]!['fetch.queue.backoff.ms'], 500);
  });
});
