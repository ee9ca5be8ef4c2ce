import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type Kafka from 'node-rdkafka';
import { loadSchema } from '../../schemas/catalog';
import { startFanout, type FanoutApp } from '../../src/app/fanout';
import { kafkaClientConfig, registryClientOptions, type Config } from '../../src/config';
import { clusterInfo } from '../../src/kafka';
import { signHs256 } from '../../src/auth/jwt';
import { createLogger } from '../../src/logger';
import { AvroSerdes, type AvroSerde } from '../../src/serdes';
import type { MlPrediction } from '../../topologies/analytics';
import { cleanEnv, ROOT } from '../support/cli';
import { call, connectedProducer, createTopic, uniqueName, waitFor } from '../support/kafka';
import { freePort } from '../support/net';
import { useStack } from '../support/stack';
import { WsTestClient } from '../support/ws-client';

const SECRET = 'fanout-processes-secret-0123456789abc';
const token = (): string => signHs256({ sub: 'test', channels: ['*'], exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);

/** Processes whose parent is `pid` and whose command line names the fan-out's worker entry. */
function workersOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('fanout-worker');
      } catch {
        return false; // gone meanwhile
      }
    });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * STREAMING_WEBSOCKET__PROCESSES above 1, on the real broker: several fan-out processes on
 * one port, each with every record and its own history; the first process answers health,
 * readiness and metrics for all of them.
 */
