import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { DLQ_HEADERS, Serdes, StreamsBuilder, TopologyTestDriver } from '../../../src';
import type { AnalyticsEvent } from '../../../topologies/event';
import { EventGenerator } from '../../../src/generator/events';
import { localCatalogue, ModelRegistry } from '../../../src/inference/model-registry';
import type { OnnxModel } from '../../../src/inference/onnx-model';
import { createLogger } from '../../../src/logger';
import { analyticsTopology, FEATURE_STORE, type MlPrediction, type StreamingAlert } from '../../../topologies/analytics';
import { summaries, type Summary } from '../../../topologies/analytics-processors';
import { addEvent, emptyAggregate, featureVector, type WindowAggregate } from '../../../topologies/features';

const S = Serdes.String();
const topics = { events: 'analytics-events', predictions: 'ml-predictions', alerts: 'streaming-alerts', metrics: 'streaming-metrics' };
const START = Date.UTC(2026, 0, 1, 12);

describe('the analytics topology (TopologyTestDriver)', function () {
  this.timeout(60_000);
  let registry: ModelRegistry;
  let wall = START + 3_600_000;
  let driver: TopologyTestDriver;
  const events = new EventGenerator({ seed: 7, entities: 150, anomalousShare: 0.3, startMs: START }).eventsBetween(START, START + 20 * 60_000);

  before(async () => {
    registry = await ModelRegistry.open({
      catalogue: localCatalogue(join(__dirname, '../../../models'), 'anomaly-detector'),
      log: createLogger({ level: 'warn' }),
      pollMs: 0,
    });
    const topology = analyticsTopology({
      topics,
      serdes: { event: Serdes.Json<AnalyticsEvent>(), prediction: Serdes.Json<MlPrediction>(), alert: Serdes.Json<StreamingAlert>() },
      model: registry,
      clock: () => wall,
    });
    driver = new TopologyTestDriver(topology, { applicationId: 'analytics' }, { initialWallClockTimeMs: wall });
    const input = driver.createInputTopic(topics.events, S, Serdes.Json<AnalyticsEvent>());
    for (const e of events) input.pipeInput(e.entity_id, e, { timestamp: e.event_time });
    input.pipeInput('entity-x', { ...events[0]!, entity_id: 'entity-y' }, { timestamp: events[0]!.event_time });
    wall += 10_000;
    driver.advanceWallClockTime(10_000);
  });
  after(() => {
    driver.close();
    registry.close();
  });

  /** The latest prediction per entity window. */
  const latest = (): Map<string, MlPrediction> => {
    const out = new Map<string, MlPrediction>();
    for (const [, p] of driver.createOutputTopic(topics.predictions, S, Serdes.Json<MlPrediction>()).readKeyValuesToList())
      out.set(`${p!.entity_id}@${p!.window_start}`, p!);
    return out;
  };

  it('scores every entity window, the last time with exactly the features a fresh computation over its events gives', () => {
    const expected = new Map<string, WindowAggregate>();
    for (const e of events) {
      const k = `${e.entity_id}@${Math.floor(e.event_time / 60_000) * 60_000}`;
      expected.set(k, addEvent(expected.get(k) ?? emptyAggregate(), e));
    }
    const got = latest();
    assert.equal(got.size, expected.size);
    for (const [k, a] of expected) {
      const p = got.get(k)!;
      assert.deepEqual(p.features, featureVector(a, 60_000), k);
      assert.equal(p.window_end - p.window_start, 60_000);
      assert.deepEqual([p.model_name, p.model_version], ['anomaly-detector', '1']);
    }
    // The newest window is still in the store (older ones have passed size + grace, the retention).
    const store = driver.getWindowStore<string, WindowAggregate>(FEATURE_STORE);
    const [newestKey, newest] = [...expected].sort(([a], [b]) => Number(a.split('@')[1]) - Number(b.split('@')[1])).at(-1)!;
    const [entity, start] = newestKey.split('@');
    assert.equal(store.fetch(entity!, Number(start))?.events, newest.events, 'the feature store is queryable');
  });

  it('flags the windows with attacks and leaves normal ones alone (a fresh seed, not the training data)', () => {
    const anomalous = new Set(events.filter((e) => e.anomalous).map((e) => `${e.entity_id}@${Math.floor(e.event_time / 60_000) * 60_000}`));
    const got = [...latest()];
    const flaggedAttacks = got.filter(([k, p]) => anomalous.has(k) && p.flagged).length;
    const flaggedNormal = got.filter(([k, p]) => !anomalous.has(k) && p.flagged).length;
    assert.ok(anomalous.size > 20, `${anomalous.size} windows with attacks`);
    assert.ok(flaggedAttacks / anomalous.size > 0.8, `${flaggedAttacks} of ${anomalous.size} attack windows flagged`);
    assert.ok(flaggedNormal / (got.length - anomalous.size) < 0.02, `${flaggedNormal} of ${got.length - anomalous.size} normal windows flagged`);
  });

  it('raises an alert for every flagged prediction, with a stable id per window', () => {
    const predictions = driver.createOutputTopic(topics.predictions, S, Serdes.Json<MlPrediction>()).readValuesToList();
    const alerts = driver.createOutputTopic(topics.alerts, S, Serdes.Json<StreamingAlert>()).readValuesToList();
    // A window is re-scored as it fills: one flagged at any point has an alert.
    const flagged = predictions.filter((p) => p!.flagged);
    assert.equal(alerts.length, flagged.length);
    assert.deepEqual(
      alerts.map((a) => a!.alert_id),
      flagged.map((p) => `${p!.entity_id}@${p!.window_start}`),
    );
    assert.ok(alerts.every((a) => a!.score >= a!.threshold && ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].includes(a!.severity)));
  });

  it('sends an event whose entity_id differs from its key to the dead-letter topic', () => {
    const dlq = driver.createOutputTopic('analytics-dlq', S, S).readRecordsToList();
    assert.equal(dlq.length, 1);
    assert.equal(dlq[0]!.key, 'entity-x');
    const headers = Object.fromEntries(dlq[0]!.headers.map((h) => [h.key, h.value.toString()]));
    assert.equal(headers[DLQ_HEADERS.code], 'SA_ERR_EVENT_INVALID');
    assert.match(headers[DLQ_HEADERS.message]!, /entity_id "entity-y" differs from the record key "entity-x"/);
  });

  it('summarises throughput and latency to streaming-metrics on the wall clock', () => {
    const summaries = driver.createOutputTopic(topics.metrics, S, Serdes.Json<{ events: number; predictions: number; alerts: number }>()).readValuesToList();
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0]!.events, events.length + 1);
    assert.ok(summaries[0]!.predictions >= events.length && summaries[0]!.alerts > 0);
  });
});

