import { strict as assert } from 'node:assert';
import { kafkaClientConfig } from '../../src/config';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaStreams, Serdes, StreamsBuilder, TimeWindows, type StreamsState } from '../../src';
import { createLogger } from '../../src/logger';
import { partitionForKey } from '../../src/partitioner';
import { call, connectedProducer, createTopic, uniqueName, waitFor } from '../support/kafka';
import { freePort } from '../support/net';
import { useStack } from '../support/stack';

const S = Serdes.String();
const quiet = createLogger({ level: 'fatal' });

async function get(base: string, path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text, headers: res.headers };
}

describe('interactive queries over HTTP (two instances, real broker)', function () {
  this.timeout(180_000);
  const config = useStack();
  const KEYS = 20;
  const input = uniqueName('iq-in');
  const applicationId = uniqueName('iq-app');
  const dirs: string[] = [];
  const instances: { streams: KafkaStreams; url: string; admin(): string }[] = [];
  // A whole minute an hour ago: windows start at base, and the window changelog's time
  // retention (a day past the store's) keeps them (with 2023 timestamps the broker deleted them).
  const base = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;

  const topology = (): ReturnType<StreamsBuilder['build']> => {
    const b = new StreamsBuilder();
    const grouped = b.stream(input, { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S });
    grouped.count({ name: 'counts' });
    // A day of retention: stream time reaches base + 19 minutes, and k3's windows must still be there.
    grouped.windowedBy(TimeWindows.ofSizeAndGrace(60_000, 600_000)).count({ name: 'per-minute', retentionMs: 86_400_000 });
    return b.build();
  };
  const start = async (id: string): Promise<{ streams: KafkaStreams; url: string; admin(): string; states: StreamsState[] }> => {
    const dir = mkdtempSync(join(tmpdir(), 'iq-'));
    dirs.push(dir);
    const port = await freePort();
    const streams = new KafkaStreams(topology(), {
      applicationId,
      instanceId: id,
      stateDir: dir,
      kafka: kafkaClientConfig(config().kafka),
      logger: quiet,
      handleSignals: false,
      queryServer: { port },
      adminServer: { port: 0 },
    });
    const states: StreamsState[] = [];
    streams.on('stateChange', (s) => states.push(s));
    // The admin listener's port is known once start() has opened it.
    return { streams, url: streams.queryUrl!, admin: () => streams.adminUrl ?? 'http://127.0.0.1:1', states };
  };

  before(async () => {
    await createTopic(config(), input, 4);
    const producer = await connectedProducer(config());
    // Key k<i> gets i + 1 records, one per minute.
    for (let i = 0; i < KEYS; i++) for (let n = 0; n <= i; n++) producer.produce(input, null, Buffer.from('x'), Buffer.from(`k${i}`), base + n * 60_000);
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await call((cb) => producer.disconnect((err) => cb(err)));
  });

  after(async () => {
    for (const i of instances) await i.streams.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After before the instance is ready; health and metrics are on the admin listener only', async () => {
    const a = await start('a');
    instances.push(a);
    const starting = a.streams.start();
    // The query server is up before the group is joined and the stores restored: queries must not answer yet.
    await waitFor('the admin listener', async () => (await get(a.admin(), '/healthz').catch(() => ({ status: 0 }))).status === 200, 30_000);
    assert.equal((await get(a.admin(), '/readyz')).status, 503);
    await waitFor('the query server', async () => (await get(a.url, '/openapi.json').catch(() => ({ status: 0 }))).status === 200, 30_000);
    const early = await get(a.url, '/stores/counts/keys/k1');
    assert.equal(early.status, 503);
    assert.equal(early.body.error.code, 'SA_ERR_QUERY_UNAVAILABLE');
    assert.equal(early.body.error.retriable, true);
    assert.equal(early.headers.get('retry-after'), '1');
    assert.equal((await get(a.admin(), '/healthz')).status, 200);
    await starting;
    await waitFor('instance a ready', async () => (await get(a.admin(), '/readyz')).status === 200, 60_000);
    assert.ok(a.states.includes('RUNNING'));
    const metrics = await get(a.admin(), '/metrics');
    assert.match(metrics.body as string, /events_processed_total/);
    for (const path of ['/healthz', '/readyz', '/metrics']) assert.equal((await get(a.url, path)).status, 400, `${path} is not served next to the query API`);
    const openapi = await get(a.url, '/openapi.json');
    assert.ok(openapi.body.paths['/stores/{store}/keys/{key}']);
  });

  it('with two instances, either one answers for any key (forwarding to the owner) with the exact count', async () => {
    const b = await start('b');
    instances.push(b);
    await b.streams.start();
    const [a] = instances;
    await waitFor(
      'both ready with tasks split',
      async () => {
        const ra = await get(a!.admin(), '/readyz');
        const rb = await get(b.admin(), '/readyz');
        return ra.status === 200 && rb.status === 200 && ra.body.tasks.length > 0 && rb.body.tasks.length > 0;
      },
      90_000,
    );
    let last = '';
    await waitFor(
      'every count final',
      async () => {
        for (let i = 0; i < KEYS; i++) {
          const r = await get(a!.url, `/stores/counts/keys/k${i}`);
          last = `k${i}: ${r.status} ${JSON.stringify(r.body)}`;
          if (r.body.value !== i + 1) return false;
        }
        return true;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last answer ${last}`);
    });
    let forwarded = 0;
    for (let i = 0; i < KEYS; i++) {
      for (const via of [a!, b]) {
        const r = await get(via.url, `/stores/counts/keys/k${i}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.value, i + 1);
        assert.equal(r.body.partition, partitionForKey(Buffer.from(`k${i}`), 4));
        if (r.headers.get('x-sa-served-by')) forwarded++;
      }
      const meta = await get(b.url, `/metadata/counts/k${i}`);
      assert.equal(meta.body.partition, partitionForKey(Buffer.from(`k${i}`), 4));
      assert.ok(['a', 'b'].includes(meta.body.owner.instanceId));
    }
    assert.ok(forwarded >= KEYS / 2, `some answers came through a forward (${forwarded})`);
    const windows = await get(a!.url, `/stores/per-minute/keys/k3/windows?from=${base}&to=${base + 3_600_000}`);
    assert.deepEqual(
      windows.body.windows.map((w: { start: number; value: number }) => [w.start - base, w.value]),
      [
        [0, 1],
        [60_000, 1],
        [120_000, 1],
        [180_000, 1],
      ],
    );
  });

  it('scans the partitions an instance runs, page by page with a cursor; both instances together hold every key', async () => {
    const seen = new Map<string, number>();
    for (const inst of instances) {
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await get(inst.url, `/stores/counts/entries?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.complete, false);
        for (const e of r.body.entries) seen.set(e.key, e.value);
        cursor = r.body.cursor;
        pages++;
      } while (cursor && pages < 50);
    }
    assert.equal(seen.size, KEYS);
    for (let i = 0; i < KEYS; i++) assert.equal(seen.get(`k${i}`), i + 1);
    const prefixed = await get(instances[0]!.url, '/stores/counts/entries?prefix=k1');
    for (const e of prefixed.body.entries) assert.match(e.key, /^k1/);
  });

  it('answers bad requests with a typed 400 or 404', async () => {
    const url = instances[0]!.url;
    const cases: [string, number, string, RegExp][] = [
      ['/stores/nope/keys/k1', 404, 'SA_ERR_QUERY_UNKNOWN_STORE', /no store named "nope"/],
      ['/stores/counts/keys/unknown-key', 404, 'SA_ERR_QUERY_NOT_FOUND', /no value for key "unknown-key"/],
      ['/stores/counts/entries?limit=0', 400, 'SA_ERR_QUERY_BAD_REQUEST', /limit must be/],
      ['/stores/counts/entries?cursor=%%%', 400, 'SA_ERR_QUERY_BAD_REQUEST', /.+/],
      ['/stores/per-minute/keys/k1', 400, 'SA_ERR_QUERY_BAD_REQUEST', /window store/],
      ['/stores/counts/keys/k1/windows', 400, 'SA_ERR_QUERY_BAD_REQUEST', /key-value store/],
      ['/stores/per-minute/keys/k1/windows?from=10&to=5', 400, 'SA_ERR_QUERY_BAD_REQUEST', /from ≤ to/],
      ['/no/such/endpoint', 400, 'SA_ERR_QUERY_BAD_REQUEST', /no endpoint GET \/no\/such\/endpoint/],
    ];
    for (const [path, status, code, message] of cases) {
      const r = await get(url, path);
      assert.equal(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, path);
      assert.match(r.body.error.message, message, path);
    }
  });

  it('an open (loopback) API answers only requests that name a loopback host: a DNS-rebinding page is refused', async () => {
    const { port } = new URL(instances[0]!.url);
    const ask = (host: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/stores/counts/keys/k1', headers: { host } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const rebound = await ask(`evil.example:${port}`);
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /SA_ERR_QUERY_FORBIDDEN/);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) assert.equal((await ask(host)).status, 200, host);
  });
});
