import { strict as assert } from 'node:assert';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Jwks, KeysUnavailable } from '../../../src/auth/jwks';
import { signHs256, verifyJwt, TokenError, type JwtSettings } from '../../../src/auth/jwt';
import { jwtSettingsFor } from '../../../src/config';
import { loadConfig } from '../../../src/config';
import { isStreamingError } from '../../../src/errors';

const SECRET = 'a-test-secret-that-is-long-enough-32+';
/** The time now, read when a token is made: the suite may start long after this file loads (the stack starts first). */
const nowS = (): number => Math.floor(Date.now() / 1000);
const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function signed(alg: 'RS256' | 'ES256', claims: object, key = alg === 'RS256' ? rsa.privateKey : ec.privateKey, kid?: string): string {
  const data = `${b64({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })}.${b64({ iat: nowS(), ...claims })}`;
  const sig = alg === 'RS256' ? sign('sha256', Buffer.from(data), key) : sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' });
  return `${data}.${sig.toString('base64url')}`;
}

async function refused(token: string, s: JwtSettings, pattern: RegExp): Promise<void> {
  await assert.rejects(verifyJwt(token, s), (err: unknown) => err instanceof TokenError && pattern.test((err as Error).message));
}

describe('JWT verification (query API and fan-out)', () => {
  const hs: JwtSettings = { algorithms: ['HS256'], secret: SECRET };

  it('accepts a valid HS256 token and returns its claims', async () => {
    const claims = await verifyJwt(signHs256({ sub: 'u1', exp: nowS() + 60, channels: ['alerts'] }, SECRET), hs);
    assert.equal(claims.sub, 'u1');
    assert.deepEqual(claims.channels, ['alerts']);
  });

  it('refuses a bad signature, alg none, a missing or past exp, a future nbf', async () => {
    const good = signHs256({ exp: nowS() + 60 }, SECRET);
    await refused(`${good.slice(0, good.lastIndexOf('.'))}.${Buffer.from('x').toString('base64url')}`, hs, /signature/);
    await refused(signHs256({ exp: nowS() + 60 }, 'another-secret-of-enough-length-000'), hs, /signature/);
    await refused(`${b64({ alg: 'none' })}.${b64({ exp: nowS() + 60 })}.`, hs, /algorithm "none" is not accepted/);
    await refused(signHs256({ sub: 'x' }, SECRET), hs, /no exp/);
    await refused(signHs256({ exp: nowS() - 60 }, SECRET), hs, /expired/);
    await refused(signHs256({ exp: nowS() + 60, nbf: nowS() + 60 }, SECRET), hs, /not valid yet/);
    await refused('not-a-jwt', hs, /compact JWT/);
    const notJson = `${b64({ alg: 'HS256' })}.bm90IGpzb24`; // signed, but its payload is not JSON
    await refused(`${notJson}.${createHmac('sha256', SECRET).update(notJson).digest('base64url')}`, hs, /payload/);
  });

  it('checks iss and aud when configured', async () => {
    const s: JwtSettings = { ...hs, issuer: 'idp', audience: 'dash' };
    await verifyJwt(signHs256({ exp: nowS() + 60, iss: 'idp', aud: ['other', 'dash'] }, SECRET), s);
    await refused(signHs256({ exp: nowS() + 60, iss: 'evil', aud: 'dash' }, SECRET), s, /issuer/);
    await refused(signHs256({ exp: nowS() + 60, iss: 'idp', aud: 'other' }, SECRET), s, /audience/);
  });

  it('verifies RS256 and ES256 with a public key, pinned: an algorithm not listed is refused', async () => {
    const rs: JwtSettings = { algorithms: ['RS256'], publicKey: rsa.publicKey };
    assert.equal((await verifyJwt(signed('RS256', { exp: nowS() + 60, sub: 'r' }), rs)).sub, 'r');
    const es: JwtSettings = { algorithms: ['ES256'], publicKey: ec.publicKey };
    assert.equal((await verifyJwt(signed('ES256', { exp: nowS() + 60, sub: 'e' }), es)).sub, 'e');
    await refused(signed('ES256', { exp: nowS() + 60 }), rs, /algorithm "ES256" is not accepted/);
    await refused(signed('RS256', { exp: nowS() + 60 }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey), rs, /signature/);
  });

  it('refuses the RS→HS confusion: a token signed with HMAC over the public key never verifies', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const data = `${b64({ alg: 'HS256' })}.${b64({ exp: nowS() + 60 })}`;
    const forged = `${data}.${createHmac('sha256', pem).update(data).digest('base64url')}`;
    await refused(forged, { algorithms: ['RS256'], publicKey: rsa.publicKey }, /algorithm "HS256" is not accepted/);
    await refused(forged, { algorithms: ['RS256', 'HS256'], publicKey: rsa.publicKey }, /no shared secret/);
  });

  it('takes RS256/ES256 keys from a JWKS URL by kid, fetching again for an unknown kid', async () => {
    const keys = [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1' }];
    let fetches = 0;
    const server: Server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const s: JwtSettings = {
        algorithms: ['RS256', 'ES256'],
        jwks: new Jwks(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, { minRefreshMs: 0 }),
      };
      assert.equal((await verifyJwt(signed('RS256', { exp: nowS() + 60, sub: 'j' }, rsa.privateKey, 'r1'), s)).sub, 'j');
      await refused(signed('ES256', { exp: nowS() + 60 }, ec.privateKey, 'e1'), s, /no public key for ES256 tokens with kid "e1"/);
      keys.push({ ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1' }); // a key rotated in
      assert.equal((await verifyJwt(signed('ES256', { exp: nowS() + 60, sub: 'e' }, ec.privateKey, 'e1'), s)).sub, 'e');
      assert.equal(fetches, 3);
      await refused(signed('RS256', { exp: nowS() + 60 }, rsa.privateKey, 'e1'), s, /is ec, not rsa/);
      await refused(signed('RS256', { exp: nowS() + 60 }), s, /no kid/);
    } finally {
      server.close();
    }
  });

  it('requires iat, refuses one in the future, and a lifetime beyond the maximum', async () => {
    const hmac = (claims: object): string => {
      const data = `${b64({ alg: 'HS256' })}.${b64(claims)}`;
      return `${data}.${createHmac('sha256', SECRET).update(data).digest('base64url')}`;
    };
    await refused(hmac({ exp: nowS() + 60 }), hs, /no iat/);
    await refused(hmac({ exp: nowS() + 600, iat: nowS() + 300 }), hs, /issued in the future/);
    await refused(signHs256({ exp: nowS() + 7200, iat: nowS() }, SECRET), { ...hs, maxLifetimeSeconds: 3600 }, /lives 7200 s, longer than the 3600 s/);
    await refused(signHs256({ exp: nowS() + 86_400 * 365 }, SECRET), hs, /longer than the 86400 s/);
    assert.equal((await verifyJwt(signHs256({ exp: nowS() + 3600, sub: 'ok' }, SECRET), { ...hs, maxLifetimeSeconds: 3600 })).sub, 'ok');
  });

  it('refuses a header with critical extensions, and a token longer than 8 KiB', async () => {
    const data = `${b64({ alg: 'HS256', crit: ['b64'], b64: false })}.${b64({ exp: nowS() + 60, iat: nowS() })}`;
    await refused(`${data}.${createHmac('sha256', SECRET).update(data).digest('base64url')}`, hs, /critical extensions/);
    await refused(signHs256({ exp: nowS() + 60, pad: 'x'.repeat(9000) }, SECRET), hs, /longer than 8192/);
  });

  it('a JWKS answer is trusted only from https (or loopback http), without redirects, within its size', async () => {
    assert.throws(
      () => new Jwks('http://idp.example.com/jwks'),
      (err: unknown) => isStreamingError(err) && err.code === 'SA_ERR_CONFIG_INVALID' && /not https/.test(err.message),
    );
    const big = { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1', pad: 'x'.repeat(300_000) }] };
    const server: Server = createServer((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys` });
        return res.end();
      }
      if (req.url === '/big') {
        const body = JSON.stringify(big);
        res.write(body.slice(0, 1000)); // chunked: no content-length to check, only the bytes as they come
        return res.end(body.slice(1000));
      }
      res.end(JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const token = signed('RS256', { exp: nowS() + 60 }, rsa.privateKey, 'r1');
    try {
      const at = (path: string): JwtSettings => ({ algorithms: ['RS256'], jwks: new Jwks(`${base}${path}`, { minRefreshMs: 0 }) });
      assert.ok(await verifyJwt(token, at('/keys')));
      // Keys that cannot be fetched are the server's trouble, not a bad token: a KeysUnavailable (503), not a TokenError (401).
      for (const path of ['/moved', '/big'])
        await assert.rejects(
          verifyJwt(token, at(path)),
          (err: unknown) => err instanceof KeysUnavailable && /keys to verify tokens are unavailable/.test((err as Error).message),
        );
      await assert.rejects(at('/moved').jwks!.key('r1'), (err: unknown) => /redirect/.test(String((err as Error).cause)));
      await assert.rejects(at('/big').jwks!.key('r1'), (err: unknown) => /more than 262144 bytes/.test(String((err as Error).cause)));
    } finally {
      server.close();
    }
  });

  it('settings: with public-key tokens an audience is required; the development opt-out only on loopback', () => {
    const base = loadConfig({});
    const auth = { ...base.auth, jwtAlgorithms: ['RS256'], jwtPublicKeyFile: undefined, jwksUrl: 'https://idp.example.com/jwks' } as typeof base.auth;
    const service = {
      name: 'the query API',
      host: '0.0.0.0',
      hostVariable: 'STREAMING_PROCESSOR__QUERY_HOST',
      audience: undefined,
      audienceVariable: 'STREAMING_PROCESSOR__QUERY_AUDIENCE',
    };
    assert.throws(
      () => jwtSettingsFor(auth, service),
      (err: unknown) => isStreamingError(err) && /STREAMING_PROCESSOR__QUERY_AUDIENCE must name the audience/.test(err.message),
    );
    assert.equal(jwtSettingsFor(auth, { ...service, audience: 'query' }).audience, 'query');
    assert.throws(
      () => jwtSettingsFor({ ...auth, allowAnyAudience: true }, service),
      (err: unknown) =>
        isStreamingError(err) && /ALLOW_ANY_AUDIENCE is for development only, but STREAMING_PROCESSOR__QUERY_HOST is "0.0.0.0"/.test(err.message),
    );
    assert.equal(jwtSettingsFor({ ...auth, allowAnyAudience: true }, { ...service, host: '127.0.0.1' }).audience, undefined);
    const hsOnly = jwtSettingsFor({ ...base.auth, jwtSecret: SECRET }, service);
    assert.equal(hsOnly.secret, SECRET, 'a shared secret is per deployment: no audience needed');
  });

  it('a JWKS that stops answering keeps verifying with the keys it already has', async () => {
    let up = true;
    const server: Server = createServer((_req, res) => {
      if (!up) return void res.writeHead(503).end();
      res.end(JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const jwks = new Jwks(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, { minRefreshMs: 0, maxAgeMs: 0 }); // every call refreshes
      const s: JwtSettings = { algorithms: ['RS256'], jwks };
      assert.equal((await verifyJwt(signed('RS256', { exp: nowS() + 60, sub: 'a' }, rsa.privateKey, 'r1'), s)).sub, 'a');
      up = false;
      assert.equal((await verifyJwt(signed('RS256', { exp: nowS() + 60, sub: 'b' }, rsa.privateKey, 'r1'), s)).sub, 'b', 'the cached key still verifies');
      await assert.rejects(verifyJwt(signed('RS256', { exp: nowS() + 60 }, rsa.privateKey, 'r2'), s), KeysUnavailable, 'an unknown kid waits for the set');
    } finally {
      server.close();
    }
  });
});
