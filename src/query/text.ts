/**
 * Keys arrive in URLs as text and values leave as JSON: this turns text into a store's
 * typed key by the key serde's kind, and values into JSON-safe data.
 */
import { StreamingError } from '../errors';
import type { Serde } from '../serdes';

/** A key, range bound or cursor that cannot be read: the 400 answer's own code. */
export class BadKey extends StreamingError {
  constructor(message: string) {
    super('SA_ERR_QUERY_BAD_REQUEST', message);
    this.name = 'BadKey';
  }
}

/** The typed key a URL's text stands for, given the store's key serde. */
export function keyFromText(serde: Serde<unknown>, text: string): unknown {
  switch (serde.name) {
    case 'String':
      return text;
    case 'Long': {
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw new BadKey(`"${text}" is not a whole number (this store's keys are Longs)`);
      return n;
    }
    case 'Double': {
      const n = Number(text);
      if (text.trim() === '' || Number.isNaN(n)) throw new BadKey(`"${text}" is not a number (this store's keys are Doubles)`);
      return n;
    }
    case 'Json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new BadKey(`"${text}" is not JSON (this store's keys are JSON)`);
      }
    case 'Bytes':
      if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new BadKey(`"${text}" is not base64url (this store's keys are bytes)`);
      return Buffer.from(text, 'base64url');
    default:
      throw new BadKey(`keys of serde ${serde.name} cannot be given as text`);
  }
}

/** JSON-safe: bytes as base64, everything else as it is (numbers, strings, Avro records). */
export function jsonValue(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { base64: value.toString('base64') };
  return value;
}
