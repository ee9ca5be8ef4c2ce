/**
 * Typed field descriptors for the configuration schema. Each field knows how to parse
 * one environment variable, what it expects (for error messages and the docs table),
 * and its default. The schema is data, so the README table is generated from it.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false };

export { censorUrlCredentials } from '../logger';

export interface Field<T> {
  /** What a valid value looks like, in words; used in errors and the docs table. */
  readonly expected: string;
  readonly doc: string;
  /** The value used when the variable is unset; `undefined` means "not set". */
  readonly fallback: T;
  /** How the default is shown in docs (derived defaults describe themselves). */
  readonly defaultText: string;
  /** Secret values are never echoed back in errors or printed config. */
  readonly secret: boolean;
  parse(raw: string): Parsed<T>;
}

interface Common<T> {
  doc: string;
  default: T;
  defaultText?: string;
  secret?: boolean;
}

function field<T>(expected: string, opts: Common<T>, parse: (raw: string) => Parsed<T>): Field<T> {
  const shown = opts.default === undefined ? '(unset)' : JSON.stringify(opts.default);
  return {
    expected,
    doc: opts.doc,
    fallback: opts.default,
    defaultText: opts.defaultText ?? shown,
    secret: opts.secret ?? false,
    parse,
  };
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = { ok: false } as const;

export function text<D extends string | undefined>(opts: Common<D> & { pattern?: RegExp; expected?: string }): Field<string | D> {
  const expected = opts.expected ?? (opts.pattern ? `a string matching ${opts.pattern}` : 'a non-empty string');
  return field<string | D>(expected, opts, (raw) => {
    if (raw.length === 0) return bad;
    if (opts.pattern && !opts.pattern.test(raw)) return bad;
    return ok(raw);
  });
}

export function integer(opts: Common<number> & { min: number; max: number }): Field<number> {
  return field(`an integer from ${opts.min} to ${opts.max}`, opts, (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) return bad;
    const n = Number(raw.trim());
    return Number.isSafeInteger(n) && n >= opts.min && n <= opts.max ? ok(n) : bad;
  });
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function flag(opts: Common<boolean>): Field<boolean> {
  return field('true or false', opts, (raw) => {
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return ok(true);
    if (FALSE.has(v)) return ok(false);
    return bad;
  });
}

/** Case-insensitive choice; the value is normalised to the spelling in `values`. */
export function oneOf<const V extends string>(values: readonly V[], opts: Common<NoInfer<V>>): Field<V>;
export function oneOf<const V extends string>(values: readonly V[], opts: Common<undefined>): Field<V | undefined>;
export function oneOf<const V extends string>(values: readonly V[], opts: Common<V | undefined>): Field<V | undefined> {
  return field<V | undefined>(`one of ${values.join(', ')}`, opts, (raw) => {
    const hit = values.find((v) => v.toLowerCase() === raw.trim().toLowerCase());
    return hit === undefined ? bad : ok(hit);
  });
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function isHostPort(s: string): boolean {
  const m = HOST_PORT.exec(s);
  return m !== null && Number(m[2]) > 0 && Number(m[2]) < 65536;
}

/** A list of host:port, as a JSON array (the seed's form) or comma-separated. */
export function hostList(opts: Common<readonly string[]>): Field<readonly string[]> {
  const expected = 'a JSON array of "host:port" strings, e.g. ["kafka1:9092","kafka2:9092"] (a comma-separated list also works)';
  return field(expected, opts, (raw) => {
    const items = splitList(raw);
    if (items === undefined || items.length === 0) return bad;
    return items.every(isHostPort) ? ok(items) : bad;
  });
}

/** A list of strings, each matching `item`, as a JSON array or comma-separated. */
export function textList(opts: Common<readonly string[]> & { item: RegExp; expected: string }): Field<readonly string[]> {
  return field(`${opts.expected}, as a JSON array or comma-separated`, opts, (raw) => {
    const items = splitList(raw);
    if (items === undefined || items.length === 0) return bad;
    return items.every((i) => opts.item.test(i)) ? ok(items) : bad;
  });
}

function splitList(raw: string): string[] | undefined {
  const trimmed = raw.trim();
  if (!trimmed.startsWith('['))
    return trimmed
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  try {
    const value: unknown = JSON.parse(trimmed);
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return undefined;
    return value.map((s: string) => s.trim());
  } catch {
    return undefined;
  }
}

export function httpUrl<D extends string | undefined>(opts: Common<D>): Field<string | D> {
  // No user:password@: credentials have settings of their own, which are kept out of logs and errors.
  return field<string | D>('an http:// or https:// URL (without user:password@)', opts, (raw) => {
    try {
      const url = new URL(raw.trim());
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return bad;
      if (url.username || url.password) return bad;
      return ok(raw.trim().replace(/\/+$/, ''));
    } catch {
      return bad;
    }
  });
}
