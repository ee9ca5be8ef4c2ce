import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import fastify from 'fastify';
import { TokenError } from '../../../src/auth/jwt';
import { loadConfig } from '../../../src/config';
import type { FanoutContext } from '../../../src/fanout/context';
import { hideInternalErrors } from '../../../src/fanout/http-errors';
import { FanoutMetrics } from '../../../src/fanout/metrics';
import { admit } from '../../../src/fanout/upgrade';
import { FanoutServer } from '../../../src/fanout/server';
import { createLogger } from '../../../src/logger';

/** What a logger wrote, one object per line. */
function capturedLog(): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger({ level: 'info' }, 'test', { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) }) };
}

const INTERNAL = /\/work\/|\/src\/|https?:\/\/|ECONNREFUSED|10\.0\.0\.7|\bat \w+ \(/;

describe('fan-out: what error answers say (and what only the log says)', () => {
  const ctx = (verify: FanoutContext['verify']): FanoutContext =>
    ({ settings: loadConfig({}).websocket, metrics: new FanoutMetrics(), source: { ready: () => true }, verify }) as unknown as FanoutContext;
  const req = { headers: { authorization: 'Bearer x.y.z' }, url: '/ws' } as unknown as IncomingMessage;
  const room = { open: 0, perIp: 0, shuttingDown: false };

  it("an upgrade whose token cannot be checked for a reason of the server's: 503, temporary, the cause kept for the log only", async () => {
    const cause = new Error('fetching http://keycloak.internal:8080/realms/x/certs failed: connect ECONNREFUSED 10.0.0.7:8080');
    const verdict = await admit(
      req,
      '127.0.0.1',
      room,
      ctx(() => Promise.reject(cause)),
    );
    assert.ok('refusal' in verdict);
    assert.equal(verdict.refusal.status, 503);
    assert.equal(verdict.refusal.code, 'SA_ERR_WS_UNAVAILABLE');
    assert.doesNotMatch(`${verdict.refusal.message} ${verdict.refusal.hint}`, INTERNAL);
    assert.equal(verdict.refusal.cause, cause);
  });

  it('a refused token: 401 saying why (a TokenError is written for the client)', async () => {
    const verdict = await admit(
      req,
      '127.0.0.1',
      room,
      ctx(() => Promise.reject(new TokenError("the token's signature does not verify"))),
    );
    assert.ok('refusal' in verdict);
    assert.equal(verdict.refusal.status, 401);
    assert.match(verdict.refusal.message, /signature does not verify/);
    assert.equal(verdict.refusal.cause, undefined);
  });

  it('an HTTP request that fails on the server: 500 with a stable code and no path; the log has the cause', async () => {
    const { log, lines } = capturedLog();
    const app = fastify({ logger: false });
    hideInternalErrors(app, log);
    app.get('/dashboard/app.js', async () => readFileSync('/work/nowhere/src/fanout/dashboard/app.js'));
    const res = await app.inject({ method: 'GET', url: '/dashboard/app.js' });
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().error.code, 'SA_ERR_WS_UNAVAILABLE');
    assert.doesNotMatch(res.body, INTERNAL);
    assert.doesNotMatch(res.body, /ENOENT/);
    assert.match(JSON.stringify(lines), /\/work\/nowhere/);
    const bad = await app.inject({ method: 'GET', url: '/dashboard/%zz' });
    assert.equal(bad.statusCode, 400, 'a client error keeps its status');
    await app.close();
  });

  it("the fan-out's listeners answer a URL that cannot even be routed with a typed 400, as any bad request", async () => {
    const settings = { ...loadConfig({}).websocket, host: '127.0.0.1', port: 0, adminPort: 0 };
    const server = new FanoutServer(
      {
        settings,
        metrics: new FanoutMetrics(),
        source: { ready: () => true, readBacks: { stats: () => ({ running: 0, waiting: 0 }) } },
        verify: () => Promise.reject(new Error('unused')),
        forget: () => undefined,
      } as unknown as FanoutContext,
      createLogger({ level: 'silent' }),
    );
    for (const app of [server.app, server.admin]) {
      const res = await app.inject({ method: 'GET', url: '/dashboard/%ZZ%' });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error.code, 'SA_ERR_WS_BAD_REQUEST');
    }
    const off = await server.app.inject({ method: 'GET', url: '/dev/token', headers: { host: '127.0.0.1:8765' } });
    assert.equal(off.statusCode, 404, 'development tokens are off here');
    await server.close(0);
  });

  it('development tokens go only to requests that name a loopback host (a DNS-rebinding page is refused)', async () => {
    const settings = { ...loadConfig({}).websocket, host: '127.0.0.1', port: 0, adminPort: 0, devTokens: true };
    const server = new FanoutServer(
      {
        settings,
        devTokens: { secret: 'dev-secret-that-is-long-enough-0000000' },
        metrics: new FanoutMetrics(),
        source: { ready: () => true, readBacks: { stats: () => ({ running: 0, waiting: 0 }) } },
        verify: () => Promise.reject(new Error('unused')),
        forget: () => undefined,
      } as unknown as FanoutContext,
      createLogger({ level: 'silent' }),
    );
    for (const host of ['evil.example:8765', 'evil.example', '127.0.0.1.evil.example:8765', 'localhost.evil.example']) {
      const res = await server.app.inject({ method: 'GET', url: '/dev/token', headers: { host } });
      assert.equal(res.statusCode, 403, host);
      assert.equal(res.json().error.code, 'SA_ERR_WS_ORIGIN_FORBIDDEN');
    }
    for (const host of ['127.0.0.1:8765', 'localhost:8765', '[::1]:8765']) {
      const res = await server.app.inject({ method: 'GET', url: '/dev/token?channels=alerts', headers: { host } });
      assert.equal(res.statusCode, 200, host);
      assert.match(res.json().token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    }
    await server.close(0);
  });
});
