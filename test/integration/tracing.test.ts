import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { signHs256 } from '../../src/auth/jwt';
import { startFanout, type FanoutApp } from '../../src/app/fanout';
import { startProcessor, type ProcessorApp } from '../../src/app/processor';
import { loadConfig } from '../../src/config';
import { runGenerator } from '../../src/generator/run';
import { createLogger } from '../../src/logger';
import { ROOT, cleanEnv } from '../support/cli';
import { createTopic, uniqueName } from '../support/kafka';
import { freePort } from '../support/net';
import { useStack } from '../support/stack';
import { WsTestClient } from '../support/ws-client';

interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
}

/**
 * OpenTelemetry across the three processes of the data path, on the real broker: the
 * generator starts a trace per event and sends its context in the record's traceparent
 * header; the processor processes the event in a child span and its prediction carries
 * that span's context; the fan-out pushes the prediction in a child of it. An in-process
 * OTLP/HTTP receiver collects what all three export, and one trace must hold the chain
 * generator → processor → fan-out.
 */
describe('tracing: one trace from the event through the prediction to the WebSocket push', function () {
  this.timeout(180_000);
  const config = useStack();
  let receiver: Server | undefined;
  const spans: ReceivedSpan[] = [];
  let processor: ProcessorApp | undefined;
  let fanout: FanoutApp | undefined;

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') spans.push(...otlpSpans(JSON.parse(body)));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    await fanout?.close();
    await processor?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it("the generator's send span is the parent of the processing span, which is the parent of the push span", async () => {
    const topics = {
      events: uniqueName('tr-events'),
      predictions: uniqueName('tr-predictions'),
      alerts: uniqueName('tr-alerts'),
      metrics: uniqueName('tr-metrics'),
    };
    for (const t of Object.values(topics)) await createTopic(config(), t, 2);
    const secret = 't'.repeat(40);
    const app = loadConfig(
      cleanEnv({
        STREAMING_TOPICS__EVENTS: topics.events,
        STREAMING_TOPICS__PREDICTIONS: topics.predictions,
        STREAMING_TOPICS__ALERTS: topics.alerts,
        STREAMING_TOPICS__METRICS: topics.metrics,
        STREAMING_PROCESSOR__APPLICATION_ID: uniqueName('tr-app'),
        STREAMING_PROCESSOR__QUERY_HOST: '127.0.0.1',
        STREAMING_PROCESSOR__QUERY_PORT: String(await freePort()),
        STREAMING_PROCESSOR__ADMIN_PORT: String(await freePort()),
        STREAMING_WEBSOCKET__HOST: '127.0.0.1',
        STREAMING_WEBSOCKET__PORT: String(await freePort()),
        STREAMING_WEBSOCKET__ADMIN_PORT: String(await freePort()),
        STREAMING_AUTH__JWT_SECRET: secret,
        STREAMING_REALTIME_ML__MODELS_DIR: join(ROOT, 'models'),
        STREAMING_TRACING__OTLP_ENDPOINT: `http://127.0.0.1:${(receiver!.address() as AddressInfo).port}`,
        STREAMING_TRACING__SAMPLE_PERCENT: '100',
      }),
    );
    const log = createLogger({ level: 'fatal' });
    processor = await startProcessor(app, log, { handleSignals: false });
    fanout = await startFanout(app, log);
    const client = await WsTestClient.connect(`${fanout.url.replace(/^http/, 'ws')}/ws`, {
      token: signHs256({ sub: 'tracing-test', channels: ['*'], exp: Math.floor(Date.now() / 1000) + 600 }, secret),
    });
    assert.ok((await client.request('subscribe', { channel: 'predictions' })).result);

    await runGenerator({ config: app, rate: 100, durationS: 2, seed: 9, say: () => undefined, signal: new AbortController().signal });
    await client.waitFor('predictions pushed', () => client.pushes('predictions').length >= 5, 60_000);
    await client.close();
    // Closing exports what each provider still buffers.
    await fanout.close();
    await processor.close();
    fanout = undefined;
    processor = undefined;

    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const pushes = spans.filter((s) => s.service === 'streaming-analytics-fanout' && s.name === `${topics.predictions} push`);
    assert.ok(pushes.length > 0, `no push span among ${spans.length} spans`);
    const chains = pushes
      .map((push) => {
        const processing = byId.get(push.parentSpanId ?? '');
        const send = byId.get(processing?.parentSpanId ?? '');
        return { push, processing, send };
      })
      .filter((c) => c.processing && c.send);
    assert.ok(chains.length > 0, 'some push descends from a processing span and a send span');
    for (const { push, processing, send } of chains) {
      assert.equal(processing!.service, 'streaming-analytics-processor');
      assert.equal(processing!.name, `${topics.events} process`);
      assert.equal(send!.service, 'streaming-analytics-generator');
      assert.equal(send!.name, `${topics.events} send`);
      assert.equal(send!.parentSpanId, undefined, 'the send span is the root');
      assert.match(send!.traceId, /^[0-9a-f]{32}$/);
      assert.equal(new Set([push.traceId, processing!.traceId, send!.traceId]).size, 1, 'one trace');
    }
  });
});

/** The spans of an OTLP/HTTP JSON export request, each with its resource's service.name. */
function otlpSpans(body: any): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = (rs.resource?.attributes ?? []).find((a: any) => a.key === 'service.name')?.value?.stringValue ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) out.push({ service, name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined });
    }
  }
  return out;
}
