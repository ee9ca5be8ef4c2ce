/**
 * npm run bench -- ws [--clients N] [--rate R] [--seconds S] [--shape dashboard|broadcast]
 * [--ramp N]: the fan-out tier (its own process, compiled like production) holding
 * `--clients` WebSocket connections opened by separate client-load processes
 * (ws-clients.ts), R deliveries per second in all:
 *   dashboard  client i subscribes to the key prefix `c<i>/`; R predictions/s, keyed
 *              round-robin over the clients, each delivered to one client;
 *   broadcast  every client subscribes to every prediction; R / N predictions/s.
 * Clients open at most `--ramp` connections per second in all and retry a failed one.
 * Reports connections held (the fan-out's own gauge), first-attempt failures by reason,
 * retries and clients lost, deliveries/s, p50/p95/p99 delivery latency (the record's Kafka
 * timestamp, set when produced → the client receives it), and the fan-out's CPU and RSS.
 * Everything shares the machine's two cores with the broker.
 */
import { JAVA_PARTITIONER } from '../../src/kafka';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { loadSchema } from '../../schemas/catalog';
import { createTopics } from '../../src/kafka';
import { kafkaClientConfig, registryClientOptions, type Config } from '../../src/config';
import { signHs256 } from '../../src/auth/jwt';
import { AvroSerdes } from '../../src/serdes';
import type { MlPrediction } from '../../topologies/analytics';
import Kafka from 'node-rdkafka';
import { brokerNodes } from '../kafka/broker';
import { runningPid } from '../kafka/process';
import { ProcessMeter } from './harness/procs';
import { buildNode, ROOT } from './harness/sides';
import { percentiles } from './report';

type Say = (line: string) => void;

export type WsShape = 'dashboard' | 'broadcast';

export interface WsBenchOptions {
  clients: number;
  /** Deliveries per second in all. */
  rate: number;
  seconds: number;
  shape: WsShape;
  /** New connections per second, all load processes together. */
  ramp: number;
  /** Fan-out processes sharing the port (STREAMING_WEBSOCKET__PROCESSES). */
  processes: number;
}

interface LoadResult {
  connected: number;
  deliveries: number;
  latencies: number[];
  reasons: Record<string, number>;
  retries: number;
  lost: number;
  closes: number;
}

const PROCESSES = 4;
const PORT = 18_765;

