import { strict as assert } from 'node:assert';
import { signHs256, verifyJwt } from '../../../src/auth/jwt';
import { ERROR_CATALOGUE } from '../../../src/errors';
import { below, mulberry32 } from '../../support/prng';
import { memoryQueryServer } from '../../support/query-server';

const SECRET = 'query-fuzz-secret-that-is-long-enough-0000';
const CASES = 1500;
const server = (declared: 'murmur2' | 'unknown', auth: boolean): ReturnType<typeof memoryQueryServer> =>
  memoryQueryServer(declared, auth ? { verify: (t) => verifyJwt(t, { algorithms: ['HS256'], secret: SECRET }) } : 'none');
const STATUSES = new Set([200, 400, 401, 403, 404, 409, 503]);

describe('query API fuzz: random paths, parameters and headers end in a typed answer', function () {
  this.timeout(60_000);

  it(`${CASES} seeded requests: 200 or a typed 4xx/503, never a 500, a hang or an unhandled rejection`, async () => {
    const random = mulberry32(0x51ee7);
    const pick = <T>(xs: readonly T[]): T => xs[below(random, xs.length)]!;
    const junk = (max: number): string =>
      Array.from({ length: below(random, max) }, () =>
        String.fromCodePoint(pick([below(random, 128), 0x80 + below(random, 0x780), 0x4e00 + below(random, 500), 0x1f600 + below(random, 50)])),
      ).join('');
    const segment = (): string =>
      pick([
        'stores',
        'metadata',
        'keys',
        'windows',
        'entries',
        'openapi.json',
        'counts',
        'per-minute',
        'nope',
        'k1',
        'k2',
        '..',
        '.',
        '%00',
        '%2F..%2F',
        '%ZZ',
        encodeURIComponent(junk(40)),
        'x'.repeat(below(random, 6000)),
        String(below(random, 1e9)),
      ]);
    const query = (): string => {
      const params = Array.from(
        { length: below(random, 5) },
        () =>
          `${pick(['from', 'to', 'limit', 'cursor', 'prefix', 'x', 'from'])}=${pick([String(below(random, 2 ** 31)), '-1', '1e309', 'NaN', '', '%%%', encodeURIComponent(junk(30)), 'AAAA', '9'.repeat(40)])}`,
      );
      return params.length > 0 ? `?${params.join('&')}` : '';
    };
    const rejections: unknown[] = [];
    const onRejection = (r: unknown): void => void rejections.push(r);
    process.on('unhandledRejection', onRejection);
    const servers = [server('murmur2', true), server('unknown', true), server('murmur2', false)];
    const seen = new Set<number>();
    try {
      for (let i = 0; i < CASES; i++) {
        const app = servers[i % servers.length]!;
        const store = pick(['counts', 'per-minute', 'nope', segment()]);
        const key = pick(['k1', 'k2', 'k3', 'missing', encodeURIComponent('ünïcode'), segment()]);
        const shaped = [
          `/stores/${store}/keys/${key}`,
          `/stores/${store}/keys/${key}/windows`,
          `/stores/${store}/entries`,
          `/metadata/${store}/${key}`,
          '/stores',
        ];
        const path = `${below(random, 2) === 0 ? pick(shaped) : `/${Array.from({ length: 1 + below(random, 5) }, segment).join('/')}`}${query()}`;
        const headers: Record<string, string> = {};
        const auth = below(random, 4);
        if (auth === 0)
          headers.authorization = `Bearer ${signHs256({ exp: Math.floor(Date.now() / 1000) + 60, stores: pick([['*'], ['counts'], [], 'counts']) }, SECRET)}`;
        if (auth === 1) headers.authorization = pick(['Bearer', 'Bearer ', `Bearer ${junk(50)}`, `Bearer a.b.c`, 'Basic eA==', `Bearer ${'x'.repeat(9000)}`]);
        if (below(random, 4) === 0) headers['x-sa-forwarded'] = '1';
        if (below(random, 4) === 0) headers['x-sa-search'] = pick(['0', '0,1', '1,1,1', '-1', '999', junk(20), '0,'.repeat(5000)]);
        headers.host = pick(['127.0.0.1:8080', 'localhost', '[::1]:1', 'evil.example', '']);
        const started = Date.now();
        if (process.env.FUZZ_TRACE) process.stderr.write(`${i} ${path.slice(0, 300)} ${JSON.stringify(headers).slice(0, 200)}\n`);
        const res = await app.inject({ method: pick(['GET', 'GET', 'GET', 'POST', 'DELETE', 'HEAD']) as 'GET', url: path, headers });
        assert.ok(Date.now() - started < 2_000, `request ${i} (${path.slice(0, 100)}) took ${Date.now() - started} ms`);
        seen.add(res.statusCode);
        assert.ok(STATUSES.has(res.statusCode), `request ${i} ${path.slice(0, 100)}: status ${res.statusCode} ${res.body.slice(0, 200)}`);
        if (res.statusCode >= 400 && res.body.length > 0) {
          const body = JSON.parse(res.body) as { error?: { code?: string; message?: string } };
          assert.ok(body.error?.code && body.error.code in ERROR_CATALOGUE, `request ${i}: ${res.body.slice(0, 200)}`);
          assert.doesNotMatch(body.error.message ?? '', /\/work\/|node_modules|at .+:\d+:\d+/, 'no paths or stack frames in answers');
        }
      }
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(rejections, []);
      assert.deepEqual([...seen].sort(), [200, 400, 401, 403, 404, 503], 'the cases reach every kind of answer');
    } finally {
      process.off('unhandledRejection', onRejection);
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
