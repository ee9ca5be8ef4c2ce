/**
 * Paths built from outside input — a model name or version from configuration, a version
 * or file name from the model registry's answers — are checked twice: each part must be a
 * plain name (one path segment, never "." or ".."), and the joined path, resolved, must
 * stay inside the directory it was meant for. Either check alone would do today; both
 * together keep a later change to one from opening a hole.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { StreamingError } from '../errors';

const PLAIN = /^[A-Za-z0-9._-]{1,100}$/;

/** Letters, digits, ".", "_" and "-", at most 100 characters, and not "." or "..". */
export function isPlainName(value: unknown): value is string {
  return typeof value === 'string' && PLAIN.test(value) && value !== '.' && value !== '..';
}

/**
 * MLflow numbers versions 1, 2, 3, …: a version is digits only, at most 18 of them (past a
 * JavaScript integer's exact range no registry will ever get). Anything else — "../x",
 * "1/../../x", "1e3" — is not a version MLflow gives, so it is refused rather than cleaned.
 */
export function isVersionNumber(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9]{1,18}$/.test(value);
}

/** `value` when it is a plain name, else a typed error naming what it was meant to be. */
export function plainName(value: unknown, what: string, hint?: string): string {
  if (isPlainName(value)) return value;
  throw new StreamingError(
    'SA_ERR_MODEL_INVALID',
    `${what} ${JSON.stringify(value)?.slice(0, 120) ?? String(value)} is not a plain name (letters, digits, ".", "_" and "-", not "." or "..")`,
    hint ? { hint } : {},
  );
}

/**
 * `root` joined with `parts` and resolved, when the result lies strictly inside `root`;
 * else a typed error. Use it for every path built from outside input, even after the
 * parts were checked.
 */
export function insideDir(root: string, ...parts: string[]): string {
  const base = resolve(root);
  const target = resolve(base, ...parts);
  const rel = relative(base, target);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new StreamingError('SA_ERR_MODEL_INVALID', `the path ${JSON.stringify(parts.join('/')).slice(0, 200)} leaves ${base}; refused`, {
      hint: 'a model registry answered with a name that is not a plain file or version name',
    });
  }
  return target;
}
