import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type Kafka from 'node-rdkafka';
import { loadSchema } from '../../schemas/catalog';
import { startFanout, type FanoutApp } from '../../src/app/fanout';
import { signHs256 } from '../../src/auth/jwt';
import { kafkaClientConfig, registryClientOptions, type Config } from '../../src/config';
import { Decoder } from '../../src/fanout/decode';
import { readBack, type ReadBudget } from '../../src/fanout/read-back';
import { sizeInReply } from '../../src/fanout/resume-cap';
import { rdkafkaClients } from '../../src/kafka';
import { createLogger } from '../../src/logger';
import { AvroSerdes, type AvroSerde, type Serde } from '../../src/serdes';
import type { MlPrediction } from '../../topologies/analytics';
import { call, connectedProducer, createTopic, uniqueName, waitFor } from '../support/kafka';
import { useStack } from '../support/stack';
import { WsTestClient } from '../support/ws-client';

const SECRET = 'fanout-read-backs-secret-0123456789ab';
const token = (): string =>
  signHs256({ sub: 'resumer', channels: ['*'], iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);

/**
 * Resumes the in-memory history cannot answer (`historyPerPartition: 0` here, so every
 * resume reads Kafka), on the real broker and registry: read-backs are rationed so one
 * client cannot hold back another's, a reply is capped, and a failed read-back tells the
 * client it was temporary without telling it where the registry lives.
 */
describe("the fan-out's Kafka read-backs: rationed between clients, capped, failing without leaking", function () {
  this.timeout(180_000);
  const config = useStack();
  const topics = { predictions: uniqueName('frb-predictions'), alerts: uniqueName('frb-alerts'), metrics: uniqueName('frb-metrics') };
  let producer: Kafka.Producer;
  let serde: AvroSerde<MlPrediction>;
  let app: FanoutApp;
  let url: string;
  let seq = 0;

  const fanoutConfig = (ws: Partial<Config['websocket']> = {}): Config => ({
    ...config(),
    topics: { ...config().topics, ...topics },
    websocket: { ...config().websocket, host: '127.0.0.1', port: 0, adminPort: 0, historyPerPartition: 0, ...ws },
    auth: { ...config().auth, jwtSecret: SECRET },
  });

  /** `n` predictions, alternating between partitions 0 and 1 of `topic`. */
  async function produce(n: number, topic = topics.predictions): Promise<void> {
    for (let i = 0; i < n; i++) {
      const key = `e-${seq++}`;
      const p: MlPrediction = {
        entity_id: key,
        window_start: 0,
        window_end: 60_000,
        score: 0.9,
        label: 'anomaly',
        flagged: true,
        threshold: 0.5,
        model_name: 'm1',
        model_version: '1',
        features: { events: i },
        event_time: Date.now(),
        processing_time: Date.now(),
      };
      for (;;) {
        try {
          producer.produce(topic, topic === topics.predictions ? i % 2 : 0, serde.serialize(topic, p), Buffer.from(key), Date.now());
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 5)); // the local queue is full
        }
      }
    }
    await call((cb) => producer.flush(30_000, (err) => cb(err)));
  }

  before(async () => {
    await createTopic(config(), topics.predictions, 2);
    await createTopic(config(), topics.alerts, 1);
    await createTopic(config(), topics.metrics, 1);
    producer = await connectedProducer(config());
    serde = new AvroSerdes(new SchemaRegistry(registryClientOptions(config().schemaRegistry))).serde<MlPrediction>({
      schema: loadSchema('ml-prediction.avsc'),
    });
    await serde.prepare(topics.predictions);
    await produce(200);
    app = await startFanout(fanoutConfig(), createLogger({ level: 'error' }, 'fanout-read-backs'));
    url = `${app.url.replace(/^http/, 'ws')}/ws`;
  });
  after(async () => {
    await app?.close();
    await call((cb) => producer.disconnect((err) => cb(err)));
  });

  it("a client resuming 32 subscriptions from Kafka at once does not hold back another client's resume", async () => {
    const other = await WsTestClient.connect(url, { token: token() });
    const greedy = await WsTestClient.connect(url, { token: token() });
    try {
      const recover = { positions: { 0: -1, 1: -1 } };
      const channels = ['predictions', ...Array.from({ length: 31 }, (_, i) => `predictions:m${i + 1}`)];
      const ids = channels.map((_, i) => 1000 + i);
      // One frame: all 32 resumes are queued before the ping after them is answered.
      greedy.ws.send(
        [
          ...channels.map((channel, i) => JSON.stringify({ id: ids[i], method: 'subscribe', params: { channel, recover } })),
          JSON.stringify({ id: 2000, method: 'ping' }),
        ].join('\n'),
      );
      await greedy.waitFor('the ping after the 32 resumes', () => greedy.messages.some((m) => m.id === 2000));
      const greedyAnswered = (): number => greedy.messages.filter((m) => typeof m.id === 'number' && ids.includes(m.id)).length;
      const readBacks = async (): Promise<string> =>
        (await (await fetch(`${app.adminUrl}/metrics`)).text())
          .split('\n')
          .filter((l) => l.startsWith('websocket_read_backs{'))
          .join(', ');
      assert.match(await readBacks(), /websocket_read_backs\{state="running"\} 1\b/, 'one connection holds one of the four read-back slots');

      const resumed = await other.request('subscribe', { channel: 'predictions', recover });
      const greedyBefore = greedyAnswered();
      assert.equal(resumed.result?.recovered, true);
      assert.equal((resumed.result!.publications as unknown[]).length, 200);
      // Queued behind all 32 (one process-wide queue, as before), it would have come after 30 or more of them.
      assert.ok(greedyBefore <= 8, `the other client's resume was answered after ${greedyBefore} of the greedy client's 32`);

      await greedy.waitFor('all 32 resumes answered', () => greedyAnswered() === 32, 120_000);
      const replies = greedy.messages.filter((m) => typeof m.id === 'number' && ids.includes(m.id));
      assert.deepEqual(
        replies.map((m) => m.id),
        ids,
        "one connection's resumes are answered in the order asked",
      );
      assert.ok(replies.every((m) => m.result?.recovered === true && m.result.truncated === false));
      assert.equal((replies[0]!.result!.publications as unknown[]).length, 200, 'predictions: all 200');
      assert.equal((replies[1]!.result!.publications as unknown[]).length, 200, 'predictions:m1: all 200 (model m1)');
      assert.equal((replies[2]!.result!.publications as unknown[]).length, 0, 'predictions:m2: none');
      assert.equal(await readBacks(), 'websocket_read_backs{state="running"} 0, websocket_read_backs{state="waiting"} 0');
    } finally {
      await Promise.all([other.close(), greedy.close()]);
    }
  });

  it('a resume past the reply cap gets the newest 5,000 publications, recovered false and truncated true, and the live ones join on without a gap', async () => {
    await produce(5_100); // 5,300 in all, 2,650 per partition
    const read = async (): Promise<number> =>
      Number(
        new RegExp(`fanout_records_total\\{topic="${topics.predictions}"\\} (\\d+)`).exec(await (await fetch(`${app.adminUrl}/metrics`)).text())?.[1] ?? 0,
      );
    await waitFor('the fan-out to read the 5,100 produced since it started', async () => (await read()) === 5_100);
    const c = await WsTestClient.connect(url, { token: token() });
    const resumed = await c.request('subscribe', { channel: 'predictions', recover: { positions: { 0: -1, 1: -1 } } });
    const r = resumed.result as {
      recovered: boolean;
      truncated: boolean;
      publications: { partition: number; offset: number }[];
      positions: Record<string, number>;
    };
    assert.equal(r.truncated, true);
    assert.equal(r.recovered, false);
    assert.equal(r.publications.length, 5_000);
    for (const p of [0, 1]) {
      const offsets = r.publications.filter((x) => x.partition === p).map((x) => x.offset);
      const last = r.positions[String(p)]!;
      assert.deepEqual(
        offsets,
        Array.from({ length: 2_500 }, (_, i) => last - 2_499 + i),
        `partition ${p}: its newest 2,500, in order, up to its position`,
      );
    }
    await produce(2);
    await c.waitFor('the next live prediction of each partition', () => c.pushes().length === 2);
    assert.deepEqual(
      c
        .pushes()
        .map((p) => [p.pub.partition, p.pub.offset])
        .sort(),
      [
        [0, r.positions['0']! + 1],
        [1, r.positions['1']! + 1],
      ],
    );
    await c.close();
  });

  it("a read-back given a budget holds only the newest records it keeps while reading, within the budget's records and bytes", async () => {
    const source = { channel: 'predictions' as const, topic: topics.predictions, serde: serde as Serde<unknown> };
    const consumer = {
      ...kafkaClientConfig(config().kafka),
      'group.id': uniqueName('frb-read'),
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
    };
    const decoder = new Decoder(createLogger({ level: 'silent' }, 'fanout-read-backs'), () => undefined);
    const read = (budget?: ReadBudget): ReturnType<typeof readBack> => readBack(rdkafkaClients, consumer, source, decoder, 0, 0, 100, budget);
    const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
    const all = await read();
    assert.deepEqual(
      all.pubs.map((p) => p.offset),
      range(0, 100),
      'without a budget: every record of the range',
    );

    const byRecords: ReadBudget = { records: 10, bytes: 1 << 20, keep: () => true };
    assert.deepEqual(
      (await read(byRecords)).pubs.map((p) => p.offset),
      range(90, 100),
    );
    assert.deepEqual([byRecords.kept?.records, byRecords.kept?.leftOut], [10, true]);

    const byBytes: ReadBudget = { records: 1_000, bytes: all.pubs.slice(97).reduce((n, p) => n + sizeInReply(p), 0), keep: () => true };
    assert.deepEqual(
      (await read(byBytes)).pubs.map((p) => p.offset),
      [97, 98, 99],
    );
    assert.equal(byBytes.kept?.leftOut, true);

    const filtered: ReadBudget = { records: 1_000, bytes: 1 << 20, keep: (p) => p.offset % 10 === 3 };
    assert.deepEqual(
      (await read(filtered)).pubs.map((p) => p.offset),
      range(0, 10).map((i) => i * 10 + 3),
    );
    assert.equal(filtered.kept?.leftOut, false, 'what the filter drops is not left out for the budget');
  });

  it('a resume whose read-back fails: a temporary error that names neither the registry nor the broker; the log has the cause', async () => {
    // A registry the fan-out reaches through a proxy that is switched off after the start.
    const proxy = createServer((req, res) => {
      fetch(`${config().schemaRegistry.url}${req.url}`, { headers: { accept: req.headers.accept ?? '*/*' } }).then(
        async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await r.arrayBuffer())),
        () => res.writeHead(502).end(),
      );
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const registryPort = (proxy.address() as AddressInfo).port;
    const own = { predictions: uniqueName('frb-down-p'), alerts: uniqueName('frb-down-a'), metrics: uniqueName('frb-down-m') };
    for (const t of Object.values(own)) await createTopic(config(), t, 1);
    await serde.prepare(own.predictions);
    await produce(3, own.predictions); // before the start: with no history the fan-out has not read them, so it knows no schema id yet
    const logged: string[] = [];
    const down = await startFanout(
      { ...fanoutConfig(), topics: { ...config().topics, ...own }, schemaRegistry: { ...config().schemaRegistry, url: `http://127.0.0.1:${registryPort}` } },
      createLogger({ level: 'warn' }, 'fanout-read-backs', { write: (l: string) => void logged.push(l) }),
    );
    try {
      const closed = new Promise<void>((r) => proxy.close(() => r()));
      proxy.closeAllConnections();
      await closed;
      const c = await WsTestClient.connect(`${down.url.replace(/^http/, 'ws')}/ws`, { token: token() });
      const failed = await c.request('subscribe', { channel: 'predictions', recover: { positions: { 0: -1 } } });
      assert.equal(failed.error?.code, 'SA_ERR_WS_UNAVAILABLE');
      assert.equal(failed.error?.temporary, true);
      assert.doesNotMatch(failed.error!.message, /127\.0\.0\.1|localhost|:\/\/|ECONNREFUSED|registry|\/work\/|\bat /);
      assert.ok(
        logged.some((l) => l.includes('a resume could not read its records back from Kafka') && l.includes(String(registryPort))),
        `the log names the cause: ${logged.join('')}`,
      );
      await c.close();
    } finally {
      await down.close();
    }
  });
});
