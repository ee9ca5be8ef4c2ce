import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type Kafka from 'node-rdkafka';
import { loadSchema } from '../../schemas/catalog';
import { startFanout, type FanoutApp } from '../../src/app/fanout';
import { rawSocket } from '../../src/fanout/ws-internals';
import { registryClientOptions, type Config } from '../../src/config';
import { signHs256 } from '../../src/auth/jwt';
import { createLogger } from '../../src/logger';
import { AvroSerdes, type AvroSerde } from '../../src/serdes';
import type { MlPrediction } from '../../topologies/analytics';
import { cleanEnv, ROOT } from '../support/cli';
import { call, connectedProducer, createTopic, uniqueName, waitFor } from '../support/kafka';
import { useStack } from '../support/stack';
import { WsTestClient, type Push } from '../support/ws-client';

const SECRET = 'fanout-integration-secret-0123456789';
const token = (claims: Record<string, unknown> = {}, ttlS = 600): string =>
  signHs256({ sub: 'test', channels: ['*'], exp: Math.floor(Date.now() / 1000) + ttlS, ...claims }, SECRET);

/**
 * The fan-out tier on the real broker and registry: predictions produced into Kafka
 * (Avro) reach WebSocket clients with their filters; resume recovers every missed
 * prediction, none twice, from the history and — across a restart — from Kafka.
 */
