import { StreamingError } from '../errors';
import { SerdeError, type Serde } from './serde';

const decoder = new TextDecoder('utf-8', { fatal: true });

function utf8(topic: string, data: Buffer, serde: string): string {
  try {
    return decoder.decode(data);
  } catch (cause) {
    throw new SerdeError(serde, `bytes from "${topic}" are not valid UTF-8`, { cause });
  }
}

const stringSerde: Serde<string | null> = {
  name: 'String',
  serialize: (_topic, data) => (data === null ? null : Buffer.from(data, 'utf8')),
  deserialize: (topic, data) => (data === null ? null : utf8(topic, data, 'String')),
};

const bytesSerde: Serde<Buffer | null> = {
  name: 'Bytes',
  serialize: (_topic, data) => data,
  deserialize: (_topic, data) => data,
};

export interface JsonSerdeOptions {
  /** Larger records are refused before they are parsed. Default: no limit beyond the broker's own. */
  maxBytes?: number;
}

function jsonSerde<T>(options: JsonSerdeOptions): Serde<T | null> {
  const max = options.maxBytes ?? Infinity;
  if (!(max >= 1) || (max !== Infinity && !Number.isSafeInteger(max)))
    throw new StreamingError('SA_ERR_STREAMS_CONFIG', `Json: maxBytes must be a whole number of bytes ≥ 1, not ${String(options.maxBytes)}`);
  return {
    name: 'Json',
    serialize: (_topic, data) => (data === null ? null : Buffer.from(JSON.stringify(data), 'utf8')),
    deserialize: (topic, data) => {
      if (data === null) return null;
      if (data.length > max) throw new SerdeError('Json', `a record from "${topic}" is ${data.length} bytes, more than the ${max} allowed (maxBytes)`);
      const text = utf8(topic, data, 'Json');
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new SerdeError('Json', `bytes from "${topic}" are not valid JSON: ${(cause as Error).message}`, { cause });
      }
    },
  };
}

/**
 * Kafka's LongSerde: 8 bytes, big-endian two's complement; values beyond 2^53 cannot be
 * numbers and are refused. Written as two 32-bit halves, not through BigInt: a BigInt per
 * value was a visible share of a windowed sum's cache flush.
 */
const TWO_32 = 4_294_967_296;
/** The high half of ±(2^53 - 1): anything above 2^21 - 1, or below -2^21, is beyond it. */
const MAX_HIGH = 0x1f_ffff;
const MIN_HIGH = -0x20_0000;
const longSerde: Serde<number | null> = {
  name: 'Long',
  serialize: (_topic, data) => {
    if (data === null) return null;
    if (!Number.isSafeInteger(data)) throw new SerdeError('Long', `${data} is not a whole number within ±2^53`);
    const out = Buffer.allocUnsafe(8);
    const high = Math.floor(data / TWO_32);
    out.writeInt32BE(high, 0);
    out.writeUInt32BE(data - high * TWO_32, 4);
    return out;
  },
  deserialize: (topic, data) => {
    if (data === null) return null;
    if (data.length !== 8) throw new SerdeError('Long', `a Long from "${topic}" must be 8 bytes, not ${data.length}`);
    const high = data.readInt32BE(0);
    const low = data.readUInt32BE(4);
    // -2^53 itself (high at its minimum, low 0) is one beyond the safe range too.
    if (high > MAX_HIGH || high < MIN_HIGH || (high === MIN_HIGH && low === 0))
      throw new SerdeError('Long', `${data.readBigInt64BE()} from "${topic}" is beyond ±2^53 and cannot be a number`);
    return high * TWO_32 + low;
  },
};

/** Kafka's DoubleSerde: 8 bytes, IEEE 754 big-endian. */
const doubleSerde: Serde<number | null> = {
  name: 'Double',
  serialize: (_topic, data) => {
    if (data === null) return null;
    const out = Buffer.alloc(8);
    out.writeDoubleBE(data);
    return out;
  },
  deserialize: (topic, data) => {
    if (data === null) return null;
    if (data.length !== 8) throw new SerdeError('Double', `a Double from "${topic}" must be 8 bytes, not ${data.length}`);
    return data.readDoubleBE();
  },
};

/** The built-in serdes, named as in Kafka Streams' `Serdes`. */
export const Serdes = {
  String: (): Serde<string | null> => stringSerde,
  Bytes: (): Serde<Buffer | null> => bytesSerde,
  Long: (): Serde<number | null> => longSerde,
  Double: (): Serde<number | null> => doubleSerde,
  /** JSON through JSON.parse/stringify; `T` is what the application promises the JSON holds. */
  Json: <T>(options: JsonSerdeOptions = {}): Serde<T | null> => jsonSerde<T>(options),
};
