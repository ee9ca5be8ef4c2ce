import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli';
import { call, connectedProducer, createTopic, uniqueName, waitFor } from '../support/kafka';
import { freePort } from '../support/net';
import { useStack } from '../support/stack';

/**
 * Queries across hosts: two instances on two addresses of their own (127.0.0.2 and
 * 127.0.0.3, the same port on both), each advertising its own address — as two pods do.
 * Any key is answered through either, the other's keys by forwarding; over http, then
 * over https with certificates from a private CA that the instances trust through
 * NODE_EXTRA_CA_CERTS. An instance that advertised 127.0.0.1 (the old default) would
 * forward to nobody.
 */
describe('interactive queries across hosts (two addresses, http and https)', function () {
  this.timeout(240_000);
  const config = useStack();
  const KEYS = 40;
  const expected = (i: number): number => (i % 5) + 1;
  const input = uniqueName('xhost-in');
  let dir = '';
  const children: ChildProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xhost-'));
    makeCertificates(dir);
    await createTopic(config(), input, 4);
    const producer = await connectedProducer(config());
    for (let i = 0; i < KEYS; i++) for (let n = 0; n < expected(i); n++) producer.produce(input, null, Buffer.from('x'), Buffer.from(`k${i}`), Date.now());
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await call((cb) => producer.disconnect((err) => cb(err)));
  });

  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const scheme of ['http', 'https'] as const) {
    it(`${scheme}: every key answered through either instance, the other's keys forwarded to the address it advertises`, async () => {
      const port = await freePort();
      const applicationId = uniqueName(`xhost-${scheme}`);
      const ca = scheme === 'https' ? readFileSync(join(dir, 'ca.pem')) : undefined;
      const hosts = ['127.0.0.2', '127.0.0.3'];
      const urls = await Promise.all(hosts.map((host) => startInstance(host, port, applicationId, scheme)));
      assert.deepEqual(
        urls,
        hosts.map((h) => `${scheme}://${h}:${port}`),
        'each advertises its own address',
      );

      const owners = new Set<string>();
      await waitFor(
        'every key answered through both instances',
        async () => {
          owners.clear();
          for (const base of urls) {
            for (let i = 0; i < KEYS; i++) {
              const res = await getJson(`${base}/stores/counts/keys/k${i}`, ca).catch(() => undefined);
              if (res?.status !== 200 || (res.body as { value: number }).value !== expected(i)) return false;
              const meta = await getJson(`${base}/metadata/counts/k${i}`, ca);
              owners.add((meta.body as { owner: { url: string } }).owner.url);
            }
          }
          return owners.size === 2;
        },
        120_000,
      );
      assert.deepEqual([...owners].sort(), urls, 'the keys are split between the two instances, so half the answers were forwarded');
    });
  }

  async function startInstance(host: string, port: number, applicationId: string, scheme: 'http' | 'https'): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      COUNT_APP_INPUT: input,
      COUNT_APP_ID: applicationId,
      COUNT_APP_INSTANCE: host,
      COUNT_APP_STATE_DIR: join(dir, `${applicationId}-${host}`),
      COUNT_APP_PORT: String(port),
      COUNT_APP_HOST: host,
      ...(scheme === 'https'
        ? { COUNT_APP_TLS_CERT: join(dir, 'server.pem'), COUNT_APP_TLS_KEY: join(dir, 'server.key'), NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') }
        : {}),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/count-app.ts')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(`instance ${host} to start`, () => /ready \S+/.test(out), 90_000);
    return /ready (\S+)/.exec(out)![1]!;
  }
});

/** A CA, and a server certificate it signed for both addresses. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=streaming-analytics test CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=processor');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.2,IP:127.0.0.3\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
}

/** GET with a CA to trust for https (the test process has no NODE_EXTRA_CA_CERTS of its own). */
async function getJson(url: string, ca?: Buffer): Promise<{ status: number; body: unknown }> {
  if (!url.startsWith('https:')) {
    const res = await fetch(url);
    return { status: res.status, body: await res.json() };
  }
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
  });
}
