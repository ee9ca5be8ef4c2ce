/**
 * From the STREAMING_AUTH__* settings to the verification settings of one service (the
 * query API, the fan-out). Both services share the identity provider's keys but each
 * names its own audience: a token an identity provider issued for another service must
 * not open this one, so with public-key tokens an audience is required (unless the
 * development opt-out is set, which only a loopback listener may use).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from './schema';
import { isLoopbackHost } from '../net/hosts';
import { StreamingError } from '../errors';
import { Jwks } from '../auth/jwks';
import type { JwtAlgorithm, JwtSettings } from '../auth/jwt';

export interface ServiceAuth {
  /** "the query API", "the fan-out": for messages. */
  name: string;
  host: string;
  hostVariable: string;
  audience: string | undefined;
  audienceVariable: string;
  /** Another way out, added to the hint (e.g. listening on loopback instead). */
  alternative?: string;
}

/** The token settings of a service, or one typed error naming every setting that is missing or refused. */
export function jwtSettingsFor(auth: Config['auth'], service: ServiceAuth): JwtSettings {
  const algorithms = auth.jwtAlgorithms as readonly JwtAlgorithm[];
  const asymmetric = algorithms.some((a) => a !== 'HS256');
  const problems = keyProblems(auth, algorithms, asymmetric);
  if (asymmetric && service.audience === undefined && !auth.allowAnyAudience) {
    problems.push(
      `tokens are verified with a public key, so ${service.audienceVariable} must name the audience ${service.name} accepts (tokens of the identity provider meant for other services would open it otherwise); STREAMING_AUTH__ALLOW_ANY_AUDIENCE=true turns this off in development`,
    );
  }
  if (auth.allowAnyAudience && !isLoopbackHost(service.host)) {
    problems.push(
      `STREAMING_AUTH__ALLOW_ANY_AUDIENCE is for development only, but ${service.hostVariable} is ${JSON.stringify(service.host)}, not a loopback address`,
    );
  }
  const publicKey = asymmetric && auth.jwtPublicKeyFile ? readPublicKey(auth.jwtPublicKeyFile, problems) : undefined;
  if (problems.length > 0)
    throw new StreamingError('SA_ERR_CONFIG_INVALID', `${service.name} cannot verify tokens: ${problems.join('; ')}`, {
      hint: `see the STREAMING_AUTH__* rows of the configuration table in the README, and docs/security.md${service.alternative ? `; ${service.alternative}` : ''}`,
    });
  return {
    algorithms,
    maxLifetimeSeconds: auth.maxTokenLifetimeSeconds,
    ...(auth.jwtSecret ? { secret: auth.jwtSecret } : {}),
    ...(publicKey ? { publicKey } : {}),
    ...(asymmetric && auth.jwksUrl ? { jwks: new Jwks(auth.jwksUrl) } : {}),
    ...(auth.jwtIssuer ? { issuer: auth.jwtIssuer } : {}),
    ...(service.audience !== undefined ? { audience: service.audience } : {}),
  };
}

function keyProblems(auth: Config['auth'], algorithms: readonly JwtAlgorithm[], asymmetric: boolean): string[] {
  const problems: string[] = [];
  if (algorithms.includes('HS256') && !auth.jwtSecret) problems.push('HS256 is accepted but STREAMING_AUTH__JWT_SECRET is not set');
  const named = algorithms.filter((a) => a !== 'HS256').join('/');
  if (asymmetric && !auth.jwtPublicKeyFile && !auth.jwksUrl)
    problems.push(`${named} is accepted but neither STREAMING_AUTH__JWT_PUBLIC_KEY_FILE nor STREAMING_AUTH__JWKS_URL is set`);
  if (asymmetric && auth.jwtPublicKeyFile && auth.jwksUrl)
    problems.push('both STREAMING_AUTH__JWT_PUBLIC_KEY_FILE and STREAMING_AUTH__JWKS_URL are set: keep one');
  return problems;
}

function readPublicKey(file: string, problems: string[]): KeyObject | undefined {
  try {
    return createPublicKey(readFileSync(file));
  } catch {
    problems.push(`STREAMING_AUTH__JWT_PUBLIC_KEY_FILE (${file}) is not a PEM public key`);
    return undefined;
  }
}