describe('the analytics topology with a shadow model and an A/B variant (TopologyTestDriver)', () => {
  it('shadow predictions go to the shadow topic only; the variant scores a stable half of the entities', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sa-analytics-models-'));
    for (const v of ['1', '2', 'shadow']) {
      cpSync(join(__dirname, '../../../models/anomaly-detector/1'), join(root, 'anomaly-detector', v), { recursive: true });
      const file = join(root, 'anomaly-detector', v, 'metadata.json');
      writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), version: v }));
    }
    const log = createLogger({ level: 'warn' });
    const open = (v: string): Promise<ModelRegistry> => ModelRegistry.open({ catalogue: localCatalogue(root, 'anomaly-detector', v), log, pollMs: 0 });
    const [served, variant, shadow] = [await open('1'), await open('2'), await open('shadow')];
    const topology = analyticsTopology({
      topics,
      serdes: { event: Serdes.Json<AnalyticsEvent>(), prediction: Serdes.Json<MlPrediction>(), alert: Serdes.Json<StreamingAlert>() },
      model: served,
      variant: { model: variant, share: 0.5 },
      shadow: { model: shadow, topic: 'shadow-predictions' },
    });
    const driver = new TopologyTestDriver(topology, { applicationId: 'analytics-ab' });
    try {
      const events = new EventGenerator({ seed: 9, entities: 60, startMs: START }).eventsBetween(START, START + 5 * 60_000);
      const input = driver.createInputTopic(topics.events, S, Serdes.Json<AnalyticsEvent>());
      for (const e of events) input.pipeInput(e.entity_id, e, { timestamp: e.event_time });
      const predictions = driver
        .createOutputTopic(topics.predictions, S, Serdes.Json<MlPrediction>())
        .readValuesToList()
        .map((p) => p!);
      const shadowed = driver
        .createOutputTopic('shadow-predictions', S, Serdes.Json<MlPrediction>())
        .readValuesToList()
        .map((p) => p!);
      assert.equal(shadowed.length, predictions.length, 'every served prediction has its shadow');
      assert.ok(shadowed.every((p) => p.model_version === 'shadow'));
      assert.ok(
        predictions.every((p) => p.model_version !== 'shadow'),
        'the shadow never reaches the predictions topic',
      );
      const side = new Map<string, string>();
      for (const p of predictions) {
        assert.equal(side.get(p.entity_id) ?? p.model_version, p.model_version, `${p.entity_id} switched sides`);
        side.set(p.entity_id, p.model_version);
      }
      const onVariant = [...side.values()].filter((v) => v === '2').length;
      assert.ok(onVariant > 0 && onVariant < side.size, `${onVariant} of ${side.size} entities on the variant`);
    } finally {
      driver.close();
      for (const m of [served, variant, shadow]) m.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the analytics topology: intervals and the latency budget from configuration (TopologyTestDriver)', function () {
  this.timeout(60_000);
  const serdes = { event: Serdes.Json<AnalyticsEvent>(), prediction: Serdes.Json<MlPrediction>(), alert: Serdes.Json<StreamingAlert>() };
  let registry: ModelRegistry;
  before(async () => {
    registry = await ModelRegistry.open({
      catalogue: localCatalogue(join(__dirname, '../../../models'), 'anomaly-detector'),
      log: createLogger({ level: 'warn' }),
      pollMs: 0,
    });
  });
  after(() => registry.close());
  const events = new EventGenerator({ seed: 11, entities: 40, startMs: START }).eventsBetween(START, START + 3 * 60_000);

  it('summaries come every summaryIntervalMs (STREAMING_MONITORING__METRICS_INTERVAL_SECONDS × 1000), each covering its interval', () => {
    let wall = START + 3_600_000;
    const driver = new TopologyTestDriver(
      analyticsTopology({ topics, serdes, model: registry, summaryIntervalMs: 30_000, clock: () => wall }),
      { applicationId: 'analytics-interval' },
      { initialWallClockTimeMs: wall },
    );
    try {
      const input = driver.createInputTopic(topics.events, S, Serdes.Json<AnalyticsEvent>());
      for (const e of events) input.pipeInput(e.entity_id, e, { timestamp: e.event_time });
      const out = driver.createOutputTopic(topics.metrics, S, Serdes.Json<{ from: number; to: number; events: number }>());
      const tick = (ms: number): void => {
        wall += ms;
        driver.advanceWallClockTime(ms);
      };
      tick(10_000);
      assert.equal(out.readValuesToList().length, 0, 'not after 10 s (the old fixed interval)');
      tick(20_000);
      const first = out.readValuesToList().map((s) => s!);
      assert.ok(first.length >= 1, 'one per task after 30 s');
      assert.ok(
        first.every((s) => s.to - s.from === 30_000),
        JSON.stringify(first.map((s) => s.to - s.from)),
      );
      assert.equal(
        first.reduce((a, s) => a + s.events, 0),
        events.length,
      );
    } finally {
      driver.close();
    }
  });

  it('a summary interval that is not a whole number of ms ≥ 1 is refused', () => {
    for (const summaryIntervalMs of [0, -5, 1.5])
      assert.throws(() => analyticsTopology({ topics, serdes, model: registry, summaryIntervalMs }), /summaryIntervalMs must be a whole number/);
  });

  it('maxLatencyMs reaches the predict operator: slow calls are counted and warned about, and every window is still scored', async () => {
    let fake = 0;
    const slow = {
      current: () =>
        Object.assign(Object.create(registry.current()) as OnnxModel, {
          score: (rows: Float32Array, n: number) => {
            fake += 80;
            return registry.current().score(rows, n);
          },
        }),
    };
    const metrics = new Registry();
    const warnings: { msg: string }[] = [];
    const log = createLogger({ level: 'warn' }, 'test', { write: (l: string) => void warnings.push(JSON.parse(l) as { msg: string }) });
    const build = (budget: boolean): TopologyTestDriver =>
      new TopologyTestDriver(
        analyticsTopology({
          topics,
          serdes,
          model: budget ? slow : registry,
          maxBatch: 64,
          ...(budget ? { maxLatencyMs: 50, log, inferenceClock: () => fake, metrics } : {}),
        }),
        { applicationId: budget ? 'analytics-budget' : 'analytics-nobudget' },
      );
    const predictions = (driver: TopologyTestDriver): string[] => {
      const input = driver.createInputTopic(topics.events, S, Serdes.Json<AnalyticsEvent>());
      for (const e of events) input.pipeInput(e.entity_id, e, { timestamp: e.event_time });
      return driver
        .createOutputTopic(topics.predictions, S, Serdes.Json<MlPrediction>())
        .readValuesToList()
        .map((p) => `${p!.entity_id}@${p!.window_start}:${p!.features.events}`);
    };
    const [withBudget, without] = [build(true), build(false)];
    try {
      assert.deepEqual(predictions(withBudget), predictions(without), 'the same predictions, in the same order');
      const text = await metrics.metrics();
      assert.match(text, /ml_inference_over_budget_total\{model="anomaly-detector"\} [1-9]/);
      assert.match(text, /ml_inference_effective_batch_size\{task="[^"]+"\} 1\n/);
      assert.equal(warnings.filter((w) => w.msg.includes('latency budget')).length, 1);
    } finally {
      withBudget.close();
      without.close();
    }
  });
});

