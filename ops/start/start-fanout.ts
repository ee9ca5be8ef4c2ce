/**
 * For `npm start` on the local stack: the fan-out tier as its own process (as it runs in
 * production: a separate Deployment), with development tokens so the dashboard can
 * connect. Its token secret is made per run unless STREAMING_AUTH__JWT_SECRET is set,
 * and it listens on 127.0.0.1 (another loopback address if STREAMING_WEBSOCKET__HOST says
 * so; anything else is refused) — a token-minting endpoint must not face the network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Config } from '../../src/config';
import { isLoopbackHost, reachableUrl } from '../../src/net/hosts';
import { StreamingError } from '../../src/errors';
import { join } from 'node:path';
import { scriptCommand } from '../../src/script';

export interface LocalFanout {
  url: string;
  adminUrl: string;
  stop(): Promise<void>;
}

/** Before anything starts: the local fan-out's development tokens must stay on a loopback address. */
export function checkLocalFanoutHost(): void {
  const host = process.env.STREAMING_WEBSOCKET__HOST;
  if (host !== undefined && !isLoopbackHost(host)) {
    throw new StreamingError(
      'SA_ERR_CONFIG_INVALID',
      `npm start turns on development tokens for the dashboard, which must not face the network, but STREAMING_WEBSOCKET__HOST is ${host}`,
      { hint: 'unset STREAMING_WEBSOCKET__HOST (npm start listens on 127.0.0.1), or run `npm run fanout` with real tokens' },
    );
  }
}

export async function startLocalFanout(config: Config): Promise<LocalFanout> {
  checkLocalFanoutHost();
  const env = {
    ...process.env,
    STREAMING_WEBSOCKET__DEV_TOKENS: 'true',
    STREAMING_AUTH__JWT_SECRET: process.env.STREAMING_AUTH__JWT_SECRET ?? randomBytes(32).toString('hex'),
    STREAMING_WEBSOCKET__HOST: process.env.STREAMING_WEBSOCKET__HOST ?? '127.0.0.1',
  };
  const script = scriptCommand(__filename, join(__dirname, '..', '..', 'src', 'cli'), 'fanout');
  const child = spawn(script.command, script.args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = reachableUrl(env.STREAMING_WEBSOCKET__HOST, config.websocket.port);
  const adminUrl = reachableUrl(config.websocket.adminHost, config.websocket.adminPort);
  await untilReady(child, adminUrl, config.websocket.port);
  return { url, adminUrl, stop: () => stop(child) };
}

async function untilReady(child: ChildProcess, adminUrl: string, port: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new StreamingError('SA_ERR_WS_UNAVAILABLE', `the fan-out tier exited with ${child.exitCode} before it was ready (see its log above)`, {
        hint: `is port ${port} or ${new URL(adminUrl).port} taken? Set STREAMING_WEBSOCKET__PORT or STREAMING_WEBSOCKET__ADMIN_PORT`,
      });
    const ready = await fetch(`${adminUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new StreamingError('SA_ERR_WS_UNAVAILABLE', `the fan-out tier was not ready within 60 s (${adminUrl}/readyz)`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  return exited;
}
