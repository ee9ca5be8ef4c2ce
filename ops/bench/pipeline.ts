/**
 * npm run bench -- pipeline: the full analytics topology (Avro events → validation →
 * 1-minute entity window features on RocksDB → micro-batched ONNX inference →
 * ml-predictions, streaming-alerts; plus the summaries) under
 * exactly-once, on the local broker and registry:
 *   throughput — a backlog of `--records` generated events drained (events/s between the
 *     first and last committed offset), CPU;
 *   latency — live events at `--rate` (default: half the measured throughput) for
 *     `--seconds`, produced and read by a separate process (pipeline-load.ts): the latest
 *     event time of a window → its prediction read read_committed;
 *   inference — every model call timed: p50/p95/p99 per batch and per record.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type Kafka from 'node-rdkafka';
import { Registry } from 'prom-client';
import { loadSchema } from '../../schemas/catalog';
import { analyticsTopology, type MlPrediction, type StreamingAlert } from '../../topologies/analytics';
import { createTopics } from '../../src/kafka';
import { kafkaClientConfig, registryClientOptions, type Config } from '../../src/config';
import type { AnalyticsEvent } from '../../topologies/event';
import { EventGenerator, type GeneratedEvent } from '../../src/generator/events';
import { eventsPerEntitySecond } from '../../src/generator/run';
import { localCatalogue, ModelRegistry } from '../../src/inference/model-registry';
import type { OnnxModel } from '../../src/inference/onnx-model';
import type { ModelSource } from '../../src/inference/predict';
import { createLogger } from '../../src/logger';
import { KafkaStreams } from '../../src/runtime/kafka-streams';
import { AvroSerdes, type AvroSerde } from '../../src/serdes';
import { connectProducer, cpuMeter, waitDrained, type Say } from './load';
import { percentiles } from './report';

export interface PipelineBenchOptions {
  records: number;
  partitions: number;
  /** 0: half the measured throughput. */
  rate: number;
  seconds: number;
  commitInterval: number;
}

interface Call {
  ms: number;
  rows: number;
}

/** Times every model call (the serving model, unchanged). */
function timed(source: ModelSource, calls: Call[]): ModelSource {
  return {
    current: () => {
      const model = source.current();
      return new Proxy(model, {
        get(target, prop, receiver) {
          if (prop !== 'score') return Reflect.get(target, prop, receiver) as unknown;
          return (rows: Float32Array, n: number) => {
            const started = performance.now();
            const out = target.score(rows, n);
            calls.push({ ms: performance.now() - started, rows: n });
            return out;
          };
        },
      }) as OnnxModel;
    },
  };
}