describe('the streaming-metrics summaries', () => {
  it('latency percentiles sample the whole interval, not its first 10 000 predictions (a long METRICS_INTERVAL_SECONDS)', () => {
    let wall = START;
    let seed = 1;
    const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const b = new StreamsBuilder();
    b.stream('predictions', { keySerde: S, valueSerde: Serdes.Json<MlPrediction>() })
      .processValues(summaries(new Map(), 600_000, () => wall, random))
      .to('summaries', { keySerde: S, valueSerde: Serdes.Json<Summary>() });
    const driver = new TopologyTestDriver(b.build(), { applicationId: 'summaries' }, { initialWallClockTimeMs: wall });
    try {
      const input = driver.createInputTopic('predictions', S, Serdes.Json<MlPrediction>());
      const prediction = (latency: number): MlPrediction => ({
        entity_id: 'e',
        window_start: 0,
        window_end: 1,
        score: 0,
        label: 'normal',
        flagged: false,
        threshold: 0.5,
        model_name: 'm',
        model_version: '1',
        features: {},
        event_time: 1_000,
        processing_time: 1_000 + latency,
      });
      // A quiet start (1 ms) and a slow rest (100 ms): two thirds of the interval is slow.
      for (let i = 0; i < 3; i++) input.pipeBatch(Array.from({ length: 10_000 }, (): [string, MlPrediction] => ['e', prediction(i === 0 ? 1 : 100)]));
      wall += 600_000;
      driver.advanceWallClockTime(600_000);
      const [summary] = driver.createOutputTopic('summaries', S, Serdes.Json<Summary>()).readValuesToList();
      assert.equal(summary!.predictions, 30_000);
      assert.deepEqual(summary!.latency_ms, { p50: 100, p95: 100, max: 100 });
    } finally {
      driver.close();
    }
  });
});
