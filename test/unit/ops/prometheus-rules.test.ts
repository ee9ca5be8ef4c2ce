import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/cli';

/**
 * The alerting rules, checked and unit-tested by Prometheus' own promtool (Debian's
 * `prometheus` package; `npm run setup` installs it): every alert has a test in which it
 * fires and input on which it stays quiet (ops/prometheus/alerts.test.yml).
 */
describe('Prometheus alerting rules (promtool)', function () {
  this.timeout(60_000);
  const dir = join(ROOT, 'ops/prometheus');
  const promtool = (...args: string[]): { status: number | null; out: string } => {
    const res = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
    if (res.error) throw new Error(`promtool is not installed: run \`npm run setup\` (it installs Debian's prometheus package) — ${res.error.message}`);
    return { status: res.status, out: `${res.stdout}${res.stderr}` };
  };

  it('promtool check rules accepts the rules file', () => {
    const res = promtool('check', 'rules', 'alerts.yml');
    assert.equal(res.status, 0, res.out);
    assert.match(res.out, /SUCCESS: 12 rules found/);
  });

  it('promtool test rules: each alert fires on its input and stays quiet below its threshold', () => {
    const res = promtool('test', 'rules', 'alerts.test.yml');
    assert.equal(res.status, 0, res.out);
    assert.match(res.out, /SUCCESS/);
  });

  it('every alert of the rules file has a test in which it fires', () => {
    const alerts = [...readFileSync(join(dir, 'alerts.yml'), 'utf8').matchAll(/^\s*- alert: (\w+)/gm)].map((m) => m[1]!);
    const tests = readFileSync(join(dir, 'alerts.test.yml'), 'utf8');
    assert.ok(alerts.length >= 8, alerts.join(', '));
    for (const seed of [
      'StreamingHighErrorRate',
      'StreamingHighProcessingLatency',
      'StreamingConsumerLagHigh',
      'StreamingMlInferenceFailures',
      'StreamingWebSocketDrops',
      'StreamingErrorBudgetBurnFast',
      'StreamingErrorBudgetBurnSlow',
    ])
      assert.ok(alerts.includes(seed), seed);
    for (const alert of alerts) {
      const firing = new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`, 'm');
      assert.match(tests, firing, `${alert} has no test in which it fires`);
    }
  });
});
