import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import Kafka from 'node-rdkafka';
import { loadSchema } from '../../schemas/catalog';
import { kafkaClientConfig, registryClientOptions } from '../../src/config';
import type { AnalyticsEvent } from '../../topologies/event';
import { EventGenerator, type GeneratedEvent } from '../../src/generator/events';
import { AvroSerdes } from '../../src/serdes';
import type { MlPrediction } from '../../topologies/analytics';
import { addEvent, emptyAggregate, featureVector, type WindowAggregate } from '../../topologies/features';
import { ROOT, cleanEnv } from '../support/cli';
import { call, connectedProducer, createTopic, uniqueName, waitFor } from '../support/kafka';
import { useStack } from '../support/stack';

/**
 * The analytics processor as users run it (`src/cli/processor.ts`, a child process), on
 * the real broker and registry, killed with SIGKILL while it scores. Verifier-style:
 * from the input alone, each entity window's features are recomputed; the committed
 * predictions of a window must be one per update — strictly more events each time, never
 * the same update twice — and the last must carry exactly the recomputed features.
 */
describe('the analytics processor on the real broker: inference exactly once under SIGKILL', function () {
  this.timeout(240_000);
  const config = useStack();

  it("kill -9 twice mid-stream, a model hot swap and a shadow model: one committed prediction per window update, the last with exactly the features of the window's events", async () => {
    const topics = {
      events: uniqueName('an-events'),
      predictions: uniqueName('an-predictions'),
      alerts: uniqueName('an-alerts'),
      metrics: uniqueName('an-metrics'),
    };
    for (const t of Object.values(topics)) await createTopic(config(), t, 3);
    const shadowTopic = uniqueName('an-shadow');
    const stateDir = mkdtempSync(join(tmpdir(), 'sa-analytics-it-'));
    // The models directory starts with version 1; version 2 appears mid-stream and is picked up by polling.
    const modelsDir = join(stateDir, 'models');
    cpSync(join(ROOT, 'models/anomaly-detector/1'), join(modelsDir, 'anomaly-detector/1'), { recursive: true });
    const queryPort = 20_000 + Math.floor(Math.random() * 10_000);
    const env = cleanEnv({
      STREAMING_TOPICS__EVENTS: topics.events,
      STREAMING_TOPICS__PREDICTIONS: topics.predictions,
      STREAMING_TOPICS__ALERTS: topics.alerts,
      STREAMING_TOPICS__METRICS: topics.metrics,
      STREAMING_PROCESSOR__APPLICATION_ID: uniqueName('an-app'),
      STREAMING_PROCESSOR__INSTANCE_ID: 'it-1',
      STREAMING_PROCESSOR__STATE_DIR: stateDir,
      STREAMING_PROCESSOR__QUERY_HOST: '127.0.0.1',
      STREAMING_PROCESSOR__QUERY_PORT: String(queryPort),
      STREAMING_PROCESSOR__ADMIN_PORT: String(queryPort + 1),
      STREAMING_REALTIME_ML__MODELS_DIR: modelsDir,
      STREAMING_REALTIME_ML__POLL_SECONDS: '1',
      // Version 1 also runs as shadow, to a topic the processor creates itself.
      STREAMING_REALTIME_ML__SHADOW_VERSION: '1',
      STREAMING_REALTIME_ML__SHADOW_TOPIC: shadowTopic,
      STREAMING_LOG__LEVEL: 'warn',
    });
    const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config().schemaRegistry)));
    const eventSerde = avro.serde<AnalyticsEvent>({ schema: loadSchema('analytics-event.avsc') });
    await eventSerde.prepare(topics.events);
    // Recent event times: window changelogs delete records older than their retention.
    const now = Date.now();
    const events = new EventGenerator({ seed: 11, entities: 300, anomalousShare: 0.2, startMs: now - 40 * 60_000 }).eventsBetween(
      now - 20 * 60_000,
      now - 60_000,
    );
    const chunks = [events.slice(0, events.length / 3), events.slice(events.length / 3, (2 * events.length) / 3), events.slice((2 * events.length) / 3)];
    const producer = await connectedProducer(config());
    const send = async (chunk: GeneratedEvent[]): Promise<void> => {
      for (const { anomalous: _label, ...e } of chunk)
        producer.produce(topics.events, null, eventSerde.serialize(topics.events, e), Buffer.from(e.entity_id), e.event_time);
      await call((cb) => producer.flush(20_000, (err) => cb(err)));
    };
    const output: string[] = [];
    let child: ChildProcess | undefined;
    const start = (): void => {
      child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/processor.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    };
    const kill = async (signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
      const c = child!;
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill(signal);
      await exited;
    };
    const predictions = new PredictionReader(config, topics.predictions, avro);
    const shadow = new PredictionReader(config, shadowTopic, avro);
    try {
      await send(chunks[0]!);
      start();
      await waitFor('the first committed predictions', async () => (await predictions.read()).length > 0, 90_000);
      for (const [i, chunk] of chunks.slice(1).entries()) {
        if (i === 1) addVersion2(modelsDir);
        await send(chunk);
        await new Promise((r) => setTimeout(r, 150)); // into the middle of processing the new chunk (commits every 100 ms)
        await kill('SIGKILL');
        start();
      }
      const expected = windowsOf(events);
      await waitFor(
        'every window at its final features',
        async () => {
          const latest = lastPerWindow(await predictions.read());
          return latest.size === expected.size && [...expected].every(([k, a]) => latest.get(k)?.features.events === a.events);
        },
        120_000,
      );
      await kill('SIGTERM');

      const all = await predictions.read();
      assertOnePerUpdate(all, expected);
      assert.ok(all.some((p) => p.flagged) && all.some((p) => !p.flagged));
      // Both versions served, none lost: every window's checks above hold across the swap.
      assert.deepEqual([...new Set(all.map((p) => `${p.model_name} v${p.model_version}`))].sort(), ['anomaly-detector v1', 'anomaly-detector v2']);
      // The shadow's answers: in their own topic, by the pinned version only, exactly once too.
      const shadowed = await shadow.read();
      assertOnePerUpdate(shadowed, expected);
      assert.deepEqual([...new Set(shadowed.map((p) => p.model_version))], ['1']);
    } catch (err) {
      process.stdout.write(output.join('').slice(-4000));
      throw err;
    } finally {
      await kill('SIGKILL').catch(() => undefined);
      await predictions.close();
      await shadow.close();
      await call((cb) => producer.disconnect((err) => cb(err)));
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

/** Per window: one prediction per update (strictly more events each time), the last with exactly the window's features. */
function assertOnePerUpdate(all: readonly MlPrediction[], expected: ReadonlyMap<string, WindowAggregate>): void {
  const byWindow = new Map<string, MlPrediction[]>();
  for (const p of all) {
    const k = `${p.entity_id}@${p.window_start}`;
    byWindow.set(k, [...(byWindow.get(k) ?? []), p]);
  }
  assert.equal(byWindow.size, expected.size);
  for (const [k, list] of byWindow) {
    const counts = list.map((p) => p.features.events!);
    assert.ok(
      counts.every((n, i) => i === 0 || n > counts[i - 1]!),
      `${k}: the same update committed twice, or out of order: ${counts.join(', ')}`,
    );
    assert.deepEqual(list.at(-1)!.features, featureVector(expected.get(k)!, 60_000), k);
  }
}

/** Version 2: the same graph under another version (what matters here is the swap, not the model). */
function addVersion2(modelsDir: string): void {
  const dir = join(modelsDir, 'anomaly-detector/2');
  const staging = join(modelsDir, '.staging-2');
  cpSync(join(modelsDir, 'anomaly-detector/1'), staging, { recursive: true });
  const meta = JSON.parse(readFileSync(join(staging, 'metadata.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(staging, 'metadata.json'), JSON.stringify({ ...meta, version: '2' }));
  renameSync(staging, dir); // appears whole: a poll never sees half a version
}

function windowsOf(events: readonly GeneratedEvent[]): Map<string, WindowAggregate> {
  const out = new Map<string, WindowAggregate>();
  for (const e of events) {
    const k = `${e.entity_id}@${Math.floor(e.event_time / 60_000) * 60_000}`;
    out.set(k, addEvent(out.get(k) ?? emptyAggregate(), e));
  }
  return out;
}

function lastPerWindow(all: readonly MlPrediction[]): Map<string, MlPrediction> {
  return new Map(all.map((p) => [`${p.entity_id}@${p.window_start}`, p]));
}

/** Reads a topic read_committed from the start, keeping its position between calls. */
class PredictionReader {
  private consumer: Kafka.KafkaConsumer | undefined;
  private readonly seen: MlPrediction[] = [];
  private readonly serde;

  constructor(
    private readonly config: () => import('../../src/config').Config,
    private readonly topic: string,
    avro: AvroSerdes,
  ) {
    this.serde = avro.serde<MlPrediction>({ schema: loadSchema('ml-prediction.avsc') });
  }

  async read(): Promise<MlPrediction[]> {
    if (!this.consumer) {
      const c = new Kafka.KafkaConsumer(
        { ...kafkaClientConfig(this.config().kafka), 'group.id': uniqueName('an-reader'), 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
        { 'auto.offset.reset': 'earliest' },
      );
      await call((cb) => c.connect({ timeout: 15_000 }, (err) => cb(err)));
      c.subscribe([this.topic]);
      this.consumer = c;
    }
    for (let empty = 0; empty < 3; ) {
      const batch = await call<Kafka.Message[]>((cb) => this.consumer!.consume(1_000, cb));
      if (batch.length === 0) {
        empty++;
        continue;
      }
      await this.serde.prepareBatch(
        this.topic,
        batch.map((m) => m.value ?? null),
      );
      for (const m of batch) this.seen.push(this.serde.deserialize(this.topic, m.value ?? null)!);
    }
    return this.seen;
  }

  async close(): Promise<void> {
    if (this.consumer) await call((cb) => this.consumer!.disconnect((err) => cb(err)));
  }
}