describe('the fan-out on several processes sharing its port', function () {
  this.timeout(180_000);
  const config = useStack();
  const topics = { predictions: uniqueName('fp-predictions'), alerts: uniqueName('fp-alerts'), metrics: uniqueName('fp-metrics') };
  let producer: Kafka.Producer;
  let serde: AvroSerde<MlPrediction>;

  const fanoutConfig = (): Config => ({
    ...config(),
    log: { ...config().log, level: 'error' },
    topics: { ...config().topics, ...topics },
    websocket: { ...config().websocket, host: '127.0.0.1', port: 0, adminPort: 0, processes: 2 },
    auth: { ...config().auth, jwtSecret: SECRET },
  });
  const wsUrl = (app: FanoutApp): string => `${app.url.replace(/^http/, 'ws')}/ws`;
  const readyz = async (app: FanoutApp) =>
    (await (await fetch(`${app.adminUrl}/readyz`)).json()) as { status: string; connections: number; processes: { index: number; connections: number }[] };

  async function produce(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
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
        features: { events: 1 },
        event_time: Date.now(),
        processing_time: Date.now(),
      };
      producer.produce(topics.predictions, null, serde.serialize(topics.predictions, p), Buffer.from(key), Date.now());
    }
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
  }

  before(async () => {
    for (const t of Object.values(topics)) await createTopic(config(), t, 2);
    // A broker just started can take more than the fan-out's first look (10 s) to show new topics in its metadata.
    await waitFor(
      'the topics in the metadata',
      async () => {
        const known = (await clusterInfo(kafkaClientConfig(config().kafka), 10_000)).topics;
        return Object.values(topics).every((t) => known.get(t)?.partitions === 2);
      },
      60_000,
    );
    producer = await connectedProducer(config());
    serde = new AvroSerdes(new SchemaRegistry(registryClientOptions(config().schemaRegistry))).serde<MlPrediction>({
      schema: loadSchema('ml-prediction.avsc'),
    });
    await serde.prepare(topics.predictions);
  });
  after(async () => {
    await call((cb) => producer.disconnect((err) => cb(err)));
  });

  it('spreads clients over the processes, delivers each its own keys once, resumes wherever a client lands, and adds the metrics up', async () => {
    const app = await startFanout(fanoutConfig(), createLogger({ level: 'error' }, 'fanout-test'));
    const clients: WsTestClient[] = [];
    try {
      assert.equal(workersOf(process.pid).length, 2, 'two worker processes');
      for (let i = 0; i < 24; i++) {
        const c = await WsTestClient.connect(wsUrl(app), { token: token() });
        assert.ok((await c.request('subscribe', { channel: 'predictions', filter: { keyPrefix: `c${i}/` } })).result);
        clients.push(c);
      }
      await waitFor('both heartbeats counted', async () => (await readyz(app)).connections === 24, 10_000);
      const r = await readyz(app);
      assert.equal(r.status, 'ready');
      assert.ok(
        r.processes.every((p) => p.connections > 0),
        `the kernel gave each process some of the 24 clients: ${JSON.stringify(r.processes)}`,
      );
      await produce(clients.map((_, i) => `c${i}/first`));
      for (const [i, c] of clients.entries()) await c.waitFor(`client ${i}'s record`, () => c.pushes('predictions').length === 1);
      await new Promise((res) => setTimeout(res, 300));
      for (const [i, c] of clients.entries())
        assert.deepEqual(
          c.pushes('predictions').map((p) => p.pub.key),
          [`c${i}/first`],
        );

      // Resume: each client leaves, records are written meanwhile, and it comes back through the shared port.
      const last = clients.map((c) => c.pushes('predictions')[0]!.pub);
      for (const c of clients) await c.close();
      await produce(clients.map((_, i) => `c${i}/missed`));
      for (const [i, prev] of last.entries()) {
        const c = await WsTestClient.connect(wsUrl(app), { token: token() });
        clients[i] = c;
        const positions = Object.fromEntries([0, 1].map((p) => [String(p), p === prev.partition ? prev.offset : -1]));
        const reply = await c.request('subscribe', { channel: 'predictions', filter: { keyPrefix: `c${i}/` }, recover: { positions } });
        assert.equal(reply.result?.recovered, true, JSON.stringify(reply));
        // The process it reached may not have read the record yet: then it arrives live, still once.
        const replayed = (reply.result!.publications as { key: string }[]).map((p) => p.key);
        const got = (): string[] => [...replayed, ...c.pushes('predictions').map((p) => p.pub.key as string)];
        await c.waitFor(`client ${i}'s missed record`, () => got().length > 0);
        await new Promise((res) => setTimeout(res, 100));
        assert.deepEqual(got(), [`c${i}/missed`], `client ${i} resumed wherever it landed, the missed record once`);
      }

      const metrics = await (await fetch(`${app.adminUrl}/metrics`)).text();
      assert.match(metrics, /^websocket_connections_active 24$/m, 'the processes add their connections up');
      assert.equal((await fetch(`${app.adminUrl}/healthz`)).status, 200);
    } finally {
      for (const c of clients) await c.close().catch(() => undefined);
      await app.close();
    }
    assert.deepEqual(workersOf(process.pid), [], 'close ends every worker');
  });

  it('a WebSocket port another process holds is a configuration error naming the setting, with one process or several', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as AddressInfo).port;
    try {
      for (const processes of [1, 2]) {
        const c = fanoutConfig();
        await assert.rejects(
          startFanout({ ...c, websocket: { ...c.websocket, port, processes } }, createLogger({ level: 'silent' }, 'fanout-test')),
          (e: Error & { code?: string; hint?: string }) =>
            e.code === 'SA_ERR_CONFIG_INVALID' && new RegExp(`127\\.0\\.0\\.1:${port}`).test(e.message) && /STREAMING_WEBSOCKET__PORT/.test(e.hint ?? ''),
          `${processes} process(es)`,
        );
      }
      assert.deepEqual(workersOf(process.pid), [], 'no worker was left behind');
    } finally {
      holder.close();
    }
  });

  it('a worker that dies fails the fan-out with SA_ERR_FANOUT_PROCESS, and /healthz says so', async () => {
    const app = await startFanout(fanoutConfig(), createLogger({ level: 'silent' }, 'fanout-test'));
    try {
      const [victim] = workersOf(process.pid);
      process.kill(victim!, 'SIGKILL');
      await assert.rejects(app.failed!, (e: Error & { code?: string }) => e.code === 'SA_ERR_FANOUT_PROCESS' && /exited/.test(e.message));
      assert.equal((await fetch(`${app.adminUrl}/healthz`)).status, 503);
    } finally {
      await app.close();
    }
    assert.deepEqual(workersOf(process.pid), []);
  });

  it('npm run fanout with two processes: SIGTERM closes the workers first, then the primary, within the grace period', async () => {
    const adminPort = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/fanout.ts')], {
      cwd: ROOT,
      env: cleanEnv({
        STREAMING_TOPICS__PREDICTIONS: topics.predictions,
        STREAMING_TOPICS__ALERTS: topics.alerts,
        STREAMING_TOPICS__METRICS: topics.metrics,
        STREAMING_WEBSOCKET__HOST: '127.0.0.1',
        STREAMING_WEBSOCKET__PORT: String(await freePort()),
        STREAMING_WEBSOCKET__ADMIN_PORT: String(adminPort),
        STREAMING_WEBSOCKET__PROCESSES: '2',
        STREAMING_AUTH__JWT_SECRET: SECRET,
        STREAMING_LOG__LEVEL: 'warn',
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor('the fan-out to be ready', async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.ok === true, 60_000);
      const workers = workersOf(child.pid!);
      assert.equal(workers.length, 2, stderr);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.deepEqual(
        workers.filter((p) => alive(p)),
        [],
        'no worker outlives the primary',
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
