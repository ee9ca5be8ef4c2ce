/**
 * Hostile Avro records for tests: block counts and lengths that claim more than the
 * record holds, blocks whose byte size disagrees with their entries, a registry stand-in
 * that answers with given writer schemas, and a tiny HTTP registry that answers as told.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  const field =
    kind === 'map'
      ? { name: 'extra', type: { type: 'map', values: 'double' }, default: {} }
      : { name: 'extra', type: { type: 'array', items: 'null' }, default: [] };
  return { ...s, fields: [field, ...s.fields] } as unknown as avro.Schema;
}

/**
 * The 15-byte record: 5 bytes of wire format, then a 10-byte varint claiming 2^52 entries
 * for the leading block of a `withLeadingBlock` writer schema.
 */
export function fifteenByteRecord(id: number, entries = 2 ** 52): Buffer {
  return wire(id, varint(entries, 10));
}

/** A block of `count` entries written with a negative count: -count, the declared byte `size`, then the entries' bytes. */
export function negativeBlock(count: number, size: number, entries: readonly number[]): number[] {
  return [...varint(-count), ...varint(size), ...entries];
}

/**
 * The hidden count, for a `withLeadingBlock(…, 'map')` writer (map of doubles) read by a
 * schema without the map: one entry whose declared byte size ends inside its own key,
 * where a count of `hidden` entries sits. Walking the entries, that count is the key's
 * text; avsc, skipping the writer-only map by its size, lands on it and loops `hidden`
 * times. `rest` is the body of the reader's own fields.
 */
export function hiddenCountRecord(id: number, hidden: number, rest: readonly number[]): Buffer {
  const count = varint(hidden);
  const keyLength = varint(count.length);
  const entry = [...keyLength, ...count, 0, 0, 0, 0, 0, 0, 0, 0]; // key, then a double
  return wire(id, [...negativeBlock(1, keyLength.length, entry), 0, ...rest]);
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

export interface HttpRegistry {
  /** Base URL, for `new SchemaRegistry({ host })`. */
  url: string;
  /** Schema ids asked for, in order. */
  asked: number[];
  close(): Promise<void>;
}

/** How the HTTP registry answers for an id: a writer schema (200), or a status and body. */
export type RegistryAnswer = avro.Schema | { status: number; body?: unknown };

/**
 * A schema registry on 127.0.0.1 (node:http) that answers `GET /schemas/ids/<id>` with
 * `answer(id)`, as the real one does: JSON bodies with `error_code` and `message`.
 */
export async function httpRegistry(answer: (id: number) => RegistryAnswer): Promise<HttpRegistry> {
  const asked: number[] = [];
  const server: Server = createServer((req, res) => {
    const id = Number(/^\/schemas\/ids\/(\d+)/.exec(req.url ?? '')?.[1] ?? NaN);
    asked.push(id);
    const a = answer(id);
    const failure = typeof a === 'object' && a !== null && 'status' in a ? a : undefined;
    const status = failure?.status ?? 200;
    const body = failure ? (failure.body ?? { error_code: status, message: `status ${status}` }) : { schema: JSON.stringify(a) };
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/vnd.schemaregistry.v1+json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
