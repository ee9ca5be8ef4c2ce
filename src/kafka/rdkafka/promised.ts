/** A node-rdkafka callback call as a promise: the one place callbacks become promises. */
export function promised<T>(call: (cb: (err: unknown, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))));
}
