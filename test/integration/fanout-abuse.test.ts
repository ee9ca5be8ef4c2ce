import { strict as assert } from 'node:assert';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type Kafka from 'node-rdkafka';
import { connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import { loadSchema } from '../../schemas/catalog';
import { startFanout, type FanoutApp } from '../../src/app/fanout';
import { rawSocket } from '../../src/fanout/ws-internals';
import { registryClientOptions } from '../../src/config';
import { signHs256 } from '../../src/auth/jwt';
import { createLogger } from '../../src/logger';
import { AvroSerdes, type AvroSerde } from '../../src/serdes';
import type { MlPrediction } from '../../topologies/analytics';
import { call, connectedProducer, createTopic, uniqueName } from '../support/kafka';
import { useStack } from '../support/stack';
import { WsTestClient } from '../support/ws-client';

const SECRET = 'fanout-abuse-secret-0123456789abcdef';
const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown> = {}, ttlS = 600): string => signHs256({ sub: 'abuser', channels: ['*'], exp: now() + ttlS, ...claims }, SECRET);

/**
 * Each abuse case gets the answer a hardened server gives — a status before any socket
 * opens, a typed error, or a close code — and after each one a well-behaved client
 * still receives a freshly produced prediction.
 */
describe('the WebSocket fan-out under abuse: each case answered, other clients still served', function () {
  this.timeout(120_000);
  const config = useStack();
  const topics = { predictions: uniqueName('fa-predictions'), alerts: uniqueName('fa-alerts'), metrics: uniqueName('fa-metrics') };
  let app: FanoutApp;
  let url: string;
  let producer: Kafka.Producer;
  let serde: AvroSerde<MlPrediction>;
  let sentinel: WsTestClient;
  let seq = 0;

  async function produce(n: number, key = (i: number) => `k-${seq++}-${i}`): Promise<string[]> {
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = key(i);
      keys.push(k);
      const p: MlPrediction = {
        entity_id: k,
        window_start: 0,
        window_end: 60_000,
        score: 0.7,
        label: 'anomaly',
        flagged: true,
        threshold: 0.5,
        model_name: 'm1',
        model_version: '1',
        features: { events: i, clicks: i, page_views: i },
        event_time: Date.now(),
        processing_time: Date.now(),
      };
      for (;;) {
        try {
          producer.produce(topics.predictions, null, serde.serialize(topics.predictions, p), Buffer.from(k), Date.now());
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 5)); // the local queue is full
        }
      }
    }
    await call((cb) => producer.flush(30_000, (err) => cb(err)));
    return keys;
  }

  /** The well-behaved client gets a new prediction. */
  async function stillServing(): Promise<void> {
    const [key] = await produce(1, () => `sentinel-${seq++}`);
    await sentinel.waitFor(`prediction ${key} at the well-behaved client`, () => sentinel.pushes().some((p) => p.pub.key === key), 15_000);
  }

  before(async () => {
    for (const t of Object.values(topics)) await createTopic(config(), t, 1);
    producer = await connectedProducer(config());
    serde = new AvroSerdes(new SchemaRegistry(registryClientOptions(config().schemaRegistry))).serde<MlPrediction>({
      schema: loadSchema('ml-prediction.avsc'),
    });
    await serde.prepare(topics.predictions);
    app = await startFanout(
      {
        ...config(),
        topics: { ...config().topics, ...topics },
        auth: { ...config().auth, jwtSecret: SECRET },
        websocket: {
          ...config().websocket,
          host: '127.0.0.1',
          port: 0,
          adminPort: 0,
          maxConnectionsPerIp: 6,
          maxConnections: 8,
          idleTimeoutMs: 1_000,
          tokenGraceSeconds: 1,
          maxBufferedBytes: 65_536,
          trustedProxies: ['127.0.0.1/32'],
        }, // the default rate limit: 20/s, bursts of 40
      },
      createLogger({ level: 'warn' }, 'fanout-abuse'),
    );
    url = `${app.url.replace(/^http/, 'ws')}/ws`;
    sentinel = await WsTestClient.connect(url, { token: token() });
    assert.ok((await sentinel.request('subscribe', { channel: 'predictions' })).result);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'passed') await stillServing();
  });
  after(async () => {
    await sentinel?.close();
    await app?.close();
    await call((cb) => producer.disconnect((err) => cb(err)));
  });

  const refusedWith = async (o: Parameters<typeof WsTestClient.refused>[1], status: number, code: string, message: RegExp): Promise<void> => {
    const r = await WsTestClient.refused(url, o);
    assert.equal(r.status, status);
    assert.equal(r.body.error?.code, code);
    assert.match(r.body.error!.message, message);
    assert.ok(r.body.error!.hint.length > 0);
  };

  it('no token, a bad signature, alg none, an expired token: 401 before any socket opens', async () => {
    await refusedWith({}, 401, 'SA_ERR_WS_UNAUTHORIZED', /no token/);
    await refusedWith(
      { token: signHs256({ channels: ['*'], exp: now() + 60 }, 'not-the-secret-but-long-enough-0000') },
      401,
      'SA_ERR_WS_UNAUTHORIZED',
      /signature/,
    );
    await refusedWith(
      { token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ channels: ['*'], exp: now() + 60 })}.` },
      401,
      'SA_ERR_WS_UNAUTHORIZED',
      /algorithm "none" is not accepted/,
    );
    await refusedWith({ token: token({}, -60) }, 401, 'SA_ERR_WS_UNAUTHORIZED', /expired/);
    assert.match(await (await fetch(`${app.adminUrl}/metrics`)).text(), /websocket_auth_failures_total\{reason="invalid"\} 3/);
  });

  it('the token may also come as the subprotocol bearer.<jwt> (selecting sa.v1) or as ?token=', async () => {
    const viaProtocol = await WsTestClient.connect(url, { protocols: ['sa.v1', `bearer.${token()}`] });
    assert.equal(viaProtocol.ws.protocol, 'sa.v1');
    const viaQuery = await WsTestClient.connect(url, { query: `?token=${token()}` });
    assert.deepEqual((await viaQuery.request('ping')).result, {});
    await viaProtocol.close();
    await viaQuery.close();
  });

  it('an origin not allowed: 403', async () => {
    await refusedWith({ token: token(), headers: { Origin: 'http://evil.example' } }, 403, 'SA_ERR_WS_ORIGIN_FORBIDDEN', /evil\.example/);
  });

  it('a token expiring mid-connection: a refresh push, then close 4001 after the grace; a client that refreshes stays', async () => {
    const lapsing = await WsTestClient.connect(url, { token: token({}, 1) });
    const refreshing = await WsTestClient.connect(url, { token: token({}, 1) });
    await lapsing.request('subscribe', { channel: 'alerts' });
    await refreshing.request('subscribe', { channel: 'alerts' });
    await refreshing.waitFor('the refresh push', () => refreshing.messages.some((m) => m.push && 'refresh' in m.push), 5_000);
    const renewed = await refreshing.request('refresh', { token: token({}, 600) });
    assert.ok(renewed.result?.expires_at);
    const closed = await lapsing.closed;
    assert.equal(closed.code, 4001);
    assert.ok(lapsing.messages.some((m) => m.push && 'refresh' in m.push));
    assert.deepEqual(lapsing.messages.find((m) => m.disconnect)?.disconnect, { code: 4001, reason: 'token expired', reconnect: true });
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(refreshing.ws.readyState, WebSocket.OPEN);
    await refreshing.close();
  });

  it('a forbidden channel, malformed JSON, an unknown method: typed errors, and the connection keeps working', async () => {
    const c = await WsTestClient.connect(url, { token: token({ channels: ['alerts#tenant-a-'] }) });
    assert.equal((await c.request('subscribe', { channel: 'predictions' })).error?.code, 'SA_ERR_WS_FORBIDDEN');
    assert.equal((await c.request('subscribe', { channel: 'alerts', filter: { keyPrefix: 'tenant-b-' } })).error?.code, 'SA_ERR_WS_FORBIDDEN');
    assert.equal((await c.request('subscribe', { channel: 'nonsense' })).error?.code, 'SA_ERR_WS_UNKNOWN_CHANNEL');
    c.ws.send('{not json');
    await c.waitFor('the bad-request error', () => c.messages.some((m) => m.error?.code === 'SA_ERR_WS_BAD_REQUEST' && m.id === undefined));
    assert.equal((await c.request('drop_tables')).error?.code, 'SA_ERR_WS_UNKNOWN_METHOD');
    assert.ok((await c.request('subscribe', { channel: 'alerts' })).result);
    await c.close();
  });

  it('an oversized frame closes with 1009', async () => {
    const c = await WsTestClient.connect(url, { token: token() });
    c.ws.send(JSON.stringify({ id: 1, method: 'ping', params: { pad: 'x'.repeat(70_000) } }));
    assert.equal((await c.closed).code, 1009);
  });

  it('a message flood — hundreds of requests as fast as they can be sent — is refused as rate-limited, then closed with 4029 (reconnect), not 4002', async () => {
    const c = await WsTestClient.connect(url, { token: token() });
    for (let i = 0; i < 500; i++) c.ws.send(JSON.stringify({ id: i, method: 'ping' }));
    const closed = await c.closed;
    assert.equal(closed.code, 4029);
    assert.deepEqual(JSON.parse(closed.reason), { reason: 'message rate limit exceeded', reconnect: true });
    assert.deepEqual(c.messages.find((m) => m.disconnect)?.disconnect, { code: 4029, reason: 'message rate limit exceeded', reconnect: true });
    const limited = c.messages.filter((m) => m.error?.code === 'SA_ERR_WS_RATE_LIMITED');
    assert.ok(limited.length > 20, `${limited.length} rate-limited answers: more than the 20 bad requests in a row that close with 4002`);
    assert.ok(limited.every((m) => m.error!.temporary));
    assert.ok(c.messages.filter((m) => m.result).length < 100, 'closed long before the flood was served');
  });

  it('bad requests in a row, within the rate limit: close 4002, do not reconnect', async () => {
    const c = await WsTestClient.connect(url, { token: token() });
    c.ws.send(Array(25).fill('{not json').join('\n'));
    const closed = await c.closed;
    assert.equal(closed.code, 4002);
    assert.deepEqual(JSON.parse(closed.reason), { reason: 'too many bad requests', reconnect: false });
    assert.equal(c.messages.filter((m) => m.error?.code === 'SA_ERR_WS_BAD_REQUEST').length, 21);
  });

  it('a connection flood: 429 beyond the per-address limit, 503 beyond the process limit', async () => {
    const open: WsTestClient[] = [];
    for (let i = 0; i < 5; i++) open.push(await WsTestClient.connect(url, { token: token() })); // + the sentinel = 6 from 127.0.0.1
    await refusedWith({ token: token() }, 429, 'SA_ERR_WS_TOO_MANY_CONNECTIONS', /127\.0\.0\.1 holds its maximum of 6/);
    for (let i = 0; i < 2; i++) open.push(await WsTestClient.connect(url, { token: token(), localAddress: '127.0.0.2' })); // 8 in all
    await refusedWith({ token: token(), localAddress: '127.0.0.2' }, 503, 'SA_ERR_WS_TOO_MANY_CONNECTIONS', /maximum of 8 connections/);
    await Promise.all(open.map((c) => c.close()));
  });

  it('X-Forwarded-For names the client behind a trusted proxy (its right-most untrusted address), and is ignored from any other peer', async () => {
    const open: WsTestClient[] = [];
    try {
      // 127.0.0.1 is a trusted proxy here and already holds the sentinel: six clients behind it fit, as 198.51.100.7.
      for (let i = 0; i < 6; i++)
        open.push(await WsTestClient.connect(url, { token: token(), headers: { 'X-Forwarded-For': `203.0.113.${i}, 198.51.100.7` } })); // on the left: what each client claimed itself
      await refusedWith(
        { token: token(), headers: { 'X-Forwarded-For': '203.0.113.99, 198.51.100.7' } },
        429,
        'SA_ERR_WS_TOO_MANY_CONNECTIONS',
        /^198\.51\.100\.7 holds its maximum of 6/,
      );
      await refusedWith(
        { token: token(), headers: { 'X-Forwarded-For': '198.51.100.7, 127.0.0.1' } },
        429,
        'SA_ERR_WS_TOO_MANY_CONNECTIONS',
        /^198\.51\.100\.7 holds/,
      ); // a second trusted hop is skipped
      await Promise.all(open.splice(0).map((c) => c.close()));
      // 127.0.0.2 is not trusted: whatever it says, it counts as itself.
      for (let i = 0; i < 6; i++)
        open.push(await WsTestClient.connect(url, { token: token(), localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': `198.51.100.${i}` } }));
      await refusedWith(
        { token: token(), localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '198.51.100.200' } },
        429,
        'SA_ERR_WS_TOO_MANY_CONNECTIONS',
        /^127\.0\.0\.2 holds its maximum of 6/,
      );
    } finally {
      await Promise.all(open.map((c) => c.close()));
    }
  });

  it('an idle connection that never subscribes is closed with 4003', async () => {
    const c = await WsTestClient.connect(url, { token: token() });
    const started = Date.now();
    assert.equal((await c.closed).code, 4003);
    assert.ok(Date.now() - started >= 900);
  });

  it('a slow reader of predictions is disconnected with 4008 once its buffer is full', async () => {
    const slow = await WsTestClient.connect(url, { token: token() });
    await slow.request('subscribe', { channel: 'predictions' });
    const socket = rawSocket(slow.ws)!;
    socket.pause(); // reads nothing: the kernel buffers fill, then the server's
    const slowCount = async (): Promise<number> =>
      Number(/websocket_slow_disconnects_total (\d+)/.exec(await (await fetch(`${app.adminUrl}/metrics`)).text())?.[1] ?? 0);
    for (let round = 0; round < 100 && (await slowCount()) === 0; round++) await produce(2_000);
    assert.equal(await slowCount(), 1, 'the server gave up on the slow reader');
    socket.resume(); // now read what was queued, up to the close frame
    assert.equal((await slow.closed).code, 4008);
  });

  it('a slow reader of metrics is not disconnected: the oldest metrics are dropped until it drains', async () => {
    const slow = await WsTestClient.connect(url, { token: token() });
    await slow.request('subscribe', { channel: 'metrics' });
    const socket = rawSocket(slow.ws)!;
    socket.pause();
    const dropped = async (): Promise<number> =>
      Number(/websocket_messages_dropped_total\{channel="metrics"\} (\d+)/.exec(await (await fetch(`${app.adminUrl}/metrics`)).text())?.[1] ?? 0);
    const summary = Buffer.from(JSON.stringify({ task: '0_0', events: 1, pad: 'x'.repeat(400) }));
    for (let round = 0; round < 100 && (await dropped()) === 0; round++) {
      for (let i = 0; i < 2_000; i++) producer.produce(topics.metrics, null, summary, Buffer.from(`task-${i}`), Date.now());
      await call((cb) => producer.flush(30_000, (err) => cb(err)));
    }
    assert.ok((await dropped()) > 0, 'metrics were dropped for the slow reader');
    socket.resume();
    const last = `last-${seq++}`;
    producer.produce(topics.metrics, null, Buffer.from(JSON.stringify({ task: last })), Buffer.from(last), Date.now());
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await slow.waitFor('the newest summary once drained', () => slow.pushes('metrics').some((p) => p.pub.key === last), 30_000);
    assert.equal(slow.ws.readyState, WebSocket.OPEN);
    await slow.close();
  });

  /** A raw HTTP request on its own socket: what comes back, and whether the server closed the socket. */
  function raw(request: string): Promise<{ response: string; closedByServer: boolean }> {
    const { port } = new URL(url);
    return new Promise((resolve) => {
      const socket = tcpConnect(Number(port), '127.0.0.1', () => socket.write(request));
      let response = '';
      socket.on('data', (d) => (response += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ response, closedByServer: true }));
      setTimeout(() => {
        socket.destroy();
        resolve({ response, closedByServer: false });
      }, 3_000);
    });
  }

  it('odd upgrade requests: a path that is not a URL, a handshake ws refuses, a refused client that never closes — answered, sockets closed, no slot leaked', async () => {
    const upgrade = (path: string, extra = ''): string =>
      `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
    const odd = await raw(upgrade('//'));
    assert.match(odd.response, /^HTTP\/1.1 404/);
    assert.ok(odd.closedByServer);
    const unauthorized = await raw(upgrade('/ws', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'));
    assert.match(unauthorized.response, /^HTTP\/1.1 401/);
    assert.ok(unauthorized.closedByServer, 'a refused socket is closed by the server, not left half-open');
    // More handshakes than the per-address limit that ws itself refuses (no key), each with a valid token:
    for (let i = 0; i < 8; i++) assert.match((await raw(upgrade(`/ws?token=${token()}`))).response, /^HTTP\/1.1 400/);
    const after = await WsTestClient.connect(url, { token: token() });
    assert.deepEqual((await after.request('ping')).result, {});
    await after.close();
  });

  it('refresh: a token for another subject is refused; one with narrower grants ends the subscriptions it no longer permits', async () => {
    const c = await WsTestClient.connect(url, { token: token({ channels: ['alerts', 'metrics'] }) });
    await c.request('subscribe', { channel: 'alerts' });
    await c.request('subscribe', { channel: 'metrics' });
    assert.equal((await c.request('refresh', { token: token({ sub: 'someone-else' }) })).error?.code, 'SA_ERR_WS_UNAUTHORIZED');
    assert.ok((await c.request('refresh', { token: token({ channels: ['metrics'] }) })).result?.expires_at);
    assert.ok(c.messages.some((m) => m.push?.channel === 'alerts' && 'unsubscribed' in m.push));
    assert.equal((await c.request('unsubscribe', { channel: 'alerts' })).error?.code, 'SA_ERR_WS_SUBSCRIPTION');
    assert.deepEqual((await c.request('unsubscribe', { channel: 'metrics' })).result, {});
    await c.close();
  });
});
