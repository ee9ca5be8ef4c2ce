import type { Headers } from '../../kafka';
import type { KeyValue } from '../../../state';

export type { Headers, KeyValue };

/** One record as it flows through a topology. Operators return new records; they never mutate. */
export interface StreamRecord<K, V> {
  readonly key: K;
  readonly value: V;
  /** Event time, ms since the epoch: the Kafka record timestamp unless an operator sets another. */
  readonly timestamp: number;
  readonly headers: Headers;
}

/** Where the record being processed came from (undefined for records made by a punctuation). */
export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** A record as consumed, before deserialization (what error handlers and dead letters see). */
export interface RawRecord extends RecordOrigin {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Headers;
}
