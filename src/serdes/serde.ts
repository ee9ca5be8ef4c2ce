/**
 * A Serde turns a key or value to bytes and back. Built-ins are synchronous, so the hot
 * path never awaits per record; Kafka's null (a tombstone, or an absent key) passes
 * through every built-in serde as null.
 */
import { StreamingError, type StreamingErrorOptions } from '../errors';

export interface Serializer<T> {
  serialize(topic: string, data: T): Buffer | null;
  /**
   * Asynchronous set-up before the first serialize for `topic` (an Avro serde registers
   * or looks up its schema id here). The runtime calls it at start for every sink.
   */
  prepare?(topic: string): Promise<void>;
}

export interface Deserializer<T> {
  deserialize(topic: string, data: Buffer | null): T;
  /**
   * Asynchronous look-ups a batch needs before it is deserialized synchronously (an Avro
   * serde fetches writer schemas it has not seen). Called per consumed batch.
   */
  prepareBatch?(topic: string, data: readonly (Buffer | null)[]): Promise<void>;
}

export interface Serde<T> extends Serializer<T>, Deserializer<T> {
  /** Shown by `topology.describe()` and in errors. */
  readonly name: string;
}

/**
 * Thrown by a serde for bytes it cannot read or a value it cannot write; the error
 * policies decide (deserialization, processing or production handler). `serde` names it.
 */
export class SerdeError extends StreamingError {
  constructor(
    readonly serde: string,
    message: string,
    options: StreamingErrorOptions = {},
  ) {
    super('SA_ERR_SERDE', message, options);
    this.name = 'SerdeError';
  }
}

/**
 * A serde for `T`, or the built-in kind for `T | null`: stores and grouped streams never
 * hold a null key or value (null means "delete"), so either fits where they ask for one.
 */
export type SerdeFor<T> = Serde<T> | Serde<T | null>;
