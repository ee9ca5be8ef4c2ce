import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DLQ_HEADERS, Serdes, TopologyTestDriver } from '../../../src';
import type { AnalyticsEvent } from '../../../src/generator/event';
import { EventGenerator } from '../../../src/generator/events';
import { localCatalogue, ModelRegistry } from '../../../src/inference/model-registry';
import { createLogger } from '../../../src/logger';
import { analyticsTopology, FEATURE_STORE, type MlPrediction, type StreamingAlert } from '../../../topologies/analytics';
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
    registry = await ModelRegistry.open({ catalogue: localCatalogue(join(__dirname, '../../../models'), 'anomaly-detector'), log: createLogger({ level: 'warn' }), pollMs: 0 });
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
    for (const [, p] of driver.createOutputTopic(topics.predictions, S, Serdes.Json<MlPrediction>()).readKeyValuesToList()) out.set(`${p!.entity_id}@${p!.window_start}`, p!);
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
    assert.deepEqual(alerts.map((a) => a!.alert_id), flagged.map((p) => `${p!.entity_id}@${p!.window_start}`));
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
      const predictions = driver.createOutputTopic(topics.predictions, S, Serdes.Json<MlPrediction>()).readValuesToList().map((p) => p!);
      const shadowed = driver.createOutputTopic('shadow-predictions', S, Serdes.Json<MlPrediction>()).readValuesToList().map((p) => p!);
      assert.equal(shadowed.length, predictions.length, 'every served prediction has its shadow');
      assert.ok(shadowed.every((p) => p.model_version === 'shadow'));
      assert.ok(predictions.every((p) => p.model_version !== 'shadow'), 'the shadow never reaches the predictions topic');
      const side = new Map<string, string>();
      for (const p of predictions) {
        assert.equal(side.get(p.entity_id) ?? p.model_version, p.model_version, `${p.entity_id} switched sides`);
        side.set(p.entity_id, p.model_version);
      }
      const onVariant = [...side.values()].filter((v) => v === '2').length;
      assert.ok(onVariant > 0 && onVariant < side.size, `${onVariant} of ${side.size} entities on the variant`);
    } finally {
      driver.close();
      [served, variant, shadow].forEach((m) => m.close());
      rmSync(root, { recursive: true, force: true });
    }
  });
});
