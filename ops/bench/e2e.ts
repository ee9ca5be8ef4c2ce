/**
 * npm run bench -- e2e [--seconds S] [--warmup-seconds W]: what a dashboard user sees.
 * Runs `npm start` as it is (its defaults: the generator at STREAMING_GENERATOR__RATE
 * events/s, the processor, the fan-out), connects one outside WebSocket client with a
 * development token, subscribes to every prediction, and measures for each prediction
 * the time from its newest event (`event_time`, stamped by the generator when it made the
 * event) to its arrival at the client, split at `processing_time` (when the processor
 * scored it): before it, windowing and inference; after it, the commit that makes it
 * visible (read_committed), Kafka and the fan-out. Needs npm start's ports free.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Config } from '../../src/config';
import { StreamingError } from '../../src/errors';
import { ROOT } from './harness/sides';
import { percentiles } from './report';

type Say = (line: string) => void;

export interface E2eOptions {
  seconds: number;
  warmupSeconds: number;
}

const SAMPLE_MAX = 1_000_000;

export async function benchE2e(config: Config, o: E2eOptions, say: Say): Promise<void> {
  const ws = config.websocket;
  const base = `http://127.0.0.1:${ws.port}`;
  say(
    `e2e: npm start with its defaults (generator ${config.generator.rate} events/s), one outside client subscribed to every prediction; ${o.warmupSeconds} s warm-up, then ${o.seconds} s measured (2 cores shared by everything; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})`,
  );
  const start = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', join(ROOT, 'ops/start/start.ts')], {
    cwd: ROOT,
    env: { ...process.env, STREAMING_LOG__LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => start.once('exit', (code) => r(code)));
  try {
    await until(() => fetch(`http://127.0.0.1:${ws.adminPort}/readyz`).then((r) => r.ok), 180_000, exited, 'npm start to be ready');
    const { token } = (await (await fetch(`${base}/dev/token?channels=predictions`)).json()) as { token: string };
    const total: number[] = [];
    const after: number[] = [];
    let measuring = false;
    const client = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`, { headers: { Authorization: `Bearer ${token}` } });
    client.on('message', (d) => {
      const at = Date.now();
      const m = JSON.parse(d.toString()) as { push?: { pub?: { data?: { event_time?: number; processing_time?: number } } } };
      const p = m.push?.pub?.data;
      if (!measuring || p?.event_time === undefined || p.processing_time === undefined || total.length >= SAMPLE_MAX) return;
      total.push(at - p.event_time);
      after.push(at - p.processing_time);
    });
    await new Promise<void>((ok, fail) => {
      client.once('open', () => ok());
      client.once('error', fail);
    });
    const subscribed = new Promise<void>((ok, fail) =>
      client.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { id?: number; result?: unknown; error?: { code: string; message: string } };
        if (m.id !== 1) return;
        if (m.error) fail(new StreamingError('SA_ERR_BENCH', `the fan-out refused the subscription: ${m.error.code} ${m.error.message}`));
        else ok();
      }),
    );
    client.send(JSON.stringify({ id: 1, method: 'subscribe', params: { channel: 'predictions' } }));
    await subscribed;
    await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
    measuring = true;
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    measuring = false;
    client.terminate();
    const [p50, p95, p99] = percentiles(total, [50, 95, 99]);
    const [a50, a95, a99] = percentiles(after, [50, 95, 99]);
    if (total.length === 0)
      throw new StreamingError('SA_ERR_BENCH', `no prediction reached the client in ${o.seconds} s`, { hint: "see npm start's log above" });
    say(`predictions received: ${total.length.toLocaleString('en-US')} (${(total.length / o.seconds).toFixed(0)}/s)`);
    say(`event → WebSocket client: p50 ${p50} ms, p95 ${p95} ms, p99 ${p99} ms`);
    say(`  of which after scoring (commit, Kafka, fan-out): p50 ${a50} ms, p95 ${a95} ms, p99 ${a99} ms`);
  } finally {
    if (start.exitCode === null) {
      start.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (start.exitCode === null) start.kill('SIGKILL');
    }
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, exited: Promise<number | null>, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  while (!(await check().catch(() => false))) {
    if (gone !== undefined) throw new StreamingError('SA_ERR_BENCH', `npm start exited (code ${gone}) before it was ready`, { hint: 'its errors are above' });
    if (Date.now() > deadline)
      throw new StreamingError('SA_ERR_BENCH', `timed out waiting for ${what}`, { hint: 'are its ports (8080, 8090, 8765, 8766) free?' });
    await new Promise((r) => setTimeout(r, 500));
  }
}