export async function benchWs(config: Config, o: WsBenchOptions, say: Say): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const topics = { predictions: `bench-${id}-ws-predictions`, alerts: `bench-${id}-ws-alerts`, metrics: `bench-${id}-ws-metrics` };
  const client = kafkaClientConfig(config.kafka);
  await createTopics(
    client,
    Object.values(topics).map((name) => ({ name, partitions: 6, replicationFactor: -1 })),
  );
  const serde = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry))).serde<MlPrediction>({
    schema: loadSchema('ml-prediction.avsc'),
  });
  await serde.prepare(topics.predictions);
  const secret = randomBytes(32).toString('hex');
  // Predictions per second: each goes to one client (dashboard) or to every client (broadcast).
  const perSecond = o.shape === 'dashboard' ? o.rate : o.rate / o.clients;
  say(
    o.shape === 'dashboard'
      ? `ws benchmark, dashboard: ${o.clients.toLocaleString('en-US')} clients in ${PROCESSES} load processes, each subscribed to its own key prefix; ${o.rate.toLocaleString('en-US')} predictions/s spread over them = ${o.rate.toLocaleString('en-US')} deliveries/s, for ${o.seconds} s (2 cores shared by broker, registry, fan-out and load)`
      : `ws benchmark, broadcast: ${o.clients.toLocaleString('en-US')} clients in ${PROCESSES} load processes, ${perSecond.toFixed(2)} predictions/s each delivered to every client = ${o.rate.toLocaleString('en-US')} deliveries/s, for ${o.seconds} s (2 cores shared by broker, registry, fan-out and load)`,
  );
  buildNode(say);

  const fanout = spawn(process.execPath, [join(ROOT, 'bench', 'build', 'src', 'cli', 'fanout.js')], {
    env: {
      ...process.env,
      STREAMING_TOPICS__PREDICTIONS: topics.predictions,
      STREAMING_TOPICS__ALERTS: topics.alerts,
      STREAMING_TOPICS__METRICS: topics.metrics,
      STREAMING_WEBSOCKET__HOST: '127.0.0.1',
      STREAMING_WEBSOCKET__PORT: String(PORT),
      STREAMING_WEBSOCKET__ADMIN_PORT: String(PORT + 1),
      STREAMING_AUTH__JWT_SECRET: secret,
      STREAMING_WEBSOCKET__MAX_CONNECTIONS: String(o.clients + 100),
      STREAMING_WEBSOCKET__PROCESSES: String(o.processes),
      STREAMING_WEBSOCKET__MAX_CONNECTIONS_PER_IP: String(o.clients + 100),
      STREAMING_LOG__LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const adminUrl = `http://127.0.0.1:${PORT + 1}`;
  const loads: ChildProcess[] = [];
  // The latency measured starts at the record's timestamp, set when produce() is called, so
  // it includes this linger. 5 ms batches the records as the processor's transactions do;
  // without it each of 20,000 records/s is a request of its own, and the broker took 80 %
  // of a core answering them (against 55 % with it), on the cores the fan-out runs on.
  const producer = new Kafka.Producer({ ...client, 'linger.ms': 5 } as Kafka.ProducerGlobalConfig, JAVA_PARTITIONER);
  await new Promise<void>((ok, fail) => producer.connect({}, (err) => (err ? fail(err) : ok())));
  try {
    await until(async () => (await fetch(`${adminUrl}/readyz`).catch(() => undefined))?.ok === true, 60_000, 'the fan-out to be ready');
    const token = signHs256({ sub: 'bench', channels: ['predictions'], exp: Math.floor(Date.now() / 1000) + 3600 }, secret);
    let started = Date.now();
    const connectedLines: Promise<void>[] = [];
    for (let i = 0, base = 0; i < PROCESSES; i++) {
      const count = Math.floor(o.clients / PROCESSES) + (i < o.clients % PROCESSES ? 1 : 0);
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'bench', 'build', 'ops', 'bench', 'ws-clients.js'),
          `ws://127.0.0.1:${PORT}/ws`,
          token,
          String(count),
          String(Math.ceil(o.ramp / PROCESSES)),
          String(base),
          o.shape,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      base += count;
      loads.push(child);
      connectedLines.push(new Promise((r) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('connected') && r())));
    }
    await Promise.all(connectedLines);
    const held = await gauge(adminUrl, 'websocket_connections_active');
    say(
      `connections: ${held.toLocaleString('en-US')} held by ${o.processes === 1 ? 'one fan-out process' : `${o.processes} fan-out processes`} (opened and subscribed in ${((Date.now() - started) / 1000).toFixed(1)} s); fan-out RSS ${Math.round((await gauge(adminUrl, 'process_resident_memory_bytes')) / 2 ** 20)} MiB`,
    );

    const broker = runningPid(brokerNodes(config.stack)[0]!.pidFile);
    const meter = new ProcessMeter(
      new Map<string, number>([
        ['app', fanout.pid!],
        ...(broker !== undefined ? [['broker', broker] as [string, number]] : []),
        ['producer', process.pid],
        ...loads.map((c, i) => [`load-${i + 1}`, c.pid!] as [string, number]),
      ]),
    );
    const window = meter.window();
    started = Date.now();
    let sent = 0;
    while (Date.now() - started < o.seconds * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
      for (; sent < due; sent++) {
        const now = Date.now();
        const p: MlPrediction = {
          entity_id: o.shape === 'dashboard' ? `c${sent % o.clients}/entity-${sent}` : `entity-${sent}`,
          window_start: now - 30_000,
          window_end: now + 30_000,
          score: 0.42,
          label: 'normal',
          flagged: false,
          threshold: 0.5,
          model_name: 'anomaly-detector',
          model_version: '1',
          features: { events: 3, clicks: 1, page_views: 2 },
          event_time: now,
          processing_time: now,
        };
        producer.produce(topics.predictions, null, serde.serialize(topics.predictions, p), Buffer.from(p.entity_id), now);
      }
      producer.poll();
      await new Promise((r) => setTimeout(r, 2));
    }
    const seconds = (Date.now() - started) / 1000;
    const procs = window.end();
    meter.stop();
    await new Promise((r) => setTimeout(r, 2_000)); // the last deliveries
    const rss = await gauge(adminUrl, 'process_resident_memory_bytes');
    const results = await Promise.all(loads.map((c) => finish(c)));
    const deliveries = results.reduce((n, r) => n + r.deliveries, 0);
    const latencies = results.flatMap((r) => r.latencies);
    const [p50, p95, p99] = percentiles(latencies, [50, 95, 99]);
    const expected = o.shape === 'dashboard' ? sent : sent * held;
    say(
      `deliveries: ${deliveries.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} expected (${sent.toLocaleString('en-US')} predictions${o.shape === 'dashboard' ? ', one client each' : ` × ${held.toLocaleString('en-US')} clients`}) = ${Math.round(deliveries / seconds).toLocaleString('en-US')} deliveries/s`,
    );
    say(
      `delivery latency (record timestamp when produced → client receive, sample of ${latencies.length.toLocaleString('en-US')}): p50 ${p50} ms, p95 ${p95} ms, p99 ${p99} ms`,
    );
    say(
      `  of which inside the fan-out (record timestamp → written to the socket, from its histogram): p50 ≤ ${await bucketQuantile(adminUrl, 0.5)} ms, p95 ≤ ${await bucketQuantile(adminUrl, 0.95)} ms`,
    );
    const reasons: Record<string, number> = {};
    for (const r of results) for (const [why, n] of Object.entries(r.reasons)) reasons[why] = (reasons[why] ?? 0) + n;
    const failed = Object.values(reasons).reduce((a, b) => a + b, 0);
    say(
      `connection ramp: ${failed} first attempts failed${
        failed > 0
          ? ` (${Object.entries(reasons)
              .map(([why, n]) => `${why}: ${n}`)
              .join(', ')})`
          : ''
      }, ${results.reduce((n, r) => n + r.retries, 0)} retries, ${results.reduce((n, r) => n + r.lost, 0)} clients lost after ${30} attempts; ${results.reduce((n, r) => n + r.closes, 0)} unexpected closes after subscribing`,
    );
    const load = Object.entries(procs).filter(([name]) => name.startsWith('load-'));
    say(
      `CPU, % of one core while producing: fan-out ${procs.app?.cpu ?? '–'} % (RSS ${Math.round(rss / 2 ** 20)} MiB), broker ${procs.broker?.cpu ?? '–'} %, producer ${procs.producer?.cpu ?? '–'} %, client load ${load.reduce((n, [, u]) => n + u.cpu, 0)} % in ${load.length} processes`,
    );
  } finally {
    for (const c of loads) if (c.exitCode === null) c.kill('SIGKILL');
    fanout.kill('SIGTERM');
    await new Promise((r) => fanout.once('exit', r));
    await new Promise<void>((r) => producer.disconnect(() => r()));
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

/** The upper bound of the histogram bucket holding quantile q of websocket_delivery_latency_ms. */
async function bucketQuantile(url: string, q: number): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = [...text.matchAll(/^websocket_delivery_latency_ms_bucket\{le="([^"]+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])] as const);
  const total = buckets.at(-1)?.[1] ?? 0;
  return buckets.find(([, n]) => n >= q * total)?.[0] ?? 'n/a';
}

function finish(child: ChildProcess): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
      } catch (err) {
        reject(new Error(`a client-load process gave no result: ${(err as Error).message}`));
      }
    });
    child.kill('SIGTERM');
  });
}
