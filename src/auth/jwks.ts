/**
 * Public keys from a JWKS URL, by kid. The set is fetched again for an unknown kid (at
 * most every `minRefreshMs`) and when it is older than `maxAgeMs`, so a key removed from
 * the set stops verifying. A key that cannot be used is skipped, not the whole set.
 *
 * Whoever can change this answer can mint tokens, so the fetch trusts nothing: https://
 * only (plain http:// only on a loopback address), no redirect followed (a redirect could
 * send the fetch anywhere), the whole answer within `timeoutMs` and `maxBytes` (read with
 * a byte count, never buffered past the cap), at most `maxKeys` keys.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isLoopbackHost } from '../net/hosts';
import { StreamingError } from '../errors';
import { readCapped } from '../net/capped-body';
import { TokenError, type KeySet } from './jwt';

/** The key set could not be fetched: the server's trouble, not the token's (503, not 401). */
export class KeysUnavailable extends Error {}

export interface JwksOptions {
  minRefreshMs?: number;
  maxAgeMs?: number;
  timeoutMs?: number;
  maxBytes?: number;
  maxKeys?: number;
}

export class Jwks implements KeySet {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private pending: Promise<void> | undefined;
  private readonly o: Required<JwksOptions>;

  constructor(
    private readonly url: string,
    options: JwksOptions = {},
  ) {
    this.o = { minRefreshMs: 30_000, maxAgeMs: 600_000, timeoutMs: 5_000, maxBytes: 256 * 1024, maxKeys: 100, ...options };
    const u = new URL(url);
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
      throw new StreamingError('SA_ERR_CONFIG_INVALID', `the JWKS URL ${u.origin} is not https://`, {
        hint: 'serve the key set over https:// (plain http:// is accepted only on a loopback address)',
      });
    }
  }

  async key(kid: string | undefined): Promise<KeyObject | undefined> {
    if (kid === undefined) throw new TokenError('the token has no kid, which a JWKS needs to pick its key');
    const age = Date.now() - this.fetchedAt;
    if (age >= this.o.maxAgeMs || (!this.keys.has(kid) && age >= this.o.minRefreshMs)) {
      try {
        await (this.pending ??= this.refresh().finally(() => (this.pending = undefined)));
      } catch (err) {
        // A failed refresh keeps the keys already known: only a kid never seen waits for the set.
        if (!this.keys.has(kid)) throw err;
      }
    }
    return this.keys.get(kid);
  }

  private async refresh(): Promise<void> {
    this.fetchedAt = Date.now();
    let body: unknown;
    try {
      body = JSON.parse(await this.fetchText());
    } catch (err) {
      // The client is told the keys are unavailable, not where they live or why (the cause is for the log).
      throw new KeysUnavailable('the keys to verify tokens are unavailable right now; retry', { cause: err });
    }
    const list = (body as { keys?: unknown } | null)?.keys;
    const keys = new Map<string, KeyObject>();
    for (const jwk of Array.isArray(list) ? list.slice(0, this.o.maxKeys) : []) {
      if (jwk === null || typeof jwk !== 'object' || typeof (jwk as { kid?: unknown }).kid !== 'string') continue;
      try {
        keys.set((jwk as { kid: string }).kid, createPublicKey({ key: jwk as never, format: 'jwk' }));
      } catch {
        // not a public key this process can use (e.g. a symmetric one): skipped
      }
    }
    this.keys = keys;
  }

  private async fetchText(): Promise<string> {
    const res = await fetch(this.url, { redirect: 'manual', signal: AbortSignal.timeout(this.o.timeoutMs), headers: { accept: 'application/json' } });
    if (res.status >= 300 && res.status < 400) throw new Error(`the JWKS URL answered a redirect (HTTP ${res.status}), which is not followed`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await readCapped(res, this.o.maxBytes)).toString('utf8');
  }
}
