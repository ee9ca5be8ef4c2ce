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

function jsonSerde<T>(): Serde<T | null> {
  return {
    name: 'Json',
    serialize: (_topic, data) => (data === null ? null : Buffer.from(JSON.stringify(data), 'utf8')),
    deserialize: (topic, data) => {
      if (data === null) return null;
      const text = utf8(topic, data, 'Json');
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new SerdeError('Json', `bytes from "${topic}" are not valid JSON: ${(cause as Error).message}`, { cause });
      }
    },
  };
}

/** The built-in serdes, named as in Kafka Streams' `Serdes`. */
export const Serdes = {
  String: (): Serde<string | null> => stringSerde,
  Bytes: (): Serde<Buffer | null> => bytesSerde,
  /** JSON through JSON.parse/stringify; `T` is what the application promises the JSON holds. */
  Json: <T>(): Serde<T | null> => jsonSerde<T>(),
};
