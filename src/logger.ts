import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Keys whose values are secrets, wherever they sit in a logged object: librdkafka's
 * secret properties and what carries credentials in HTTP, plus those an application
 * registers (the app adds its secret settings, by field and variable name). Compared in
 * lower case.
 */
const SECRET_KEYS = new Set([
  'password',
  'secret',
  'token',
  'authorization',
  'cookie',
  'sasl.password',
  'ssl.key.password',
  'ssl.keystore.password',
  'ssl.key.pem',
  'sasl.oauthbearer.client.secret',
  'sasl.oauthbearer.config',
]);

/** Adds keys whose values every logger of this process redacts. */
export function registerSecretKeys(keys: Iterable<string>): void {
  for (const k of keys) SECRET_KEYS.add(k.toLowerCase());
}

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi;

/** `text` with any user:password@ of a URL in it replaced (errors and logs never show credentials). */
export function censorUrlCredentials(text: string): string {
  return text.includes('@') ? text.replace(URL_CREDENTIALS, '$1[redacted]@') : text;
}

const CENSOR = '[redacted]';
/** Deeper than any object the project logs; cycles end at the same bound. */
const MAX_DEPTH = 12;

/**
 * A copy of `value` with every secret replaced, at any depth (pino's redact paths reach a
 * fixed depth only). Objects without secrets are returned as they are; errors are left to
 * pino's error serializer.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return censorUrlCredentials(value); // user:password@ in a URL inside any text (an error message naming a server)
  if (value === null || typeof value !== 'object' || value instanceof Error || Buffer.isBuffer(value) || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const r = redactSecrets(item, depth + 1);
      if (r !== item) (copy ??= [...value])[i] = r;
    });
    return copy ?? value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value; // class instances (Maps, clients…) are logged by their own means
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const r = SECRET_KEYS.has(key.toLowerCase()) && item !== undefined && item !== null ? CENSOR : redactSecrets(item, depth + 1);
    if (r !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = r;
  }
  return copy ?? value;
}

/** pino's error serializer, made plain (causes included) and redacted like everything else. */
function serializeError(e: unknown): unknown {
  if (!(e instanceof Error)) return redactSecrets(e);
  const serialized = pino.stdSerializers.err(e);
  try {
    return redactSecrets(JSON.parse(JSON.stringify(serialized)));
  } catch {
    return redactSecrets({ ...serialized });
  }
}

export interface LoggerOptions {
  /** pino's level name: fatal, error, warn, info, debug, trace or silent. */
  level: string;
}

/**
 * JSON logs on stdout (one object per line). Secrets are redacted by key name at any
 * depth, in logged objects and in child loggers' bindings.
 */
export function createLogger(log: LoggerOptions, name = 'streaming-analytics', destination?: DestinationStream): Logger {
  const options = {
    name,
    level: log.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Errors are serialized first (message, stack, their own properties), then redacted like everything else.
    serializers: { err: serializeError },
    formatters: {
      log: (obj: Record<string, unknown>) => redactSecrets(obj) as Record<string, unknown>,
      bindings: (bindings: Record<string, unknown>) => redactSecrets(bindings) as Record<string, unknown>,
    },
  };
  const logger = destination ? pino(options, destination) : pino(options);
  // pino applies the bindings formatter to the root only: children are made through this
  // (inherited by every descendant, which pino creates with Object.create).
  const child = logger.child;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, childOptions?: Parameters<Logger['child']>[1]) {
    return child.call(this, redactSecrets(bindings) as Record<string, unknown>, childOptions);
  } as Logger['child'];
  return logger;
}
