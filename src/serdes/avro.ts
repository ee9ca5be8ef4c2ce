/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte schema id, Avro binary), with
 * a Confluent-compatible schema registry reached through @kafkajs/confluent-schema-registry.
 * Encoding and decoding run synchronously on avsc; the registry is only asked in
 * `prepare` (the schema id to write with: registered when allowed, else looked up) and
 * `prepareBatch` (writer schemas of ids not seen before). Subjects follow the
 * TopicNameStrategy: `<topic>-value` and `<topic>-key`.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { SerdeError, type Serde } from './serde';

export interface AvroSerdeOptions {
  /** The application's schema: it writes with it and reads into it (resolving older writer schemas). */
  schema: avro.Schema;
  /** Key or value subject. Default false (value). */
  isKey?: boolean;
  /** Register the schema on first use if the subject lacks it. Default true; false in locked-down registries. */
  autoRegister?: boolean;
}

const MAGIC = 0;

export class AvroSerde<T> implements Serde<T | null> {
  readonly name: string;
  private readonly type: avro.Type;
  private readonly writeIds = new Map<string, number>();
  private readonly readers = new Map<number, avro.Type>();
  /** Per writer schema id: the resolver from it, or null when it reads as the application's schema. */
  private readonly resolvers = new Map<number, avro.Resolver | null>();
  /** Encoding target reused across records (grown when a record does not fit): one copy out per record. */
  private scratch = Buffer.allocUnsafe(16 * 1024);

  constructor(private readonly registry: SchemaRegistry, private readonly options: AvroSerdeOptions) {
    this.type = avro.Type.forSchema(options.schema);
    this.name = `Avro(${this.type.name ?? this.type.typeName})`;
  }

  private subject(topic: string): string {
    return `${topic}-${this.options.isKey ? 'key' : 'value'}`;
  }

  async prepare(topic: string): Promise<void> {
    if (this.writeIds.has(topic)) return;
    // exportAttrs keeps defaults and logical types: without them the registry sees a different, incompatible schema.
    const schema = JSON.stringify(this.type.schema({ exportAttrs: true }));
    const subject = this.subject(topic);
    try {
      const id = this.options.autoRegister === false
        ? await this.registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema })
        : (await this.registry.register({ type: SchemaType.AVRO, schema }, { subject })).id;
      this.writeIds.set(topic, id);
      this.readers.set(id, this.type);
    } catch (cause) {
      throw new SerdeError(this.name, `schema registry refused the schema for subject "${subject}": ${(cause as Error).message}`, { cause });
    }
  }

  async prepareBatch(_topic: string, data: readonly (Buffer | null)[]): Promise<void> {
    const unknown = new Set<number>();
    for (const b of data) if (b && b.length >= 5 && b[0] === MAGIC && !this.readers.has(b.readUInt32BE(1))) unknown.add(b.readUInt32BE(1));
    for (const id of unknown) {
      try {
        const writer = (await this.registry.getSchema(id)) as unknown as avro.Type;
        this.readers.set(id, writer);
      } catch (cause) {
        // An id the registry does not know stays unknown: that record alone is unreadable
        // (dead-letter topic). Any other failure (registry down) is thrown: the batch is retried.
        if ((cause as { status?: number }).status !== 404) throw new SerdeError(this.name, `cannot fetch schema id ${id} from the registry: ${(cause as Error).message}`, { cause });
      }
    }
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
    if (data.length < 5 || data[0] !== MAGIC) throw new SerdeError(this.name, `bytes from "${topic}" are not in the Confluent Avro wire format (no magic byte 0)`);
    const id = data.readUInt32BE(1);
    const writer = this.readers.get(id);
    if (!writer) throw new SerdeError(this.name, `schema id ${id} of a record from "${topic}" is unknown to the registry`);
    try {
      return this.type.fromBuffer(data.subarray(5), this.resolver(id, writer)) as T;
    } catch (cause) {
      throw new SerdeError(this.name, `record from "${topic}" (schema id ${id}) cannot be decoded: ${(cause as Error).message}`, { cause });
    }
  }

  private resolver(id: number, writer: avro.Type): avro.Resolver | undefined {
    if (writer === this.type) return undefined;
    let r = this.resolvers.get(id);
    if (r === undefined) {
      // Same canonical form, same bytes: read directly, without resolving field by field.
      r = writer.fingerprint().equals(this.type.fingerprint()) ? null : this.type.createResolver(writer as avro.Type);
      this.resolvers.set(id, r);
    }
    return r ?? undefined;
  }
}

/** Avro serdes sharing one registry client (and its caches). */
export class AvroSerdes {
  constructor(private readonly registry: SchemaRegistry) {}

  serde<T>(options: AvroSerdeOptions): AvroSerde<T> {
    return new AvroSerde<T>(this.registry, options);
  }
}
