/**
 * npm run bench -- ws [--clients N] [--rate R] [--seconds S]: the fan-out tier (its own
 * process, `src/cli/fanout.ts`) holding `--clients` WebSocket connections opened by
 * separate client-load processes (ws-clients.ts), every client subscribed to predictions;
 * predictions are produced into Kafka at R / N per second, so R deliveries per second
 * reach the clients. Reports connections held (the fan-out's own gauge), deliveries/s,
 * p50/p95/p99 delivery latency (the record's Kafka timestamp, set when produced → the
 * client receives it), errors and unexpected closes, and the fan-out's CPU and RSS.
 * Everything shares the machine's two cores with the broker.
 */
import { JAVA_PARTITIONER } from '../../src/kafka';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { loadSchema } from '../../schemas/catalog';
import { createTopics } from '../../src/kafka';
import { kafkaClientConfig, registryClientOptions, type Config } from '../../src/config';
import { signHs256 } from '../../src/auth/jwt';
import { AvroSerdes } from '../../src/serdes';
import type { MlPrediction } from '../../topologies/analytics';
import Kafka from 'node-rdkafka';
import { percentiles } from './report';

type Say = (line: string) => void;

export interface WsBenchOptions {
  clients: number;
  /** Deliveries per second in all. */
  rate: number;
  seconds: number;
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
  const perSecond = o.rate / o.clients;
  say(
    `ws benchmark: ${o.clients.toLocaleString('en-US')} clients in ${PROCESSES} load processes, ${perSecond.toFixed(2)} predictions/s each delivered to every client = ${o.rate.toLocaleString('en-US')} deliveries/s, for ${o.seconds} s (2 cores shared by broker, registry, fan-out and load)`,
  );

  const fanout = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../../src/cli/fanout.ts')], {
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
      STREAMING_WEBSOCKET__MAX_CONNECTIONS_PER_IP: String(o.clients + 100),
      STREAMING_LOG__LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const adminUrl = `http://127.0.0.1:${PORT + 1}`;
  const loads: ChildProcess[] = [];
  // No linger: the latency measured starts at the record's timestamp, set when produced.
  const producer = new Kafka.Producer({ ...client, 'linger.ms': 0 } as Kafka.ProducerGlobalConfig, JAVA_PARTITIONER);
  await new Promise<void>((ok, fail) => producer.connect({}, (err) => (err ? fail(err) : ok())));
  try {
    await until(async () => (await fetch(`${adminUrl}/readyz`).catch(() => undefined))?.ok === true, 60_000, 'the fan-out to be ready');
    const token = signHs256({ sub: 'bench', channels: ['predictions'], exp: Math.floor(Date.now() / 1000) + 3600 }, secret);
    let started = Date.now();
    const connectedLines: Promise<void>[] = [];
    for (let i = 0; i < PROCESSES; i++) {
      const count = Math.floor(o.clients / PROCESSES) + (i < o.clients % PROCESSES ? 1 : 0);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(__dirname, 'ws-clients.ts'), `ws://127.0.0.1:${PORT}/ws`, token, String(count), String(Math.ceil(2_000 / PROCESSES))],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      loads.push(child);
      connectedLines.push(new Promise((r) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('connected') && r())));
    }
    await Promise.all(connectedLines);
    const held = await gauge(adminUrl, 'websocket_connections_active');
    say(
      `connections: ${held.toLocaleString('en-US')} held by one fan-out process (opened and subscribed in ${((Date.now() - started) / 1000).toFixed(1)} s); fan-out RSS ${Math.round((await gauge(adminUrl, 'process_resident_memory_bytes')) / 2 ** 20)} MiB`,
    );

    const cpu0 = ticks(fanout.pid!);
    started = Date.now();
    let sent = 0;
    while (Date.now() - started < o.seconds * 1000) {
      const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
      for (; sent < due; sent++) {
        const now = Date.now();
        const p: MlPrediction = {
          entity_id: `entity-${sent}`,
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
    await new Promise((r) => setTimeout(r, 2_000)); // the last deliveries
    const cpu = Math.round((((ticks(fanout.pid!) - cpu0) * 10) / (seconds * 1000)) * 100);
    const rss = await gauge(adminUrl, 'process_resident_memory_bytes');
    const results = await Promise.all(loads.map((c) => finish(c)));
    const deliveries = results.reduce((n, r) => n + r.deliveries, 0);
    const latencies = results.flatMap((r) => r.latencies);
    const [p50, p95, p99] = percentiles(latencies, [50, 95, 99]);
    say(
      `deliveries: ${deliveries.toLocaleString('en-US')} of ${(sent * held).toLocaleString('en-US')} expected (${sent.toLocaleString('en-US')} predictions × ${held.toLocaleString('en-US')} clients) = ${Math.round(deliveries / seconds).toLocaleString('en-US')} deliveries/s`,
    );
    say(
      `delivery latency (record timestamp when produced → client receive, sample of ${latencies.length.toLocaleString('en-US')}): p50 ${p50} ms, p95 ${p95} ms, p99 ${p99} ms`,
    );
    say(
      `  of which inside the fan-out (record timestamp → written to the socket, from its histogram): p50 ≤ ${await bucketQuantile(adminUrl, 0.5)} ms, p95 ≤ ${await bucketQuantile(adminUrl, 0.95)} ms`,
    );
    say(
      `errors: ${results.reduce((n, r) => n + r.errors, 0)} connection errors, ${results.reduce((n, r) => n + r.closes, 0)} unexpected closes; fan-out CPU ${cpu}% of one core, RSS ${Math.round(rss / 2 ** 20)} MiB`,
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

function ticks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function finish(child: ChildProcess): Promise<{ deliveries: number; latencies: number[]; errors: number; closes: number }> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as { deliveries: number; latencies: number[]; errors: number; closes: number });
      } catch (err) {
        reject(new Error(`a client-load process gave no result: ${(err as Error).message}`));
      }
    });
    child.kill('SIGTERM');
  });
}
