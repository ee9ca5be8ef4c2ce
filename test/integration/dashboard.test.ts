import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type Kafka from 'node-rdkafka';
import { chromium, type Browser } from 'playwright-core';
import { loadSchema } from '../../schemas/catalog';
import { startFanout, type FanoutApp } from '../../src/app/fanout';
import { registryClientOptions } from '../../src/config';
import { createLogger } from '../../src/logger';
import { AvroSerdes, type AvroSerde } from '../../src/serdes';
import type { MlPrediction, StreamingAlert } from '../../topologies/analytics';
import { ROOT } from '../support/cli';
import { call, connectedProducer, createTopic, uniqueName } from '../support/kafka';
import { useStack } from '../support/stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results');

/**
 * The live dashboard in headless Chromium (Debian's, driven by playwright-core) against
 * the fan-out on the real broker: predictions produced into Kafka appear in its table,
 * alerts in theirs, and the filter box changes the subscription. Saves a screenshot.
 */
describe('the live dashboard in a real browser', function () {
  this.timeout(120_000);
  const config = useStack();
  const topics = { predictions: uniqueName('db-predictions'), alerts: uniqueName('db-alerts'), metrics: uniqueName('db-metrics') };
  let app: FanoutApp;
  let browser: Browser;
  let producer: Kafka.Producer;
  let serde: AvroSerde<MlPrediction>;
  let alertSerde: AvroSerde<StreamingAlert>;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
    for (const t of Object.values(topics)) await createTopic(config(), t, 2);
    producer = await connectedProducer(config());
    serde = new AvroSerdes(new SchemaRegistry(registryClientOptions(config().schemaRegistry))).serde<MlPrediction>({
      schema: loadSchema('ml-prediction.avsc'),
    });
    await serde.prepare(topics.predictions);
    alertSerde = new AvroSerdes(new SchemaRegistry(registryClientOptions(config().schemaRegistry))).serde<StreamingAlert>({
      schema: loadSchema('streaming-alert.avsc'),
    });
    await alertSerde.prepare(topics.alerts);
    app = await startFanout(
      {
        ...config(),
        topics: { ...config().topics, ...topics },
        auth: { ...config().auth, jwtSecret: 'dashboard-test-secret-0123456789abcd' },
        websocket: { ...config().websocket, host: '127.0.0.1', port: 0, adminPort: 0, devTokens: true },
      },
      createLogger({ level: 'warn' }, 'dashboard-test'),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    if (producer) await call((cb) => producer.disconnect((err) => cb(err)));
  });

  async function produce(entities: string[], score: number): Promise<void> {
    for (const entity of entities) {
      const p: MlPrediction = {
        entity_id: entity,
        window_start: Date.now() - 30_000,
        window_end: Date.now() + 30_000,
        score,
        label: score >= 0.5 ? 'anomaly' : 'normal',
        flagged: score >= 0.5,
        threshold: 0.5,
        model_name: 'anomaly-detector',
        model_version: '1',
        features: { events: 7 },
        event_time: Date.now(),
        processing_time: Date.now(),
      };
      producer.produce(topics.predictions, null, serde.serialize(topics.predictions, p), Buffer.from(entity), Date.now());
    }
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
  }

  it('shows predictions produced into Kafka as they arrive, and its filter box changes the subscription', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${app.url}/dashboard/`);
    await page.waitForSelector('#connection[data-state="open"]', { timeout: 15_000 });

    const sent = Date.now();
    await produce(['browser-a-1', 'browser-b-1'], 0.93);
    await page.waitForSelector('#predictions td:text-is("browser-b-1")', { timeout: 15_000 });
    const seenMs = Date.now() - sent;
    process.stdout.write(`      (produced → visible in the page: ${seenMs} ms)\n`);
    assert.ok(await page.isVisible('#predictions td:text-is("browser-a-1")'));
    const alert: StreamingAlert = {
      alert_id: 'browser-alert@0',
      entity_id: 'browser-alert',
      kind: 'anomaly',
      severity: 'HIGH',
      score: 0.93,
      threshold: 0.5,
      window_start: 0,
      window_end: 60_000,
      model_name: 'anomaly-detector',
      model_version: '1',
      event_time: Date.now(),
      message: 'browser-alert: anomaly score 0.930 ≥ 0.5',
    };
    producer.produce(topics.alerts, null, alertSerde.serialize(topics.alerts, alert), Buffer.from(alert.entity_id), Date.now());
    await page.waitForSelector('#alerts td:text-is("browser-alert")', { timeout: 15_000 });
    await page.waitForSelector('#scores[data-count="2"]'); // the score distribution is drawn
    for (const [i, eps] of [1200, 1500, 1350].entries()) {
      const summary = {
        task: '0_0',
        from: Date.now() - 10_000 * (3 - i),
        to: Date.now() - 10_000 * (2 - i),
        events: eps * 10,
        events_per_second: eps,
        predictions: 100,
        alerts: 2,
        latency_ms: { p50: 40, p95: 90, max: 120 },
      };
      producer.produce(topics.metrics, null, Buffer.from(JSON.stringify(summary)), Buffer.from('0_0'), Date.now());
    }
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await page.waitForSelector('#throughput[data-summaries="3"]', { timeout: 15_000 }); // the throughput chart is drawn

    await page.fill('#keyPrefix', 'browser-a-');
    await page.fill('#minScore', '0.5');
    await page.click('#filter button');
    await page.waitForSelector('#filter-status[data-applied]');
    await produce(['browser-b-2', 'browser-a-low'], 0.1);
    await produce(['browser-a-2'], 0.97);
    await page.waitForSelector('#predictions td:text-is("browser-a-2")', { timeout: 15_000 });
    await page.waitForTimeout(300);
    const shown = await page.$$eval('#predictions tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(shown, ['browser-a-2'], 'only what the filter lets through, since it was applied');
    assert.deepEqual(errors, []);

    mkdirSync(SHOTS, { recursive: true });
    const shot = join(SHOTS, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000);
  });
});
