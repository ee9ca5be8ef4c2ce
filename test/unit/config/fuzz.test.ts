import { strict as assert } from 'node:assert';
import { ConfigError, envName, loadConfig, schema } from '../../../src/config';
import { below, mulberry32 } from '../../support/prng';

const CASES = 2000;
const FIELDS = new Map(
  Object.entries(schema).flatMap(([section, fields]) => Object.entries(fields).map(([key, f]) => [envName(section, key), f as { secret: boolean }] as const)),
);
const NAMES = [...FIELDS.keys()];

describe('configuration fuzz: random environments end in a Config or one ConfigError', function () {
  this.timeout(60_000);

  it(`${CASES} seeded environments: never another exception, never a hang, every problem on its own line`, () => {
    const random = mulberry32(0xc0f1);
    const pick = <T>(xs: readonly T[]): T => xs[below(random, xs.length)]!;
    const text = (max: number): string =>
      Array.from({ length: below(random, max) }, () =>
        String.fromCodePoint(pick([below(random, 128), 0x80 + below(random, 0x780), 0x1f600 + below(random, 50), 0xfeff])),
      ).join('');
    const value = (): string =>
      pick([
        text(20),
        text(300),
        String(below(random, 2 ** 31)),
        String(-below(random, 100)),
        '1e309',
        'NaN',
        '0x10',
        ' 42 ',
        '',
        'true',
        'FALSE',
        'yes',
        'on',
        '[]',
        '["a:1","b:2"]',
        '[1,2]',
        '{"a":1}',
        `[${'['.repeat(below(random, 3000))}`,
        '"x"',
        'http://127.0.0.1:1/x',
        'https://idp.example.com/jwks',
        'ftp://x',
        'http://',
        '127.0.0.1',
        '0.0.0.0',
        '::1',
        'localhost',
        'HS256,RS256',
        'ES256',
        'murmur2',
        'crc32',
        'unknown',
        'jwt',
        'off',
        'SASL_SSL',
        'SCRAM-SHA-512',
        'OAUTHBEARER',
        '/nonexistent/file.pem',
        __filename,
        'x'.repeat(below(random, 100_000)),
      ]);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      const env: Record<string, string> = {};
      for (let n = below(random, 8); n > 0; n--) env[below(random, 10) === 0 ? `STREAMING_${text(12).toUpperCase()}` : pick(NAMES)] = value();
      const started = Date.now();
      try {
        const config = loadConfig(env);
        assert.ok(config.kafka.bootstrapServers.length > 0);
        accepted++;
      } catch (err) {
        assert.ok(err instanceof ConfigError, `case ${i} threw ${String(err)} for ${JSON.stringify(env).slice(0, 300)}`);
        const lines = err.lines();
        assert.ok(lines.length > 0 && lines.every((l) => /^STREAMING_.*?: .+; expected .+/s.test(l)), `case ${i}: ${lines.join(' | ').slice(0, 300)}`);
        for (const [name, raw] of Object.entries(env)) {
          const own = lines.filter((l) => l.startsWith(`${name}:`)).join('\n');
          if (FIELDS.get(name)?.secret && raw.length > 0) assert.ok(!own.includes(JSON.stringify(raw)), `case ${i}: the secret of ${name} was echoed: ${own}`);
        }
        refused++;
      }
      assert.ok(Date.now() - started < 2_000, `case ${i} took ${Date.now() - started} ms`);
    }
    assert.ok(accepted > 0 && refused > 0, `both outcomes happen (${accepted} accepted, ${refused} refused)`);
  });
});
