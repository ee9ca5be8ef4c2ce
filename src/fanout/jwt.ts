/**
 * JWT verification for the fan-out tier, on node:crypto alone. The accepted algorithms
 * are pinned by configuration and each has its own key: HS256 verifies only with the
 * shared secret, RS256/ES256 only with an RSA/EC public key (a PEM file, or a JWKS URL
 * by `kid`). A token naming any other algorithm — `none` included — is refused before
 * any key is touched, which rules out the alg-confusion attacks that broke JWT
 * libraries (CVE-2022-23540, CVE-2023-48223). `exp` is required; `nbf`, `iss` and `aud`
 * are checked when present or configured.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { JWT_ALGORITHMS } from '../config/schema';

export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface Claims {
  sub?: string;
  exp: number;
  nbf?: number;
  iss?: string;
  aud?: string | string[];
  [claim: string]: unknown;
}

export interface JwtSettings {
  algorithms: readonly JwtAlgorithm[];
  secret?: string;
  publicKey?: KeyObject;
  jwks?: Jwks;
  issuer?: string;
  audience?: string;
  /** Clock skew tolerated on exp/nbf (s). */
  leewaySeconds?: number;
}

/** Why a token was refused: shown to the client (no secrets in it). */
export class TokenError extends Error {}

export async function verifyJwt(token: string, s: JwtSettings, nowMs = Date.now()): Promise<Claims> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new TokenError('the token is not a compact JWT (three base64url parts)');
  const [h, p, sig] = parts as [string, string, string];
  const header = decodeJson(h, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(s.algorithms as readonly string[]).includes(alg)) throw new TokenError(`the token's algorithm ${JSON.stringify(alg)} is not accepted (accepted: ${s.algorithms.join(', ')})`);
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(sig, 'base64url');
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  if (!(await signatureValid(alg as JwtAlgorithm, data, signature, kid, s))) throw new TokenError('the token\'s signature does not verify');
  return checkClaims(decodeJson(p, 'payload'), s, nowMs);
}

async function signatureValid(alg: JwtAlgorithm, data: Buffer, signature: Buffer, kid: string | undefined, s: JwtSettings): Promise<boolean> {
  if (alg === 'HS256') {
    if (!s.secret) throw new TokenError('HS256 tokens are not accepted here (no shared secret configured)');
    const expected = createHmac('sha256', s.secret).update(data).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  const key = s.jwks ? await s.jwks.key(kid) : s.publicKey;
  if (!key) throw new TokenError(`no public key for ${alg} tokens${kid ? ` with kid ${JSON.stringify(kid)}` : ''}`);
  const wanted = alg === 'RS256' ? 'rsa' : 'ec';
  if (key.asymmetricKeyType !== wanted) throw new TokenError(`the key for this token is ${key.asymmetricKeyType ?? 'not asymmetric'}, not ${wanted} as ${alg} needs`);
  if (alg === 'ES256' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new TokenError('ES256 needs a P-256 key');
  return alg === 'RS256' ? verify('sha256', data, key, signature) : verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

function checkClaims(c: Record<string, unknown>, s: JwtSettings, nowMs: number): Claims {
  const now = nowMs / 1000;
  const leeway = s.leewaySeconds ?? 5;
  if (typeof c.exp !== 'number') throw new TokenError('the token has no exp (expiry) claim');
  if (c.exp + leeway <= now) throw new TokenError(`the token expired at ${new Date(c.exp * 1000).toISOString()}`);
  if (c.nbf !== undefined && (typeof c.nbf !== 'number' || c.nbf - leeway > now)) throw new TokenError('the token is not valid yet (nbf)');
  if (s.issuer !== undefined && c.iss !== s.issuer) throw new TokenError(`the token's issuer ${JSON.stringify(c.iss)} is not ${JSON.stringify(s.issuer)}`);
  if (s.audience !== undefined) {
    const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!aud.includes(s.audience)) throw new TokenError(`the token's audience does not include ${JSON.stringify(s.audience)}`);
  }
  return c as Claims;
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new TokenError(`the token's ${what} is not a base64url JSON object`);
}

/** HS256 signing: development tokens and tests (the fan-out never signs otherwise). */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${h}.${p}.${createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
}

/**
 * Public keys from a JWKS URL, by kid. The set is fetched again for an unknown kid (at
 * most every `minRefreshMs`) and when it is older than `maxAgeMs`, so a key removed from
 * the set stops verifying. A key that cannot be used is skipped, not the whole set.
 */
export class Jwks {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private pending: Promise<void> | undefined;

  constructor(private readonly url: string, private readonly minRefreshMs = 30_000, private readonly maxAgeMs = 600_000) {}

  async key(kid: string | undefined): Promise<KeyObject | undefined> {
    if (kid === undefined) throw new TokenError('the token has no kid, which a JWKS needs to pick its key');
    const age = Date.now() - this.fetchedAt;
    if (age >= this.maxAgeMs || (!this.keys.has(kid) && age >= this.minRefreshMs)) await (this.pending ??= this.refresh().finally(() => (this.pending = undefined)));
    return this.keys.get(kid);
  }

  private async refresh(): Promise<void> {
    this.fetchedAt = Date.now();
    let body: { keys?: ({ kid?: string } & Record<string, unknown>)[] };
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as typeof body;
    } catch (err) {
      // The client is told the keys are unavailable, not where they live or why.
      throw new TokenError('the keys to verify tokens are unavailable right now; retry', { cause: err });
    }
    const keys = new Map<string, KeyObject>();
    for (const jwk of body.keys ?? []) {
      if (typeof jwk.kid !== 'string') continue;
      try {
        keys.set(jwk.kid, createPublicKey({ key: jwk as never, format: 'jwk' }));
      } catch {
        // not a public key this process can use (e.g. a symmetric one): skipped
      }
    }
    this.keys = keys;
  }
}
