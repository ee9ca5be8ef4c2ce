import { type RdKafka } from '../kafka';

/** A node-rdkafka callback call as a promise. */
export const call = <T>(f: (cb: (err: RdKafka.LibrdKafkaError | null | undefined, v: T) => void) => void): Promise<T> =>
  new Promise((ok, fail) => f((err, v) => (err ? fail(err) : ok(v))));
