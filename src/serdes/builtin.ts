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

/** Kafka's LongSerde: 8 bytes, big-endian two's complement; values beyond 2^53 cannot be numbers and are refused. */
const longSerde: Serde<number | null> = {
  name: 'Long',
  serialize: (_topic, data) => {
    if (data === null) return null;
    if (!Number.isSafeInteger(data)) throw new SerdeError('Long', `${data} is not a whole number within ±2^53`);
    const out = Buffer.alloc(8);
    out.writeBigInt64BE(BigInt(data));
    return out;
  },
  deserialize: (topic, data) => {
    if (data === null) return null;
    if (data.length !== 8) throw new SerdeError('Long', `a Long from "${topic}" must be 8 bytes, not ${data.length}`);
    const n = data.readBigInt64BE();
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER))
      throw new SerdeError('Long', `${n} from "${topic}" is beyond ±2^53 and cannot be a number`);
    return Number(n);
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
