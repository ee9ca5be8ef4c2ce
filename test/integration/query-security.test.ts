import { strict as assert } from 'node:assert';
import { kafkaClientConfig } from '../../src/config';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaStreams, Serdes, StreamsBuilder } from '../../src';
import { signHs256, verifyJwt, type JwtSettings } from '../../src/auth/jwt';
import { createLogger } from '../../src/logger';
import { partitionForKey } from '../../src/partitioner';
import { call, connectedProducer, createTopic, uniqueName, waitFor } from '../support/kafka';
import { freePort } from '../support/net';
import { useStack } from '../support/stack';

const S = Serdes.String();
const quiet = createLogger({ level: 'fatal' });
const SECRET = 'query-security-test-secret-0123456789';
const jwt: JwtSettings = { algorithms: ['HS256'], secret: SECRET, audience: 'query-api' };
const now = (): number => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown> = {}): string =>
  signHs256({ sub: 'analyst', aud: 'query-api', stores: ['counts'], exp: now() + 300, ...claims }, SECRET);

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text, headers: res.headers };
}

/** A raw HTTP/1.1 request, so its request line can be the absolute form a proxy would send. */
function rawRequest(port: number, requestLine: string, headers: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${requestLine}\r\n${[...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(20_000, () => socket.destroy(new Error('no answer')));
  });
}

