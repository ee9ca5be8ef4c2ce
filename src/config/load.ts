/**
 * Reads STREAMING_* variables once, at the edge: every problem is collected (not just
 * the first), and reported as one line per variable naming what was given and what
 * is expected. Inside the program only the typed `Config` travels.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StreamingError } from '../errors';
import { censorUrlCredentials, type Field } from './fields';
import { isLoopbackHost } from '../net/hosts';
import { schema, type Config } from './schema';

export const ENV_PREFIX = 'STREAMING_';

export interface ConfigIssue {
  readonly variable: string;
  /** What is wrong with what was given ('not set', 'got "x"', …); secrets are never echoed. */
  readonly problem: string;
  readonly expected: string;
}

export class ConfigError extends StreamingError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super('SA_ERR_CONFIG_INVALID', `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'})`, {
      hint: 'fix the variables above; the configuration table in README.md lists every setting',
    });
    this.issues = issues;
  }

  /** One line per bad variable. */
  lines(): string[] {
    return this.issues.map((i) => `${i.variable}: ${i.problem}; expected ${i.expected}`);
  }
}

export function envName(section: string, key: string): string {
  return `${ENV_PREFIX}${snake(section)}__${snake(key)}`;
}

function snake(camel: string): string {
  return camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export function showGiven(field: Field<unknown>, raw: string): string {
  return field.secret ? `got a secret of ${raw.length} characters` : `got ${JSON.stringify(censorUrlCredentials(raw))}`;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses and validates the environment; throws ConfigError listing every problem. */
export function loadConfig(env: Env = process.env): Config {
  const issues: ConfigIssue[] = [];
  const out: Record<string, Record<string, unknown>> = {};
  const known = new Set<string>();
  for (const [section, fields] of Object.entries(schema)) {
    out[section] = {};
    for (const [key, field] of Object.entries(fields) as [string, Field<unknown>][]) {
      const name = envName(section, key);
      known.add(name);
      out[section]![key] = readField(name, field, env[name], issues);
    }
  }
  issues.push(...unknownVariables(env, known));
  const config = out as unknown as Config;
  applyDerivedDefaults(config, env);
  if (issues.length === 0) issues.push(...crossCheck(config));
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

function readField(name: string, field: Field<unknown>, raw: string | undefined, issues: ConfigIssue[]): unknown {
  if (raw === undefined || raw === '') return field.fallback;
  const parsed = field.parse(raw);
  if (parsed.ok) return parsed.value;
  issues.push({ variable: name, problem: showGiven(field, raw), expected: field.expected });
  return field.fallback;
}

/** Variables that moved: one setting now serves both the query API and the fan-out. */
const MOVED: Readonly<Record<string, string>> = {
  STREAMING_WEBSOCKET__JWT_ALGORITHMS: 'STREAMING_AUTH__JWT_ALGORITHMS',
  STREAMING_WEBSOCKET__JWT_SECRET: 'STREAMING_AUTH__JWT_SECRET',
  STREAMING_WEBSOCKET__JWT_PUBLIC_KEY_FILE: 'STREAMING_AUTH__JWT_PUBLIC_KEY_FILE',
  STREAMING_WEBSOCKET__JWKS_URL: 'STREAMING_AUTH__JWKS_URL',
  STREAMING_WEBSOCKET__JWT_ISSUER: 'STREAMING_AUTH__JWT_ISSUER',
};

function unknownVariables(env: Env, known: Set<string>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || known.has(name)) continue;
    const moved = MOVED[name];
    if (moved) {
      issues.push({ variable: name, problem: 'moved', expected: `${moved} (the same setting, shared by the query API and the fan-out)` });
      continue;
    }
    const guess = closest(name, known);
    const expected = guess ? `a known setting; did you mean ${guess}?` : 'a known setting (see the configuration table in README.md)';
    issues.push({ variable: name, problem: 'unknown variable', expected });
  }
  return issues;
}

function closest(name: string, known: Set<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestScore) [best, bestScore] = [candidate, d];
  }
  return bestScore <= Math.max(3, Math.floor(name.length / 5)) ? best : undefined;
}

/** Levenshtein distance; inputs are short variable names. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Defaults that follow other settings, so that changing a stack port moves the clients too. */
function applyDerivedDefaults(config: Config, env: Env): void {
  const mutable = config as { -readonly [S in keyof Config]: { -readonly [K in keyof Config[S]]: Config[S][K] } };
  const stack = config.stack;
  if (!env[envName('kafka', 'bootstrapServers')]) {
    mutable.kafka.bootstrapServers = Array.from({ length: stack.nodes }, (_, i) => `127.0.0.1:${stack.kafkaPort + i}`);
  }
  if (!env[envName('schemaRegistry', 'url')]) {
    mutable.schemaRegistry.url = `http://127.0.0.1:${stack.registryPort}/apis/ccompat/v7`;
  }
  if (!stack.dir) {
    const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
    mutable.stack.dir = join(base, 'streaming-analytics');
  }
  // An API only this machine reaches may stay open; one on the network asks for tokens.
  if (!env[envName('processor', 'queryAuth')] && isLoopbackHost(config.processor.queryHost)) mutable.processor.queryAuth = 'off';
}

