/**
 * A Serde turns a key or value to bytes and back. Built-ins are synchronous, so the hot
 * path never awaits per record; Kafka's null (a tombstone, or an absent key) passes
 * through every built-in serde as null.
 */
export interface Serializer<T> {
  serialize(topic: string, data: T): Buffer | null;
}

export interface Deserializer<T> {
  deserialize(topic: string, data: Buffer | null): T;
}

export interface Serde<T> extends Serializer<T>, Deserializer<T> {
  /** Shown by `topology.describe()` and in errors. */
  readonly name: string;
}

/** Thrown by a deserializer for bytes it cannot read; the deserialization handler decides. */
export class SerdeError extends Error {
  constructor(readonly serde: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SerdeError';
  }
}
