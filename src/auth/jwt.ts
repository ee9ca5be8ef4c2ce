/**
 * JWT verification for the query API and the fan-out tier, on node:crypto alone. The
 * accepted algorithms are pinned by configuration and each has its own key: HS256
 * verifies only with the shared secret, RS256/ES256 only with an RSA/EC public key (a PEM
 * file, or a JWKS URL by `kid`). A token naming any other algorithm — `none` included —
 * is refused before any key is touched, which rules out the alg-confusion attacks that
 * broke JWT libraries (CVE-2022-23540, CVE-2023-48223). A header with `crit` (extensions
 * this code does not implement) is refused, as RFC 7515 §4.1.11 requires. `exp` and `iat`
 * are required and a token may live at most `maxLifetimeSeconds`; `nbf`, `iss` and `aud`
 * are checked when present or configured.
 */
import { createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { StreamingError } from '../errors';

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface Claims {
  sub?: string;
  exp: number;
  iat: number;
  nbf?: number;
  iss?: string;
  aud?: string | string[];
  [claim: string]: unknown;
}

/** Public keys by kid (a JWKS, jwks.ts). */
export interface KeySet {
  key(kid: string | undefined): Promise<KeyObject | undefined>;
}

export interface JwtSettings {
  algorithms: readonly JwtAlgorithm[];
  secret?: string;
  publicKey?: KeyObject;
  jwks?: KeySet;
  issuer?: string;
  /** The `aud` a token must name; unset: not checked (settings.ts refuses that for public-key tokens unless allowed). */
  audience?: string;
  /** Longest exp − iat accepted (s). Default 86400. */
  maxLifetimeSeconds?: number;
  /** Clock skew tolerated on exp/nbf/iat (s). */
  leewaySeconds?: number;
}

/**
 * Why a token was refused: shown to the client (no secrets in it). Its code is the same
 * wherever it is thrown; the query API answers it as SA_ERR_QUERY_UNAUTHORIZED and the
 * fan-out as SA_ERR_WS_UNAUTHORIZED, the 401 of each.
 */
export class TokenError extends StreamingError {
  constructor(message: string) {
    super('SA_ERR_TOKEN_REFUSED', message, { hint: "get a new token from the identity provider (for this service's audience)" });
    this.name = 'TokenError';
  }
}

/** Longer than any real token (header, claims and an RS256 signature are well under 4 KiB). */
const MAX_TOKEN_LENGTH = 8192;

export async function verifyJwt(token: string, s: JwtSettings, nowMs = Date.now()): Promise<Claims> {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError(`the token is longer than ${MAX_TOKEN_LENGTH} characters`);
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new TokenError('the token is not a compact JWT (three base64url parts)');
  const [h, p, sig] = parts as [string, string, string];
  const header = decodeJson(h, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(s.algorithms as readonly string[]).includes(alg))
    throw new TokenError(`the token's algorithm ${JSON.stringify(alg)} is not accepted (accepted: ${s.algorithms.join(', ')})`);
  if (header.crit !== undefined) throw new TokenError('the token\'s header lists critical extensions ("crit"), which this service does not implement');
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(sig, 'base64url');
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  if (!(await signatureValid(alg as JwtAlgorithm, data, signature, kid, s))) throw new TokenError("the token's signature does not verify");
  return checkClaims(decodeJson(p, 'payload'), s, nowMs);
}

async function signatureValid(alg: JwtAlgorithm, data: Buffer, signature: Buffer, kid: string | undefined, s: JwtSettings): Promise<boolean> {
  if (alg === 'HS256') {
    if (!s.secret) throw new TokenError('HS256 tokens are not accepted here (no shared secret configured)');
    const expected = createHmac('sha256', s.secret).update(data).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  const key = s.jwks ? await s.jwks.key(kid) : s.publicKey;
  if (!key) throw new TokenError(`no public key for ${alg} tokens${kid ? ` with kid ${JSON.stringify(kid.slice(0, 100))}` : ''}`);
  const wanted = alg === 'RS256' ? 'rsa' : 'ec';
  if (key.asymmetricKeyType !== wanted)
    throw new TokenError(`the key for this token is ${key.asymmetricKeyType ?? 'not asymmetric'}, not ${wanted} as ${alg} needs`);
  if (alg === 'ES256' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new TokenError('ES256 needs a P-256 key');
  return alg === 'RS256' ? verify('sha256', data, key, signature) : verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

function checkClaims(c: Record<string, unknown>, s: JwtSettings, nowMs: number): Claims {
  const now = nowMs / 1000;
  const leeway = s.leewaySeconds ?? 5;
  const maxLifetime = s.maxLifetimeSeconds ?? 86_400;
  if (typeof c.exp !== 'number' || !Number.isFinite(c.exp)) throw new TokenError('the token has no exp (expiry) claim');
  if (c.exp + leeway <= now) throw new TokenError(`the token expired at ${new Date(c.exp * 1000).toISOString()}`);
  if (typeof c.iat !== 'number' || !Number.isFinite(c.iat)) throw new TokenError('the token has no iat (issued-at) claim');
  if (c.iat - leeway > now) throw new TokenError('the token was issued in the future (iat)');
  if (c.exp - c.iat > maxLifetime)
    throw new TokenError(`the token lives ${Math.round(c.exp - c.iat)} s, longer than the ${maxLifetime} s this service accepts`);
  if (c.nbf !== undefined && (typeof c.nbf !== 'number' || c.nbf - leeway > now)) throw new TokenError('the token is not valid yet (nbf)');
  if (s.issuer !== undefined && c.iss !== s.issuer) throw new TokenError(`the token's issuer is not ${JSON.stringify(s.issuer)}`);
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

/** HS256 signing: development tokens and tests (the services never sign otherwise). `iat` is now unless given. */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify({ iat: Math.floor(Date.now() / 1000), ...claims })).toString('base64url');
  return `${h}.${p}.${createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
}