/**
 * Which parts are the project's own local stack: those whose address is not configured.
 * (A configured cluster or registry is used as it is, never started or stopped.)
 */
export function localStackParts(env: Env = process.env): { kafka: boolean; registry: boolean } {
  return { kafka: !env[envName('kafka', 'bootstrapServers')], registry: !env[envName('schemaRegistry', 'url')] };
}

function crossCheck(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const k = config.kafka;
  const need = (section: string, key: string, why: string): void => {
    issues.push({ variable: envName(section, key), problem: 'not set', expected: why });
  };
  const sasl = k.securityProtocol.startsWith('SASL_');
  if (sasl && !k.saslMechanism) need('kafka', 'saslMechanism', `a SASL mechanism because SECURITY_PROTOCOL is ${k.securityProtocol}`);
  if (!sasl && k.saslMechanism) {
    issues.push({
      variable: envName('kafka', 'saslMechanism'),
      problem: `got ${JSON.stringify(k.saslMechanism)}`,
      expected: 'unset unless SECURITY_PROTOCOL is SASL_PLAINTEXT or SASL_SSL',
    });
  }
  if (sasl && k.saslMechanism && k.saslMechanism !== 'OAUTHBEARER') {
    if (!k.saslUsername) need('kafka', 'saslUsername', `a username for SASL ${k.saslMechanism}`);
    if (!k.saslPassword) need('kafka', 'saslPassword', `a password for SASL ${k.saslMechanism}`);
  }
  if (sasl && k.saslMechanism === 'OAUTHBEARER') {
    if (!k.saslOauthbearerTokenEndpointUrl) need('kafka', 'saslOauthbearerTokenEndpointUrl', 'the OIDC token endpoint for OAUTHBEARER');
    if (!k.saslOauthbearerClientId) need('kafka', 'saslOauthbearerClientId', 'an OIDC client id for OAUTHBEARER');
    if (!k.saslOauthbearerClientSecret) need('kafka', 'saslOauthbearerClientSecret', 'an OIDC client secret for OAUTHBEARER');
  }
  if (Boolean(k.sslCertificateLocation) !== Boolean(k.sslKeyLocation)) {
    const missing = k.sslCertificateLocation ? 'sslKeyLocation' : 'sslCertificateLocation';
    need('kafka', missing, 'a PEM file too: mutual TLS needs both SSL_CERTIFICATE_LOCATION and SSL_KEY_LOCATION');
  }
  for (const key of ['sslCaLocation', 'sslCertificateLocation', 'sslKeyLocation'] as const) {
    const path = k[key];
    if (path && !readable(path)) {
      issues.push({
        variable: envName('kafka', key),
        problem: `got ${JSON.stringify(path)}, which does not exist or cannot be read`,
        expected: 'a path to a readable file',
      });
    }
  }
  const p = config.processor;
  if (Boolean(p.queryTlsCertFile) !== Boolean(p.queryTlsKeyFile))
    need(
      'processor',
      p.queryTlsCertFile ? 'queryTlsKeyFile' : 'queryTlsCertFile',
      'a PEM file too: https needs both QUERY_TLS_CERT_FILE and QUERY_TLS_KEY_FILE',
    );
  for (const key of ['queryTlsCertFile', 'queryTlsKeyFile'] as const) {
    const path = p[key];
    if (path && !readable(path))
      issues.push({
        variable: envName('processor', key),
        problem: `got ${JSON.stringify(path)}, which does not exist or cannot be read`,
        expected: 'a path to a readable file',
      });
  }
  const r = config.schemaRegistry;
  if (Boolean(r.username) !== Boolean(r.password))
    need('schemaRegistry', r.username ? 'password' : 'username', 'both USERNAME and PASSWORD for registry basic auth');
  issues.push(...exposureIssues(config));
  return issues;
}

/** Development conveniences that must not face the network, each refused with both settings named. */
function exposureIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const ws = config.websocket;
  if (ws.devTokens && !isLoopbackHost(ws.host)) {
    issues.push({
      variable: envName('websocket', 'devTokens'),
      problem: `got true while ${envName('websocket', 'host')} is ${JSON.stringify(ws.host)}`,
      expected: `false, or ${envName('websocket', 'host')} a loopback address (127.0.0.1, ::1): /dev/token hands out tokens for every channel and must not face the network`,
    });
  }
  const p = config.processor;
  if (p.queryAuth === 'off' && !isLoopbackHost(p.queryHost)) {
    issues.push({
      variable: envName('processor', 'queryAuth'),
      problem: `got "off" while ${envName('processor', 'queryHost')} is ${JSON.stringify(p.queryHost)}`,
      expected: `jwt, or ${envName('processor', 'queryHost')} a loopback address (127.0.0.1, ::1): an open query API must not face the network`,
    });
  }
  const jwks = config.auth.jwksUrl;
  if (jwks && new URL(jwks).protocol === 'http:' && !isLoopbackHost(new URL(jwks).hostname)) {
    issues.push({
      variable: envName('auth', 'jwksUrl'),
      problem: `got ${JSON.stringify(jwks)}`,
      expected: 'an https:// URL (http:// only on a loopback address): keys fetched over plain HTTP can be replaced on the way',
    });
  }
  return issues;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
