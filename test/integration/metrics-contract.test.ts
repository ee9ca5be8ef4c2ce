import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFanout, type FanoutApp } from '../../src/app/fanout';
import { startProcessor, type ProcessorApp } from '../../src/app/processor';
import { loadConfig } from '../../src/config';
import { runGenerator } from '../../src/generator/run';
import { createLogger } from '../../src/logger';
import { ROOT, cleanEnv } from '../support/cli';
import { createTopic, uniqueName, waitFor } from '../support/kafka';
import { freePort } from '../support/net';
import { promqlUse, ruleExpressions } from '../support/promql';
import { useStack } from '../support/stack';

/**
 * The alerting rules (ops/prometheus/alerts.yml) and the Grafana dashboard
 * (ops/grafana/) read metrics by name and label; a renamed metric or label would leave an
 * alert that can never fire and a panel that stays empty, silently. Here a processor and
 * a fan-out run on the real broker with events flowing, their /metrics are scraped, and
 * every metric each expression reads must be there, with the labels it matches on or
 * groups by.
 */
describe('metrics contract: every metric the alerts and the dashboard read is exported', function () {
  this.timeout(180_000);
  const config = useStack();
  let processor: ProcessorApp | undefined;
  let fanout: FanoutApp | undefined;

  after(async () => {
    await fanout?.close();
    await processor?.close();
  });

  it('scrapes a running processor and fan-out and finds each metric with its labels', async () => {
    const topics = {
      events: uniqueName('mc-events'),
      predictions: uniqueName('mc-predictions'),
      alerts: uniqueName('mc-alerts'),
      metrics: uniqueName('mc-metrics'),
    };
    for (const t of Object.values(topics)) await createTopic(config(), t, 2);
    const app = loadConfig(
      cleanEnv({
        STREAMING_TOPICS__EVENTS: topics.events,
        STREAMING_TOPICS__PREDICTIONS: topics.predictions,
        STREAMING_TOPICS__ALERTS: topics.alerts,
        STREAMING_TOPICS__METRICS: topics.metrics,
        STREAMING_PROCESSOR__APPLICATION_ID: uniqueName('mc-app'),
        STREAMING_PROCESSOR__QUERY_HOST: '127.0.0.1',
        STREAMING_PROCESSOR__QUERY_PORT: String(await freePort()),
        STREAMING_PROCESSOR__ADMIN_PORT: String(await freePort()),
        STREAMING_WEBSOCKET__HOST: '127.0.0.1',
        STREAMING_WEBSOCKET__PORT: String(await freePort()),
        STREAMING_WEBSOCKET__ADMIN_PORT: String(await freePort()),
        STREAMING_AUTH__JWT_SECRET: 'm'.repeat(40),
        STREAMING_REALTIME_ML__MODELS_DIR: join(ROOT, 'models'),
      }),
    );
    const log = createLogger({ level: 'fatal' });
    processor = await startProcessor(app, log, { handleSignals: false });
    fanout = await startFanout(app, log);
    await runGenerator({ config: app, rate: 300, durationS: 3, seed: 3, say: () => undefined, signal: new AbortController().signal });

    const scrape = async (base: string): Promise<string> => (await fetch(`${base}/metrics`)).text();
    let exposition = '';
    await waitFor(
      'predictions made, committed, and the group lag polled',
      async () => {
        exposition = (await scrape(processor!.adminUrl)) + (await scrape(fanout!.adminUrl));
        return (
          /^ml_inference_duration_ms_count\{/m.test(exposition) &&
          /^event_end_to_end_latency_ms_count\{[^}]*\} [1-9]/m.test(exposition) &&
          /^kafka_consumer_group_lag\{/m.test(exposition)
        );
      },
      90_000,
    );

    const expressions = [
      ...ruleExpressions(readFileSync(join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8')).map((e) => ({ where: 'alerts.yml', expr: e })),
      ...dashboardExpressions(join(ROOT, 'ops/grafana/streaming-analytics.json')),
    ];
    assert.ok(expressions.length >= 20, `${expressions.length} expressions found`);
    const missing: string[] = [];
    for (const { where, expr } of expressions) {
      const use = promqlUse(expr);
      const exported = use.metrics.filter((m) => !m.includes(':')); // names with ":" are recording rules
      for (const metric of exported) {
        if (!hasMetric(exposition, metric)) missing.push(`${where}: ${metric} is not exported (${expr})`);
        for (const label of use.matchers.get(metric) ?? [])
          if (!labelsOf(exposition, metric).has(label)) missing.push(`${where}: ${metric} has no label ${label}`);
      }
      for (const label of use.grouping) {
        if (exported.length > 0 && !exported.some((m) => labelsOf(exposition, m).has(label)))
          missing.push(`${where}: no metric of "${expr}" has the label ${label}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});

function dashboardExpressions(file: string): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  return dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `dashboard "${p.title}"`, expr: t.expr })));
}

function hasMetric(exposition: string, name: string): boolean {
  return new RegExp(`^${name}(\\{| )`, 'm').test(exposition);
}

function labelsOf(exposition: string, name: string): Set<string> {
  const labels = new Set<string>();
  for (const m of exposition.matchAll(new RegExp(`^${name}\\{([^}]*)\\}`, 'gm'))) {
    for (const pair of m[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(pair[1]!);
  }
  return labels;
}