describe('query API security: tokens, store grants, forwarding only to owners (real broker)', function () {
  this.timeout(180_000);
  const config = useStack();
  const KEYS = 12;
  const input = uniqueName('qs-in');
  const applicationId = uniqueName('qs-app');
  const dirs: string[] = [];
  const instances: { id: string; streams: KafkaStreams; url: string; port: number }[] = [];
  const attackerHits: string[] = [];
  let attacker: Server;

  const start = async (id: string): Promise<void> => {
    const dir = mkdtempSync(join(tmpdir(), 'qs-'));
    dirs.push(dir);
    const port = await freePort();
    const b = new StreamsBuilder();
    b.stream(input, { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count({ name: 'counts' });
    b.stream(`${input}-other`, { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count({ name: 'secrets' });
    const streams = new KafkaStreams(b.build(), {
      applicationId,
      instanceId: id,
      stateDir: dir,
      kafka: kafkaClientConfig(config().kafka),
      logger: quiet,
      handleSignals: false,
      // Listening on every interface: the API must insist on tokens.
      queryServer: { port, host: '0.0.0.0', advertisedUrl: `http://127.0.0.1:${port}`, auth: { verify: (t) => verifyJwt(t, jwt) } },
    });
    await streams.start();
    instances.push({ id, streams, url: `http://127.0.0.1:${port}`, port });
  };

  before(async () => {
    attacker = createHttpServer((req, res) => {
      attackerHits.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ store: 'counts', key: 'stolen', value: 666, partition: 0 }));
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', () => r()));
    await createTopic(config(), input, 2);
    await createTopic(config(), `${input}-other`, 2);
    const producer = await connectedProducer(config());
    for (let i = 0; i < KEYS; i++) for (let n = 0; n <= i; n++) producer.produce(input, null, Buffer.from('x'), Buffer.from(`k${i}`), Date.now());
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await call((cb) => producer.disconnect((err) => cb(err)));
    await start('a');
    await start('b');
    const [a] = instances;
    await waitFor(
      'both instances hold tasks and every count is final',
      async () => {
        for (let i = 0; i < KEYS; i++) {
          const r = await get(a!.url, `/stores/counts/keys/k${i}`, { authorization: `Bearer ${token()}` });
          if (r.body.value !== i + 1) return false;
        }
        return instances.every((x) => x.streams.state === 'RUNNING');
      },
      120_000,
    );
  });

  after(async () => {
    for (const i of instances) await i.streams.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    attacker?.close();
  });

  it('refuses a request without a valid token (401, WWW-Authenticate), and a store the token does not grant (403)', async () => {
    const url = instances[0]!.url;
    const cases: [Record<string, string>, number, string, RegExp][] = [
      [{}, 401, 'SA_ERR_QUERY_UNAUTHORIZED', /no bearer token/],
      [{ authorization: 'Basic YWxpY2U6cGFzcw==' }, 401, 'SA_ERR_QUERY_UNAUTHORIZED', /no bearer token/],
      [
        { authorization: `Bearer ${signHs256({ aud: 'query-api', stores: ['*'], exp: now() + 60 }, 'another-secret-of-enough-length-0000')}` },
        401,
        'SA_ERR_QUERY_UNAUTHORIZED',
        /signature/,
      ],
      [{ authorization: `Bearer ${token({ aud: 'fanout' })}` }, 401, 'SA_ERR_QUERY_UNAUTHORIZED', /audience/],
      [{ authorization: `Bearer ${token({ exp: now() - 60 })}` }, 401, 'SA_ERR_QUERY_UNAUTHORIZED', /expired/],
      [{ authorization: `Bearer ${token({ stores: ['secrets'] })}` }, 403, 'SA_ERR_QUERY_FORBIDDEN', /does not grant store "counts"/],
      [{ authorization: `Bearer ${token({ stores: undefined })}` }, 403, 'SA_ERR_QUERY_FORBIDDEN', /does not grant/],
    ];
    for (const [headers, status, code, message] of cases) {
      const r = await get(url, '/stores/counts/keys/k1', headers);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.error.code, code);
      assert.match(r.body.error.message, message);
      if (status === 401) assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    }
    for (const path of ['/stores', '/stores/secrets/entries', '/metadata/counts/k1']) assert.equal((await get(url, path)).status, 401, path);
    assert.equal((await get(url, '/stores/secrets/entries', { authorization: `Bearer ${token()}` })).status, 403);
    const listed = await get(url, '/stores', { authorization: `Bearer ${token()}` });
    assert.deepEqual(
      listed.body.stores.map((s: { name: string }) => s.name),
      ['counts'],
      'only granted stores are listed',
    );
    assert.equal((await get(url, '/openapi.json')).status, 200, 'the API description needs no token');
  });

  it("a key another instance owns is forwarded with the caller's credentials: the owner checks them too", async () => {
    const [a, b] = instances;
    const owned = (await get(b!.url, '/stores/counts/entries?limit=100', { authorization: `Bearer ${token()}` })).body.entries.map(
      (e: { key: string }) => e.key,
    );
    assert.ok(owned.length > 0);
    const key = owned[0] as string;
    const r = await get(a!.url, `/stores/counts/keys/${key}`, { authorization: `Bearer ${token()}` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('x-sa-served-by'), 'b');
    assert.equal(r.body.value, Number(key.slice(1)) + 1);
    assert.equal(r.body.partition, partitionForKey(Buffer.from(key), 2));
    // A token the owner refuses is refused through the forward as well (here: at the first hop).
    assert.equal((await get(a!.url, `/stores/counts/keys/${key}`, { authorization: `Bearer ${token({ aud: 'x' })}` })).status, 401);
  });

  it('a forwarded question is never forwarded again, and names only partitions the receiver runs (else 503, never a miss)', async () => {
    const [a, b] = instances;
    const ownedByB = (await get(b!.url, '/stores/counts/entries?limit=100', { authorization: `Bearer ${token()}` })).body.entries.map(
      (e: { key: string }) => e.key,
    )[0] as string;
    const auth = { authorization: `Bearer ${token()}` };
    // At a, as if forwarded to it: a key b runs is not passed on to b (one hop), and it is no "no value" either.
    const hop = await get(a!.url, `/stores/counts/keys/${ownedByB}`, { ...auth, 'x-sa-forwarded': '1' });
    assert.equal(hop.status, 503, JSON.stringify(hop.body));
    assert.equal(hop.headers.get('x-sa-served-by'), null);
    for (const search of ['999', '1,999', 'x', '']) {
      const r = await get(b!.url, `/stores/counts/keys/${ownedByB}`, { ...auth, 'x-sa-forwarded': '1', 'x-sa-search': search });
      assert.ok(r.status === 503 || (r.status === 200 && r.body.value === Number(ownedByB.slice(1)) + 1), `${search}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  });

  it('a request line with an absolute URL never sends the query anywhere but to the owner', async () => {
    const [a, b] = instances;
    const owned = (await get(b!.url, '/stores/counts/entries?limit=100', { authorization: `Bearer ${token()}` })).body.entries.map(
      (e: { key: string }) => e.key,
    );
    const key = owned[0] as string;
    const evil = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    const answer = await rawRequest(a!.port, `GET ${evil}/stores/counts/keys/${key} HTTP/1.1`, [
      `Host: 127.0.0.1:${a!.port}`,
      `Authorization: Bearer ${token()}`,
    ]);
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.match(answer, /x-sa-served-by: b/i);
    assert.match(answer, new RegExp(`"value":${Number(key.slice(1)) + 1}`));
    assert.doesNotMatch(answer, /666|stolen/);
    assert.deepEqual(attackerHits, [], 'nothing reached the other host');
  });

  it('ignores host-directory claims that are not valid, and never forwards to them', async () => {
    const [a] = instances;
    const evil = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    const producer = await connectedProducer(config());
    const claim = (o: Record<string, unknown>): Buffer =>
      Buffer.from(JSON.stringify({ applicationId, instanceId: 'evil', url: evil, tasks: ['0_0', '0_1'], at: Date.now() + 1000, ...o }));
    const hostile: [string, Buffer][] = [
      ['evil', claim({ at: Date.now() + 86_400_000 })], // dated ahead, to win every task forever
      ['evil', claim({ applicationId: 'another-app' })],
      ['a', claim({})], // names another instance than its key
      ['evil', claim({ url: `${evil}/steal?x=` })],
      ['evil', claim({ url: 'file:///etc/passwd' })],
      ['evil', claim({ tasks: ['../../x'] })],
      ['evil', Buffer.from('{not json')],
      ['../evil', claim({ instanceId: '../evil' })],
    ];
    for (const [key, value] of hostile) producer.produce(`${applicationId}-query-hosts`, 0, value, Buffer.from(key), Date.now());
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await call((cb) => producer.disconnect((err) => cb(err)));
    await new Promise((r) => setTimeout(r, 1_500)); // the directories tail the topic every 100-200 ms
    for (let i = 0; i < KEYS; i++) {
      const r = await get(a!.url, `/stores/counts/keys/k${i}`, { authorization: `Bearer ${token()}` });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.value, i + 1);
      assert.notEqual(r.headers.get('x-sa-served-by'), 'evil');
    }
    assert.deepEqual(attackerHits, [], 'no query was forwarded to a hostile claim');
  });

  it('refuses to start an open query API on a non-loopback address', () => {
    assert.throws(
      () =>
        new KafkaStreams(new StreamsBuilder().build(), {
          applicationId: 'x',
          kafka: kafkaClientConfig(config().kafka),
          queryServer: { port: 1, host: '0.0.0.0' },
        }),
      (err: Error & { code?: string }) => err.code === 'SA_ERR_STREAMS_CONFIG' && /open query API must not face the network/.test(err.message),
    );
  });
});