export async function benchPipeline(config: Config, o: PipelineBenchOptions, say: Say): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const topics = { events: `bench-${id}-events`, predictions: `bench-${id}-predictions`, alerts: `bench-${id}-alerts`, metrics: `bench-${id}-metrics` };
  const client = kafkaClientConfig(config.kafka);
  await createTopics(
    client,
    Object.values(topics).map((name) => ({ name, partitions: o.partitions, replicationFactor: -1 })),
  );
  const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry)));
  const eventSerde = avro.serde<AnalyticsEvent>({ schema: loadSchema('analytics-event.avsc') });
  await eventSerde.prepare(topics.events);
  say(
    `pipeline benchmark: the analytics topology (Avro, RocksDB window features, ONNX inference, exactly_once_v2, commit every ${o.commitInterval} ms), ${o.partitions} partitions, on the local broker and registry (2 cores shared by broker, registry, application and load generator)`,
  );

  // A backlog of generated events from the last 20 minutes: as many entities as that takes.
  const now = Date.now();
  const minutes = 20;
  const entities = Math.max(100, Math.round(o.records / (eventsPerEntitySecond() * minutes * 60)));
  const backlog = new EventGenerator({ seed: 3, entities, startMs: now - (minutes + 30) * 60_000 })
    .eventsBetween(now - minutes * 60_000, now)
    .slice(0, o.records);
  const producer = await connectProducer(client);
  const started = Date.now();
  await send(producer, topics.events, backlog, eventSerde);
  say(
    `backlog: ${backlog.length.toLocaleString('en-US')} events of ${entities.toLocaleString('en-US')} entities written in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );

  const calls: Call[] = [];
  const log = createLogger({ level: 'warn' }, 'bench');
  const models = await ModelRegistry.open({ catalogue: localCatalogue(resolve('models'), 'anomaly-detector'), log, pollMs: 0 });
  const topology = analyticsTopology({
    topics,
    serdes: {
      event: eventSerde,
      prediction: avro.serde<MlPrediction>({ schema: loadSchema('ml-prediction.avsc') }),
      alert: avro.serde<StreamingAlert>({ schema: loadSchema('streaming-alert.avsc') }),
    },
    model: timed(models, calls),
    metrics: new Registry(),
  });
  const applicationId = `bench-pipeline-${id}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
  const streams = new KafkaStreams(topology, {
    applicationId,
    stateDir,
    kafka: kafkaClientConfig(config.kafka),
    logger: log,
    handleSignals: false,
    commitIntervalMs: o.commitInterval,
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    const cpu = cpuMeter(config);
    await streams.start();
    const drain = await waitDrained(client, applicationId, topics.events, o.partitions, backlog.length);
    const usage = cpu.stop(drain.lastMs - drain.firstMs);
    const seconds = (drain.lastMs - drain.firstMs) / 1000;
    const throughput = Math.round(backlog.length / seconds);
    say(`throughput: ${backlog.length.toLocaleString('en-US')} events committed in ${seconds.toFixed(2)} s = ${throughput.toLocaleString('en-US')} events/s`);
    say(
      `  CPU during it: this process ${usage.self}% of one core (application + measuring), broker ${usage.broker}% of one core; peak RSS ${Math.round(peakRss / 2 ** 20)} MiB`,
    );
    reportInference(calls.splice(0), say, 'backlog');

    const rate = o.rate > 0 ? o.rate : Math.max(100, Math.round(throughput / 2));
    const { latencies, produced } = await measure(topics, rate, o.seconds, say);
    const p = percentiles(latencies, [50, 95, 99]);
    say(
      `latency at ${produced.toLocaleString('en-US')} events/s (asked ${rate.toLocaleString('en-US')}) for ${o.seconds} s (latest event time of a window → its prediction visible read_committed): p50 ${p[0]} ms, p95 ${p[1]} ms, p99 ${p[2]} ms over ${latencies.length.toLocaleString('en-US')} predictions`,
    );
    reportInference(calls.splice(0), say, `live at ${produced.toLocaleString('en-US')} events/s`);
  } finally {
    clearInterval(sampler);
    await streams.close();
    models.close();
    await new Promise<void>((r) => producer.disconnect(() => r()));
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function reportInference(calls: Call[], say: Say, phase: string): void {
  if (calls.length === 0) return say(`inference (${phase}): no model call`);
  const batch = percentiles(
    calls.map((c) => c.ms),
    [50, 95, 99],
  ).map((v) => v.toFixed(3));
  const record = percentiles(
    calls.map((c) => (c.ms * 1000) / c.rows),
    [50, 95, 99],
  ).map((v) => v.toFixed(2));
  const rows = calls.reduce((n, c) => n + c.rows, 0);
  say(
    `inference (${phase}): ${calls.length.toLocaleString('en-US')} model calls, ${rows.toLocaleString('en-US')} rows (mean ${(rows / calls.length).toFixed(1)} per call); per batch p50 ${batch[0]} ms, p95 ${batch[1]} ms, p99 ${batch[2]} ms; per record p50 ${record[0]} µs, p95 ${record[1]} µs, p99 ${record[2]} µs`,
  );
}

async function send(producer: Kafka.Producer, topic: string, events: readonly GeneratedEvent[], serde: AvroSerde<AnalyticsEvent>): Promise<void> {
  for (const { anomalous: _label, ...e } of events) {
    for (;;) {
      try {
        producer.produce(topic, null, serde.serialize(topic, e), Buffer.from(e.entity_id), e.event_time);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }
  await new Promise<void>((ok, fail) => producer.flush(60_000, (err) => (err ? fail(err) : ok())));
}

/**
 * Live events at `rate` for `seconds`, produced and read by a separate process
 * (pipeline-load.ts): latencies in ms, and the rate actually produced (the generator's
 * sessions make it differ from the one asked for, and a saturated machine produces less).
 */
async function measure(
  topics: { events: string; predictions: string },
  rate: number,
  seconds: number,
  say: Say,
): Promise<{ latencies: number[]; produced: number }> {
  say(`latency phase: a separate process produces about ${rate.toLocaleString('en-US')} events/s for ${seconds} s and reads the predictions…`);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'pipeline-load.ts'), topics.events, topics.predictions, String(rate), String(seconds)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`the latency load process exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').pop()!) as { produced: number; latencies: number[] };
  const produced = Math.round(result.produced / seconds);
  say(`latency phase: ${result.produced.toLocaleString('en-US')} events produced = ${produced.toLocaleString('en-US')} events/s`);
  return { latencies: result.latencies, produced };
}
