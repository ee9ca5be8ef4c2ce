/**
 * Kafka Streams' time-windowed key format: the inner key's bytes followed by the window
 * start as 8 bytes big-endian. The end is not written: it is start + the window size.
 */
import { SerdeError, type Serde, type SerdeFor } from './serde';

/** A windowed key: the grouping key and the window it was aggregated in. */
export interface Windowed<K> {
  readonly key: K;
  readonly window: { readonly start: number; readonly end: number };
}

export const WindowedSerdes = {
  timeWindowed<K>(inner: SerdeFor<K>, sizeMs: number): Serde<Windowed<K>> {
    const keySerde = inner as Serde<K>;
    return {
      name: `TimeWindowed(${keySerde.name})`,
      serialize: (topic, w) => {
        const key = keySerde.serialize(topic, w.key) ?? Buffer.alloc(0);
        const out = Buffer.allocUnsafe(key.length + 8);
        key.copy(out);
        out.writeBigUInt64BE(BigInt(w.window.start), key.length);
        return out;
      },
      deserialize: (topic, data) => {
        if (data === null || data.length < 8) throw new SerdeError('TimeWindowed', `a windowed key from "${topic}" needs at least 8 bytes`);
        const start = Number(data.readBigUInt64BE(data.length - 8));
        if (!Number.isSafeInteger(start + sizeMs)) throw new SerdeError('TimeWindowed', `the window start of a windowed key from "${topic}" is beyond 2^53 ms`);
        return { key: keySerde.deserialize(topic, data.subarray(0, data.length - 8)), window: { start, end: start + sizeMs } };
      },
    };
  },
};
