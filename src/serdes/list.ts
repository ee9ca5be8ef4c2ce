/**
 * A list of entries kept as one store value: each entry is a few timestamps (8 bytes each)
 * and a value through the inner serde (length-prefixed). Session and sliding-window
 * aggregations store each key's sessions or recent records this way.
 */
import { SerdeError, type Serde } from './serde';

export interface Stamped<V> {
  times: number[];
  value: V;
}

export function stampedListSerde<V>(name: string, inner: Serde<V>, width: number): Serde<Stamped<V>[]> {
  return {
    name: `${name}(${inner.name})`,
    serialize: (topic, list) => {
      const values = list.map((e) => inner.serialize(topic, e.value) ?? Buffer.alloc(0));
      const out = Buffer.allocUnsafe(4 + values.reduce((n, v) => n + 8 * width + 4 + v.length, 0));
      let at = out.writeUInt32BE(list.length, 0);
      list.forEach((e, i) => {
        for (let w = 0; w < width; w++) at = out.writeDoubleBE(e.times[w]!, at);
        at = out.writeUInt32BE(values[i]!.length, at);
        at += values[i]!.copy(out, at);
      });
      return out;
    },
    deserialize: (topic, data) => {
      if (!data || data.length < 4) throw new SerdeError(name, `a ${name} list from "${topic}" is too short`);
      const refuse = (what: string): SerdeError => new SerdeError(name, `a ${name} list from "${topic}" (${data.length} bytes) ${what}`);
      // The count and lengths are checked against the bytes before they are trusted: a damaged value must not loop or read past its end.
      const entryBytes = 8 * width + 4;
      const count = data.readUInt32BE(0);
      if (count > (data.length - 4) / entryBytes) throw refuse(`claims ${count} entries, more than its bytes can hold`);
      const list: Stamped<V>[] = [];
      let at = 4;
      for (let i = 0; i < count; i++) {
        if (at + entryBytes > data.length) throw refuse(`ends inside entry ${i} (at byte ${at})`);
        const times = Array.from({ length: width }, (_, w) => data.readDoubleBE(at + 8 * w));
        at += 8 * width;
        const length = data.readUInt32BE(at);
        if (length > data.length - at - 4) throw refuse(`entry ${i} claims ${length} bytes at byte ${at}, past the end`);
        list.push({ times, value: inner.deserialize(topic, data.subarray(at + 4, at + 4 + length)) });
        at += 4 + length;
      }
      if (at !== data.length) throw refuse(`has ${data.length - at} bytes after its ${count} entries`);
      return list;
    },
  };
}

/** The same list, mapped to and from the caller's own entry shape. */
export function mappedSerde<A, B>(serde: Serde<A>, to: (b: B) => A, from: (a: A) => B): Serde<B> {
  return { name: serde.name, serialize: (topic, b) => serde.serialize(topic, to(b)), deserialize: (topic, data) => from(serde.deserialize(topic, data)) };
}