describe('the WebSocket fan-out on the real broker: protocol and resume', function () {
  this.timeout(120_000);
  const config = useStack();
  const topics = { predictions: uniqueName('fo-predictions'), alerts: uniqueName('fo-alerts'), metrics: uniqueName('fo-metrics') };
  let producer: Kafka.Producer;
  let serde: AvroSerde<MlPrediction>;
  let seq = 0;

  const fanoutConfig = (ws: Partial<Config['websocket']> = {}): Config => ({
    ...config(),
    topics: { ...config().topics, ...topics },
    websocket: { ...config().websocket, host: '127.0.0.1', port: 0, adminPort: 0, ...ws },
    auth: { ...config().auth, jwtSecret: SECRET },
  });
  const start = (ws: Partial<Config['websocket']> = {}): Promise<FanoutApp> => startFanout(fanoutConfig(ws), createLogger({ level: 'error' }, 'fanout-test'));
  const wsUrl = (app: FanoutApp): string => `${app.url.replace(/^http/, 'ws')}/ws`;

  /** Produces predictions; returns their keys. */
  async function produce(n: number, o: { key?: (i: number) => string; score?: number; model?: string } = {}): Promise<string[]> {
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      const key = o.key ? o.key(i) : `e-${seq++}`;
      keys.push(key);
      const p: MlPrediction = {
        entity_id: key,
        window_start: 0,
        window_end: 60_000,
        score: o.score ?? 0.9,
        label: 'anomaly',
        flagged: true,
        threshold: 0.5,
        model_name: o.model ?? 'm1',
        model_version: '1',
        features: { events: i },
        event_time: Date.now(),
        processing_time: Date.now(),
      };
      producer.produce(topics.predictions, null, serde.serialize(topics.predictions, p), Buffer.from(key), Date.now());
    }
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    return keys;
  }

  before(async () => {
    for (const t of Object.values(topics)) await createTopic(config(), t, 2);
    producer = await connectedProducer(config());
    serde = new AvroSerdes(new SchemaRegistry(registryClientOptions(config().schemaRegistry))).serde<MlPrediction>({
      schema: loadSchema('ml-prediction.avsc'),
    });
    await serde.prepare(topics.predictions);
  });
  after(async () => {
    await call((cb) => producer.disconnect((err) => cb(err)));
  });

  it('subscribe with filters (key prefix, minimum score, model channel), unsubscribe, ping; every push names its partition and offset', async () => {
    const app = await start();
    try {
      const c = await WsTestClient.connect(wsUrl(app), { token: token() });
      const sub = await c.request('subscribe', { channel: 'predictions', filter: { keyPrefix: 'a-', minScore: 0.5 } });
      assert.deepEqual(Object.keys(sub.result!.positions as object).sort(), ['0', '1']);
      assert.ok((await c.request('subscribe', { channel: 'predictions:m2' })).result);
      assert.deepEqual((await c.request('ping')).result, {});
      await produce(1, { key: () => 'a-high', score: 0.9 });
      await produce(1, { key: () => 'a-low', score: 0.1 });
      await produce(1, { key: () => 'b-high', score: 0.9 });
      await produce(1, { key: () => 'b-m2', score: 0.2, model: 'm2' });
      await c.waitFor('the m2 prediction', () => c.pushes('predictions:m2').length === 1);
      await c.waitFor('the filtered predictions', () => c.pushes('predictions').length === 1);
      await new Promise((r) => setTimeout(r, 300)); // nothing else arrives
      assert.deepEqual(
        c.pushes('predictions').map((p) => p.pub.key),
        ['a-high'],
      );
      assert.deepEqual(
        c.pushes('predictions:m2').map((p) => p.pub.key),
        ['b-m2'],
      );
      const pushed = c.pushes('predictions')[0]!;
      assert.equal(pushed.pub.topic, topics.predictions);
      assert.ok(Number.isInteger(pushed.pub.partition) && Number.isInteger(pushed.pub.offset));
      assert.equal(pushed.pub.data.score, 0.9);

      assert.deepEqual((await c.request('unsubscribe', { channel: 'predictions' })).result, {});
      assert.equal((await c.request('unsubscribe', { channel: 'predictions' })).error?.code, 'SA_ERR_WS_SUBSCRIPTION');
      await produce(1, { key: () => 'a-again', score: 0.9, model: 'm2' });
      await c.waitFor('the second m2 prediction', () => c.pushes('predictions:m2').length === 2);
      assert.equal(c.pushes('predictions').length, 1);
      await c.close();
    } finally {
      await app.close();
    }
  });

  it('a record that does not decode is skipped and counted; the ones after it are delivered', async () => {
    const app = await start();
    try {
      const c = await WsTestClient.connect(wsUrl(app), { token: token() });
      await c.request('subscribe', { channel: 'predictions' });
      producer.produce(topics.predictions, 0, Buffer.from('not avro at all'), Buffer.from('garbage'), Date.now());
      const [good] = await produce(1, { key: () => 'after-garbage' });
      await c.waitFor('the prediction after the bad record', () => c.pushes().some((p) => p.pub.key === good));
      assert.ok(!c.pushes().some((p) => p.pub.key === 'garbage'));
      assert.match(await (await fetch(`${app.adminUrl}/metrics`)).text(), new RegExp(`fanout_records_undecodable_total\\{topic="${topics.predictions}"\\} 1`));
      await c.close();
    } finally {
      await app.close();
    }
  });

  it('while the schema registry does not answer, records wait rather than being skipped', async () => {
    // A proxy in front of the real registry that can be switched off; fresh topics, so the fan-out knows no schema id yet.
    let registryUp = true;
    const proxy = createServer((req, res) => {
      if (!registryUp) return void res.writeHead(503).end();
      fetch(`${config().schemaRegistry.url}${req.url}`, { headers: { accept: req.headers.accept ?? '*/*' } }).then(
        async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await r.arrayBuffer())),
        () => res.writeHead(502).end(),
      );
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const own = { predictions: uniqueName('fo-outage-p'), alerts: uniqueName('fo-outage-a'), metrics: uniqueName('fo-outage-m') };
    for (const t of Object.values(own)) await createTopic(config(), t, 1);
    await serde.prepare(own.predictions);
    const app = await startFanout(
      {
        ...fanoutConfig(),
        topics: { ...config().topics, ...own },
        schemaRegistry: { ...config().schemaRegistry, url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` },
      },
      createLogger({ level: 'silent' }, 'fanout-test'),
    );
    try {
      const c = await WsTestClient.connect(wsUrl(app), { token: token() });
      await c.request('subscribe', { channel: 'predictions' });
      registryUp = false;
      const p: MlPrediction = {
        entity_id: 'during-outage',
        window_start: 0,
        window_end: 1,
        score: 0.5,
        label: 'x',
        flagged: false,
        threshold: 0.5,
        model_name: 'm1',
        model_version: '1',
        features: {},
        event_time: Date.now(),
        processing_time: Date.now(),
      };
      producer.produce(own.predictions, null, serde.serialize(own.predictions, p), Buffer.from(p.entity_id), Date.now());
      await call((cb) => producer.flush(10_000, (err) => cb(err)));
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(c.pushes().length, 0, 'not delivered while its schema cannot be fetched');
      registryUp = true;
      await c.waitFor('the record once the registry answers', () => c.pushes().length === 1, 15_000);
      assert.equal(c.pushes()[0]!.pub.key, 'during-outage');
      assert.doesNotMatch(await (await fetch(`${app.adminUrl}/metrics`)).text(), /fanout_records_undecodable_total\{topic="fo-outage/);
      await c.close();
    } finally {
      await app.close();
      proxy.close();
    }
  });

  it('resume after a disconnect: the missed predictions come back from the history, none lost, none twice, then live ones follow', async () => {
    const app = await start();
    try {
      const first = await WsTestClient.connect(wsUrl(app), { token: token() });
      const positions = (await first.request('subscribe', { channel: 'predictions' })).result!.positions as Record<string, number>;
      const before = await produce(10);
      await first.waitFor('10 predictions', () => first.pushes().length === 10);
      for (const p of first.pushes()) positions[p.pub.partition] = Math.max(positions[p.pub.partition]!, p.pub.offset);
      await first.close();
      const missed = await produce(25);

      const again = await WsTestClient.connect(wsUrl(app), { token: token() });
      const resumed = await again.request('subscribe', { channel: 'predictions', recover: { positions } });
      assert.equal(resumed.result!.recovered, true);
      const live = await produce(5);
      // The reply carries what this instance had read by then; anything newer follows as pushes.
      const received = (): Push['pub'][] => [...(resumed.result!.publications as Push['pub'][]), ...again.pushes().map((p) => p.pub)];
      await again.waitFor('the 25 missed and 5 live predictions', () => received().length >= 30);
      await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
      const all = received();
      assert.deepEqual(all.map((p) => p.key).sort(), [...missed, ...live].sort(), 'every missed and live prediction, none from before the disconnect');
      assert.equal(new Set(all.map((p) => `${p.partition}:${p.offset}`)).size, all.length, 'none twice');
      assert.ok(!all.some((p) => before.includes(p.key!)));
      await again.close();
    } finally {
      await app.close();
    }
  });

  it('resume from a position this instance has not reached yet: nothing at or before it is sent', async () => {
    const app = await start();
    try {
      const probe = await WsTestClient.connect(wsUrl(app), { token: token() });
      const positions = (await probe.request('subscribe', { channel: 'predictions' })).result!.positions as Record<string, number>;
      await probe.close();
      // As if the client had seen two more records of partition 0 (e.g. from another instance that was ahead).
      const c = await WsTestClient.connect(wsUrl(app), { token: token() });
      const resumed = await c.request('subscribe', { channel: 'predictions', recover: { positions: { ...positions, 0: positions[0]! + 2 } } });
      assert.deepEqual(resumed.result!.publications, []);
      for (let i = 0; i < 4; i++)
        producer.produce(
          topics.predictions,
          0,
          serde.serialize(topics.predictions, {
            entity_id: `ahead-${i}`,
            window_start: 0,
            window_end: 1,
            score: 0.5,
            label: 'x',
            flagged: false,
            threshold: 0.5,
            model_name: 'm1',
            model_version: '1',
            features: {},
            event_time: Date.now(),
            processing_time: Date.now(),
          }),
          Buffer.from(`ahead-${i}`),
          Date.now(),
        );
      await call((cb) => producer.flush(10_000, (err) => cb(err)));
      await c.waitFor('the records past the position', () => c.pushes().length === 2);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        c.pushes().map((p) => p.pub.key),
        ['ahead-2', 'ahead-3'],
      );
      await c.close();
    } finally {
      await app.close();
    }
  });

  it('resume across a fan-out restart: what its small history lacks is read back from Kafka', async () => {
    let app = await start({ historyPerPartition: 3 });
    try {
      const c = await WsTestClient.connect(wsUrl(app), { token: token() });
      const positions = (await c.request('subscribe', { channel: 'predictions' })).result!.positions as Record<string, number>;
      await produce(4);
      await c.waitFor('4 predictions', () => c.pushes().length === 4);
      for (const p of c.pushes()) positions[p.pub.partition] = Math.max(positions[p.pub.partition]!, p.pub.offset);
      await app.close();
      assert.equal((await c.closed).code, 4000);
      const missed = await produce(30);
      app = await start({ historyPerPartition: 3 });

      const again = await WsTestClient.connect(wsUrl(app), { token: token() });
      const resumed = await again.request('subscribe', { channel: 'predictions', recover: { positions } });
      assert.equal(resumed.result!.recovered, true);
      const replayed = resumed.result!.publications as Push['pub'][];
      assert.equal(replayed.length, 30, 'every missed prediction, once');
      assert.match(await (await fetch(`${app.adminUrl}/metrics`)).text(), /websocket_resumes_total\{from="kafka",recovered="true"\} 1/);
      assert.deepEqual(replayed.map((p) => p.key).sort(), [...missed].sort());
      for (const partition of [0, 1]) {
        const offsets = replayed.filter((p) => p.partition === partition).map((p) => p.offset);
        assert.deepEqual(
          offsets,
          [...offsets].sort((a, b) => a - b),
          'in offset order per partition',
        );
      }
      await again.close();
    } finally {
      await app.close();
    }
  });

  it('a peer that stops answering pings is terminated, and its slot freed', async () => {
    const app = await start({ pingIntervalMs: 200 });
    try {
      const c = await WsTestClient.connect(wsUrl(app), { token: token() });
      await c.request('subscribe', { channel: 'alerts' });
      const socket = rawSocket(c.ws)!;
      socket.pause(); // reads nothing, so it never sees a ping nor answers one
      const gauge = async (): Promise<number> =>
        Number(/^websocket_connections_active (\d+)/m.exec(await (await fetch(`${app.adminUrl}/metrics`)).text())?.[1]);
      await waitFor('the dead peer to be dropped', async () => (await gauge()) === 0, 10_000);
      socket.resume();
      assert.equal((await c.closed).code, 1006, 'terminated without a close frame');
    } finally {
      await app.close();
    }
  });

  it('a shutdown tells every client to reconnect elsewhere, and /readyz says so meanwhile', async () => {
    const app = await start();
    const c = await WsTestClient.connect(wsUrl(app), { token: token() });
    await c.request('subscribe', { channel: 'alerts' });
    assert.equal((await fetch(`${app.adminUrl}/readyz`)).status, 200);
    const closing = app.close();
    const during = await fetch(`${app.adminUrl}/readyz`);
    assert.equal(during.status, 503);
    assert.equal(((await during.json()) as { status: string }).status, 'shutting down');
    await closing;
    const closed = await c.closed;
    assert.equal(closed.code, 4000);
    assert.deepEqual(JSON.parse(closed.reason), { reason: 'shutting down: reconnect to another instance', reconnect: true });
    assert.deepEqual(c.messages.find((m) => m.disconnect)?.disconnect, { code: 4000, reason: 'shutting down: reconnect to another instance', reconnect: true });
  });

  it('npm run fanout: SIGTERM tells its clients to reconnect elsewhere and exits 0', async () => {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const env = cleanEnv({
      STREAMING_TOPICS__PREDICTIONS: topics.predictions,
      STREAMING_TOPICS__ALERTS: topics.alerts,
      STREAMING_TOPICS__METRICS: topics.metrics,
      STREAMING_WEBSOCKET__HOST: '127.0.0.1',
      STREAMING_WEBSOCKET__PORT: String(port),
      STREAMING_WEBSOCKET__ADMIN_PORT: String(port + 1),
      STREAMING_AUTH__JWT_SECRET: SECRET,
      STREAMING_LOG__LEVEL: 'warn',
    });
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/fanout.ts')], { cwd: ROOT, env, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await waitFor('the fan-out to be ready', async () => (await fetch(`http://127.0.0.1:${port + 1}/readyz`).catch(() => undefined))?.ok === true, 60_000);
      const c = await WsTestClient.connect(`ws://127.0.0.1:${port}/ws`, { token: token() });
      await c.request('subscribe', { channel: 'predictions' });
      child.kill('SIGTERM');
      assert.equal((await c.closed).code, 4000);
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
