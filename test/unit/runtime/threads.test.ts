import { strict as assert } from 'node:assert';
import { Counter, Gauge, Registry } from 'prom-client';
import { resolveStreamsConfig } from '../../../src/runtime/streams-config';
import { ThreadsRegistry, type MetricsJson } from '../../../src/runtime/threads/metrics';
import { isFromThread, isToThread } from '../../../src/runtime/threads/protocol';
import { THREAD_ENV, threadConfig, threadInstanceId, threadRole } from '../../../src/runtime/threads/role';
import { mulberry32 } from '../../support/prng';

/** The parts of stream threads as processes that need no process: the role's parsing, the messages' checks, the metrics' sums, the thread's configuration. */
describe('stream threads as processes: role, messages, metrics', () => {
  const role = { applicationId: 'app', index: 2, count: 2, instanceId: 'node-a', stateDir: '/tmp/state' };
  // threadRole() insists on an IPC channel to the main process: this test process has none, so it stands one in.
  const withChannel = <T>(f: () => T): T => {
    const saved = { send: process.send, connected: process.connected };
    Object.assign(process, { send: () => true, connected: true });
    try {
      return f();
    } finally {
      Object.assign(process, saved);
    }
  };

  it('the role comes from one variable, checked whole: a bad or hostile value is a typed error, never a thread', () => {
    assert.equal(threadRole({}), undefined);
    assert.deepEqual(
      withChannel(() => threadRole({ [THREAD_ENV]: JSON.stringify(role) })),
      role,
    );
    for (const bad of [
      '',
      'not json',
      '{}',
      JSON.stringify({ ...role, index: 3 }),
      JSON.stringify({ ...role, count: 17, index: 1 }),
      JSON.stringify({ ...role, instanceId: '../x' }),
      JSON.stringify({ ...role, stateDir: '' }),
      `${'['.repeat(20_000)}`,
    ])
      assert.throws(() => withChannel(() => threadRole({ [THREAD_ENV]: bad })), { code: 'SA_ERR_STREAMS_CONFIG' }, bad.slice(0, 40));
    // Set, but no main process on the other end of a channel: not a thread either.
    assert.throws(() => threadRole({ [THREAD_ENV]: JSON.stringify(role) }), { code: 'SA_ERR_STREAMS_CONFIG' });
  });

  it("the thread's configuration: its own id and directory under the instance's, a share of the RocksDB budget, no signal handling; another application is refused", () => {
    const base = resolveStreamsConfig({
      applicationId: 'app',
      kafka: { 'bootstrap.servers': 'localhost:9092' },
      rocksDbCacheBytes: 64 << 20,
      numStreamThreads: 2,
    });
    const t = threadConfig(base, role);
    assert.deepEqual(
      [t.instanceId, t.stateDir, t.rocksDbCacheBytes, t.rocksDbWriteBufferBytes, t.handleSignals],
      ['node-a-thread-2', '/tmp/state/thread-2', 32 << 20, 8 << 20, false],
    );
    assert.equal(threadInstanceId('node-a', 1), 'node-a-thread-1');
    assert.throws(() => threadConfig({ ...base, applicationId: 'other' }, role), { code: 'SA_ERR_STREAMS_CONFIG', message: /belongs to application "app"/ });
    assert.throws(() => resolveStreamsConfig({ applicationId: 'app', kafka: { 'bootstrap.servers': 'x:1' }, numStreamThreads: 17 }), {
      code: 'SA_ERR_STREAMS_CONFIG',
    });
    assert.throws(() => resolveStreamsConfig({ applicationId: 'app', kafka: { 'bootstrap.servers': 'x:1' }, numStreamThreads: 0 }), {
      code: 'SA_ERR_STREAMS_CONFIG',
    });
  });

  it('messages are acted on only when their whole shape is right (seeded garbage included)', () => {
    assert.ok(isFromThread({ sa: 'tasks', tasks: ['0_1'] }));
    assert.ok(isFromThread({ sa: 'failed', code: 'SA_ERR_TXN_FATAL', message: 'x' }));
    assert.ok(isToThread({ sa: 'metrics', id: 3 }));
    for (const bad of [
      null,
      1,
      'close',
      {},
      { sa: 'tasks', tasks: 1 },
      { sa: 'tasks', tasks: [1] },
      { sa: 'mismatch', topics: 'x' },
      { sa: 'state', state: 'ERROR' },
      { sa: 'metrics', id: 'x' },
      { sa: 'toString' },
      { sa: '__proto__' },
    ])
      assert.equal(isFromThread(bad), false, JSON.stringify(bad));
    assert.equal(isToThread({ sa: 'metrics' }), false);
    assert.equal(isToThread({ sa: 'constructor' }), false);
    const random = mulberry32(15);
    const values = [undefined, null, true, 0, -1, 1.5, '', 'x', [], ['0_1'], [1], {}, 'RUNNING', 'close', 'tasks', 'metrics'];
    const pick = (): unknown => values[Math.floor(random() * values.length)];
    for (let i = 0; i < 2_000; i++) {
      const m = { sa: pick(), tasks: pick(), topics: pick(), state: pick(), id: pick(), message: pick(), code: pick(), restoring: pick(), queryUrl: pick() };
      // Whatever it is, the check answers (never throws), and says yes only to a well-formed message.
      const ok = isFromThread(m);
      if (ok && m.sa === 'tasks') assert.ok(Array.isArray(m.tasks) && (m.tasks as unknown[]).every((x) => typeof x === 'string'));
      if (ok && m.sa === 'state') assert.ok(m.state === 'RUNNING' || m.state === 'REBALANCING');
      isToThread(m);
    }
  });

  it("the instance's metrics: the threads' added up (the group's lag and a state taken as the maximum), the main process's own only where no thread reports them", async () => {
    const thread = (events: number, lag: number): Promise<MetricsJson> => {
      const r = new Registry();
      new Counter({ name: 'events_processed_total', help: 'h', registers: [r] }).inc(events);
      new Gauge({ name: 'kafka_consumer_group_lag', help: 'h', registers: [r], aggregator: 'max' }).set(lag);
      return r.getMetricsAsJSON();
    };
    const own = new Registry();
    new Counter({ name: 'events_processed_total', help: 'h', registers: [own] }).inc(1_000);
    new Gauge({ name: 'main_only', help: 'h', registers: [own] }).set(7);
    const parts = [await thread(3, 10), await thread(4, 10)];
    const text = await new ThreadsRegistry(async () => parts, own).metrics();
    assert.match(text, /^events_processed_total 7$/m);
    assert.match(text, /^kafka_consumer_group_lag 10$/m);
    assert.match(text, /^main_only 7$/m);
  });
});
