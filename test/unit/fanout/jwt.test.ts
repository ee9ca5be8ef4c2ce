import { strict as assert } from 'node:assert';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Jwks, signHs256, verifyJwt, TokenError, type JwtSettings } from '../../../src/fanout/jwt';

const SECRET = 'a-test-secret-that-is-long-enough-32+';
const now = Math.floor(Date.now() / 1000);
const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function signed(alg: 'RS256' | 'ES256', claims: object, key = alg === 'RS256' ? rsa.privateKey : ec.privateKey, kid?: string): string {
  const data = `${b64({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })}.${b64(claims)}`;
  const sig = alg === 'RS256' ? sign('sha256', Buffer.from(data), key) : sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' });
  return `${data}.${sig.toString('base64url')}`;
}

async function refused(token: string, s: JwtSettings, pattern: RegExp): Promise<void> {
  await assert.rejects(verifyJwt(token, s), (err: unknown) => err instanceof TokenError && pattern.test(err.message));
}

describe('fan-out: JWT verification', () => {
  const hs: JwtSettings = { algorithms: ['HS256'], secret: SECRET };

  it('accepts a valid HS256 token and returns its claims', async () => {
    const claims = await verifyJwt(signHs256({ sub: 'u1', exp: now + 60, channels: ['alerts'] }, SECRET), hs);
    assert.equal(claims.sub, 'u1');
    assert.deepEqual(claims.channels, ['alerts']);
  });

  it('refuses a bad signature, alg none, a missing or past exp, a future nbf', async () => {
    const good = signHs256({ exp: now + 60 }, SECRET);
    await refused(`${good.slice(0, good.lastIndexOf('.'))}.${Buffer.from('x').toString('base64url')}`, hs, /signature/);
    await refused(signHs256({ exp: now + 60 }, 'another-secret-of-enough-length-000'), hs, /signature/);
    await refused(`${b64({ alg: 'none' })}.${b64({ exp: now + 60 })}.`, hs, /algorithm "none" is not accepted/);
    await refused(signHs256({ sub: 'x' }, SECRET), hs, /no exp/);
    await refused(signHs256({ exp: now - 60 }, SECRET), hs, /expired/);
    await refused(signHs256({ exp: now + 60, nbf: now + 60 }, SECRET), hs, /not valid yet/);
    await refused('not-a-jwt', hs, /compact JWT/);
    const notJson = `${b64({ alg: 'HS256' })}.bm90IGpzb24`; // signed, but its payload is not JSON
    await refused(`${notJson}.${createHmac('sha256', SECRET).update(notJson).digest('base64url')}`, hs, /payload/);
  });

  it('checks iss and aud when configured', async () => {
    const s: JwtSettings = { ...hs, issuer: 'idp', audience: 'dash' };
    await verifyJwt(signHs256({ exp: now + 60, iss: 'idp', aud: ['other', 'dash'] }, SECRET), s);
    await refused(signHs256({ exp: now + 60, iss: 'evil', aud: 'dash' }, SECRET), s, /issuer/);
    await refused(signHs256({ exp: now + 60, iss: 'idp', aud: 'other' }, SECRET), s, /audience/);
  });

  it('verifies RS256 and ES256 with a public key, pinned: an algorithm not listed is refused', async () => {
    const rs: JwtSettings = { algorithms: ['RS256'], publicKey: rsa.publicKey };
    assert.equal((await verifyJwt(signed('RS256', { exp: now + 60, sub: 'r' }), rs)).sub, 'r');
    const es: JwtSettings = { algorithms: ['ES256'], publicKey: ec.publicKey };
    assert.equal((await verifyJwt(signed('ES256', { exp: now + 60, sub: 'e' }), es)).sub, 'e');
    await refused(signed('ES256', { exp: now + 60 }), rs, /algorithm "ES256" is not accepted/);
    await refused(signed('RS256', { exp: now + 60 }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey), rs, /signature/);
  });

  it('refuses the RS→HS confusion: a token signed with HMAC over the public key never verifies', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const data = `${b64({ alg: 'HS256' })}.${b64({ exp: now + 60 })}`;
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
      const s: JwtSettings = { algorithms: ['RS256', 'ES256'], jwks: new Jwks(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, 0) };
      assert.equal((await verifyJwt(signed('RS256', { exp: now + 60, sub: 'j' }, rsa.privateKey, 'r1'), s)).sub, 'j');
      await refused(signed('ES256', { exp: now + 60 }, ec.privateKey, 'e1'), s, /no public key for ES256 tokens with kid "e1"/);
      keys.push({ ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1' }); // a key rotated in
      assert.equal((await verifyJwt(signed('ES256', { exp: now + 60, sub: 'e' }, ec.privateKey, 'e1'), s)).sub, 'e');
      assert.equal(fetches, 3);
      await refused(signed('RS256', { exp: now + 60 }, rsa.privateKey, 'e1'), s, /is ec, not rsa/);
      await refused(signed('RS256', { exp: now + 60 }), s, /no kid/);
    } finally {
      server.close();
    }
  });
});
