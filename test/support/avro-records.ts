/**
 * Hostile Avro records for tests: block counts and lengths that claim more than the
 * record holds, and a registry stand-in that answers with given writer schemas.
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';

/** Avro's zig-zag varint of `n`, padded with continuation bytes to `width` bytes when given (still valid). */
export function varint(n: number, width = 0): number[] {
  let z = n < 0 ? -2 * n - 1 : 2 * n;
  const out: number[] = [];
  while (z >= 128) {
    out.push((z % 128) | 0x80);
    z = Math.floor(z / 128);
  }
  out.push(z);
  while (out.length < width) {
    out[out.length - 1]! |= 0x80;
    out.push(0);
  }
  return out;
}

/** Magic byte 0, the schema id, then the Avro body. */
export function wire(id: number, body: readonly number[] | Buffer): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(id, 1);
  Buffer.from(body as number[]).copy(out, 5);
  return out;
}

/**
 * The record schema with one more field in front: a map (or array) with a default, so
 * the registry takes it as a compatible writer schema of the subject.
 */
export function withLeadingBlock(schema: avro.Schema, kind: 'map' | 'array'): avro.Schema {
  const s = schema as { fields: unknown[] };
  const field = kind === 'map' ? { name: 'extra', type: { type: 'map', values: 'double' }, default: {} } : { name: 'extra', type: { type: 'array', items: 'null' }, default: [] };
  return { ...s, fields: [field, ...s.fields] } as unknown as avro.Schema;
}

/**
 * The 15-byte record: 5 bytes of wire format, then a 10-byte varint claiming 2^52 entries
 * for the leading block of a `withLeadingBlock` writer schema.
 */
export function fifteenByteRecord(id: number, entries = 2 ** 52): Buffer {
  return wire(id, varint(entries, 10));
}

/** A registry stand-in: `register` hands out ids from 1, `getSchema` answers with the schemas registered or given. */
export function fakeRegistry(writers: Record<number, avro.Schema | Error> = {}): SchemaRegistry & { requests: number } {
  const byId = new Map<number, avro.Type | Error>(Object.entries(writers).map(([id, s]) => [Number(id), s instanceof Error ? s : avro.Type.forSchema(s)]));
  const ids = new Map<string, number>();
  const fake = {
    requests: 0,
    register: async (schema: { schema: string }): Promise<{ id: number }> => {
      let id = ids.get(schema.schema);
      if (id === undefined) {
        id = 1 + ids.size;
        ids.set(schema.schema, id);
        byId.set(id, avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema));
      }
      return { id };
    },
    getSchema: async (id: number): Promise<avro.Type> => {
      fake.requests++;
      const t = byId.get(id);
      if (t === undefined) throw Object.assign(new Error(`Schema ${id} not found`), { status: 404 });
      if (t instanceof Error) throw t;
      return t;
    },
  };
  return fake as unknown as SchemaRegistry & { requests: number };
}
