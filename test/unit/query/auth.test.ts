import { strict as assert } from 'node:assert';
import { KeysUnavailable } from '../../../src/auth/jwks';
import { TokenError, type Claims } from '../../../src/auth/jwt';
import { memoryQueryServer } from '../../support/query-server';

const claims = (stores: unknown): Claims => ({ exp: 2e9, iat: 1e9, stores });

describe('query API: who may ask', () => {
  it("a token the server cannot check (keys unavailable) is 503 and temporary, not the caller's 401", async () => {
    const app = memoryQueryServer('murmur2', {
      verify: () => Promise.reject(new KeysUnavailable('the keys to verify tokens are unavailable right now; retry')),
    });
    const res = await app.inject({ method: 'GET', url: '/stores', headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error.code, 'SA_ERR_QUERY_UNAVAILABLE');
    assert.equal(res.json().error.retriable, true);
    await app.close();
  });

  it('a refused token is 401 with WWW-Authenticate; a store not granted is 403; "*" and names grant', async () => {
    const verify = (t: string): Promise<Claims> =>
      t === 'all'
        ? Promise.resolve(claims(['*']))
        : t === 'counts'
          ? Promise.resolve(claims('counts'))
          : Promise.reject(new TokenError("the token's signature does not verify"));
    const app = memoryQueryServer('unknown', { verify }, true); // every candidate asked: k1 is found in partition 0, wherever murmur2 puts it
    const ask = (token: string, url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    const refused = await ask('forged', '/stores/counts/keys/k1');
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['www-authenticate'], 'Bearer');
    assert.match(refused.json().error.message, /signature/);
    assert.equal((await ask('counts', '/stores/counts/keys/k1')).statusCode, 200);
    assert.equal((await ask('counts', '/stores/per-minute/keys/k1/windows')).statusCode, 403);
    assert.equal((await ask('all', '/stores/per-minute/keys/k1/windows')).statusCode, 200);
    assert.deepEqual(
      (await ask('counts', '/stores')).json().stores.map((s: { name: string }) => s.name),
      ['counts'],
    );
    await app.close();
  });
});
