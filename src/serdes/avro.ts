/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte schema id, Avro binary), with
 * a Confluent-compatible schema registry reached through @kafkajs/confluent-schema-registry.
 * Encoding and decoding run synchronously on avsc; the registry is only asked in
 * `prepare` (the schema id to write with: registered when allowed, else looked up) and
 * `prepareBatch` (writer schemas of ids not seen before). Subjects follow the
 * TopicNameStrategy: `<topic>-value` and `<topic>-key`. Before avsc reads a record, its
 * size and the counts and lengths it claims are checked (avro-bounds.ts): avsc trusts
 * them, and one record claiming 2^52 map entries would stop the reader for years.
 *
 * A registry that does not answer, or refuses the credentials, makes `prepareBatch` throw:
 * the caller waits and retries the batch. An answer about one id (403 from per-subject
 * access control, 404, 422…) makes that id unusable instead — its records alone are
 * refused at `deserialize` (dead-lettered, or skipped by the fan-out) — and the registry
 * is asked about it again after `refusedIdRetryMs`, so a fixed ACL takes effect.
 */
import { type SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { StreamingError } from '../errors';
import { AvroBounds } from './avro-bounds';
import { registryStatus, registryUnavailable } from './registry-errors';
import { SerdeError, type Serde } from './serde';

export interface AvroSerdeOptions {
  /** The application's schema: it writes with it and reads into it (resolving older writer schemas). */
  schema: avro.Schema;
  /** Key or value subject. Default false (value). */
  isKey?: boolean | undefined;
  /** Register the schema on first use if the subject lacks it. Default true; false in locked-down registries. */
  autoRegister?: boolean | undefined;
  /** Larger records (wire format included) are refused before they are parsed. Default 1 MiB. */
  maxRecordBytes?: number | undefined;
  /** How long an id the registry refused (403, 404…) stays refused before it is asked again. Default 60 s. */
  refusedIdRetryMs?: number | undefined;
}

/** Options every serde of an `AvroSerdes` gets (a serde's own options win). */
export interface AvroSerdesOptions {
  maxRecordBytes?: number | undefined;
  refusedIdRetryMs?: number | undefined;
}

export const DEFAULT_MAX_RECORD_BYTES = 1_048_576;
const DEFAULT_REFUSED_ID_RETRY_MS = 60_000;

const MAGIC = 0;

/** Tries of a registration before it counts as refused (a race between processes registering the same new subject). */
const REGISTER_ATTEMPTS = 3;

/**
 * The answers to a registration that raced another one for the same new subject: the
 * registry's own ("… already exists"), or the client's check of the subject's
 * compatibility, made while the winner has registered but not yet set it ("Compatibility
 * does not match the configuration (BACKWARD != NONE)"). Asked again, both are gone; a
 * compatibility an operator really set otherwise is refused again, three tries later.
 */
function lostRace(cause: unknown): boolean {
  return /already exists|Compatibility does not match the configuration/i.test(cause instanceof Error ? cause.message : String(cause));
}

export class AvroSerde<T> implements Serde<T | null> {
  readonly name: string;
  private readonly type: avro.Type;
  private readonly writeIds = new Map<string, number>();
  private readonly readers = new Map<number, avro.Type>();
  /** Per writer schema id: the resolver from it, null when it reads as the application's schema, or why it cannot be read. */
  private readonly resolvers = new Map<number, avro.Resolver | null | Error>();
  /** Per writer schema id: its bounds check, or why its records cannot be read. */
  private readonly bounds = new Map<number, AvroBounds | string>();
  /** Ids whose records cannot be read: why not, and until when (then the registry is asked again). */
  private readonly unusable = new Map<number, { reason: string; until: number }>();
  private readonly maxRecordBytes: number;
  private readonly refusedIdRetryMs: number;
  /** Encoding target reused across records (grown when a record does not fit): one copy out per record. */
  private scratch = Buffer.allocUnsafe(16 * 1024);

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly options: AvroSerdeOptions,
  ) {
    this.type = avro.Type.forSchema(options.schema);
    this.name = `Avro(${this.type.name ?? this.type.typeName})`;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isSafeInteger(this.maxRecordBytes) || this.maxRecordBytes < 5) {
      throw new StreamingError(
        'SA_ERR_STREAMS_CONFIG',
        `${this.name}: maxRecordBytes must be a whole number of bytes ≥ 5, not ${String(options.maxRecordBytes)}`,
      );
    }
    this.refusedIdRetryMs = options.refusedIdRetryMs ?? DEFAULT_REFUSED_ID_RETRY_MS;
    if (!(this.refusedIdRetryMs >= 0))
      throw new StreamingError('SA_ERR_STREAMS_CONFIG', `${this.name}: refusedIdRetryMs must be a duration ≥ 0 ms, not ${String(options.refusedIdRetryMs)}`);
  }

  private subject(topic: string): string {
    return `${topic}-${this.options.isKey ? 'key' : 'value'}`;
  }

  async prepare(topic: string): Promise<void> {
    if (this.writeIds.has(topic)) return;
    // exportAttrs keeps defaults and logical types: without them the registry sees a different, incompatible schema.
    const schema = JSON.stringify(this.type.schema({ exportAttrs: true }));
    const subject = this.subject(topic);
    const ask = async (): Promise<number> =>
      this.options.autoRegister === false
        ? this.registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema })
        : (await this.registry.register({ type: SchemaType.AVRO, schema }, { subject })).id;
    for (let attempt = 1; ; attempt++) {
      try {
        const id = await ask();
        this.writeIds.set(topic, id);
        this.readers.set(id, this.type);
        return;
      } catch (cause) {
        // Processes registering a new subject at the same moment (the stream threads of one
        // instance) can lose a race (see lostRace); asked again, the registration is found.
        // A refusal for the schema itself (incompatible, unauthorised) is final at once.
        if (attempt < REGISTER_ATTEMPTS && lostRace(cause)) {
          await new Promise((r) => setTimeout(r, 100 * attempt));
          continue;
        }
        throw new SerdeError(this.name, `schema registry refused the schema for subject "${subject}": ${(cause as Error).message}`, { cause });
      }
    }
  }

  async prepareBatch(_topic: string, data: readonly (Buffer | null)[]): Promise<void> {
    const unknown = new Set<number>();
    const now = Date.now();
    for (const b of data) {
      if (!b || b.length < 5 || b.length > this.maxRecordBytes || b[0] !== MAGIC) continue;
      const id = b.readUInt32BE(1);
      if (!this.readers.has(id) && (this.unusable.get(id)?.until ?? 0) <= now) unknown.add(id);
    }
    for (const id of unknown) {
      let writer: unknown;
      try {
        writer = await this.registry.getSchema(id);
      } catch (cause) {
        this.refused(id, cause);
        continue;
      }
      this.unusable.delete(id);
      if (avro.Type.isType(writer)) this.readers.set(id, writer as avro.Type);
      else this.refuseFor(id, 'is not an Avro schema');
    }
  }

  /**
   * A failed fetch of `id`. Thrown (the caller waits, then retries the batch): the registry
   * not answering, and refused credentials, which fail every id alike. Otherwise the answer
   * is about this id (or the client cannot parse its schema): its records are refused
   * until the registry is asked again.
   */
  private refused(id: number, cause: unknown): void {
    const message = (cause as Error).message;
    // Both thrown ones are retried (the batch waits for the registry): retriable, unlike most SerdeErrors.
    if (registryUnavailable(cause)) throw new SerdeError(this.name, `cannot fetch schema id ${id} from the registry: ${message}`, { cause, retriable: true });
    const status = registryStatus(cause);
    if (status === 401)
      throw new SerdeError(
        this.name,
        `the schema registry refused the credentials (401) when asked for schema id ${id}; records wait until it accepts them — check the registry user and password (${message})`,
        { cause, retriable: true },
      );
    const reason =
      status === undefined
        ? `cannot be used: ${message}`
        : status === 404
          ? `is unknown to the registry (404: ${message})`
          : `cannot be fetched: the registry answered ${status} (${message})`;
    this.refuseFor(id, reason);
  }

  private refuseFor(id: number, reason: string): void {
    this.unusable.set(id, { reason, until: Date.now() + this.refusedIdRetryMs });
  }

  serialize(topic: string, value: T | null): Buffer | null {
    if (value === null) return null;
    const id = this.writeIds.get(topic);
    if (id === undefined) throw new SerdeError(this.name, `no schema id for "${topic}": prepare(topic) was not awaited`);
    // avsc checks every value as it writes it, so validation costs nothing extra on the
    // happy path; only a failed encode walks the value again to name the wrong fields.
    let end: number;
    try {
      end = this.type.encode(value, this.scratch, 5);
      if (end < 0) {
        this.scratch = Buffer.allocUnsafe(2 * (this.scratch.length - end));
        end = this.type.encode(value, this.scratch, 5);
      }
    } catch (cause) {
      throw this.invalid(topic, value, cause);
    }
    const out = Buffer.allocUnsafe(end);
    out[0] = MAGIC;
    out.writeUInt32BE(id, 1);
    this.scratch.copy(out, 5, 5, end);
    return out;
  }

  private invalid(topic: string, value: T, cause: unknown): SerdeError {
    const paths: string[] = [];
    this.type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') });
    const where = paths.length > 0 ? `at ${paths.join(', ')}` : `(${(cause as Error).message})`;
    return new SerdeError(this.name, `value for "${topic}" does not match the schema ${where}`, { cause });
  }

  deserialize(topic: string, data: Buffer | null): T | null {
    if (data === null) return null;
    if (data.length > this.maxRecordBytes)
      throw new SerdeError(this.name, `a record from "${topic}" is ${data.length} bytes, more than the ${this.maxRecordBytes} allowed (maxRecordBytes)`);
    if (data.length < 5 || data[0] !== MAGIC)
      throw new SerdeError(this.name, `bytes from "${topic}" are not in the Confluent Avro wire format (no magic byte 0)`);
    const id = data.readUInt32BE(1);
    const writer = this.readers.get(id);
    if (!writer)
      throw new SerdeError(this.name, `schema id ${id} of a record from "${topic}" ${this.unusable.get(id)?.reason ?? 'is unknown to the registry'}`);
    const refusal = this.boundsOf(id, writer).refusal(data, 5);
    if (refusal !== undefined) throw new SerdeError(this.name, `a record from "${topic}" (schema id ${id}) is refused before decoding: ${refusal}`);
    try {
      return this.type.fromBuffer(data.subarray(5), this.resolver(id, writer)) as T;
    } catch (cause) {
      throw new SerdeError(this.name, `record from "${topic}" (schema id ${id}) cannot be decoded: ${(cause as Error).message}`, { cause });
    }
  }

  /** Compiled on the first record of each writer schema id. */
  private boundsOf(id: number, writer: avro.Type): AvroBounds {
    let b = this.bounds.get(id);
    if (b === undefined) {
      try {
        b = AvroBounds.compile(writer);
      } catch (cause) {
        b = `schema id ${id} cannot be checked: ${(cause as Error).message}`;
      }
      this.bounds.set(id, b);
    }
    if (typeof b === 'string') throw new SerdeError(this.name, b);
    return b;
  }

  private resolver(id: number, writer: avro.Type): avro.Resolver | undefined {
    if (writer === this.type) return undefined;
    let r = this.resolvers.get(id);
    if (r === undefined) {
      try {
        // Same canonical form, same bytes: read directly, without resolving field by field.
        r = writer.fingerprint().equals(this.type.fingerprint()) ? null : this.type.createResolver(writer);
      } catch (cause) {
        r = new Error(`schema id ${id} cannot be read as ${this.name}: ${(cause as Error).message}`); // kept: not tried again per record
      }
      this.resolvers.set(id, r);
    }
    if (r instanceof Error) throw r;
    return r ?? undefined;
  }
}

/** Avro serdes sharing one registry client (and its caches) and their options. */
export class AvroSerdes {
  constructor(
    private readonly registry: SchemaRegistry,
    private readonly defaults: AvroSerdesOptions = {},
  ) {}

  serde<T>(options: AvroSerdeOptions): AvroSerde<T> {
    return new AvroSerde<T>(this.registry, {
      ...options,
      maxRecordBytes: options.maxRecordBytes ?? this.defaults.maxRecordBytes,
      refusedIdRetryMs: options.refusedIdRetryMs ?? this.defaults.refusedIdRetryMs,
    });
  }
}
