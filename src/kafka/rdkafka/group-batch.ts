/**
 * Processing's consume through the native reader on node-rdkafka's own consumer
 * (native/group.cc, compiled by `npm run build` into dist/native/): one call per batch,
 * whose records are made here in JavaScript from one buffer and typed arrays, instead of
 * node-rdkafka making each in native code on the main thread. The consumer stays
 * node-rdkafka's: group membership, rebalances, seeks, positions and the group metadata
 * transactions need are unchanged. Where the reader was not built or does not load (another
 * Node version, another node-rdkafka), consume goes through node-rdkafka.
 */
import { dirname, join } from 'node:path';
import type Kafka from 'node-rdkafka';
import type { ConsumedRecord, Header, KafkaClientError, TopicPartition } from '../types';

interface RawBatch {
  data: Buffer;
  /** Per record: topic index, partition, key start, key length, value start, value length, first header, header count. */
  meta: Buffer;
  /** Per record its offset and timestamp; then per header: name start, name length, value start, value length. */
  numbers: Buffer;
  topics: string[];
  eof: TopicPartition[];
}

interface Native {
  nodeRdkafka: string;
  load(librdkafka: string): void;
  consume(client: object, max: number, timeoutMs: number, cb: (err: (Error & { code: number }) | null, batch?: RawBatch) => void): void;
}

const META = 8;
const NO_HEADERS: readonly Header[] = Object.freeze([]);

let loaded: { native: Native; KafkaConsumer: new (...args: never[]) => object } | string | undefined;

/** The reader, or why it is not available (once per process). */
export function nativeGroupReader(): typeof loaded {
  if (loaded !== undefined) return loaded;
  try {
    const root = dirname(require.resolve('streaming-analytics/package.json'));
    const native = require(join(root, 'dist', 'native', 'rdkafka-group-batch.node')) as Native;
    const rdkafka = dirname(require.resolve('node-rdkafka/package.json'));
    const installed = (require('node-rdkafka/package.json') as { version: string }).version;
    if (native.nodeRdkafka !== installed) throw new Error(`built for node-rdkafka ${native.nodeRdkafka}, and ${installed} is installed (npm run build)`);
    native.load(join(rdkafka, 'build', 'deps', 'librdkafka.so.1'));
    loaded = { native, KafkaConsumer: (require('node-rdkafka/librdkafka') as { KafkaConsumer: new (...args: never[]) => object }).KafkaConsumer };
  } catch (e) {
    const code = (e as { code?: string }).code;
    loaded = code === 'MODULE_NOT_FOUND' ? 'the processing batch reader is not built (npm run build compiles it)' : `it does not load: ${(e as Error).message}`;
  }
  return loaded;
}

/** node-rdkafka's native consumer object inside its JavaScript KafkaConsumer, when the reader can read it. */
export function nativeClientOf(consumer: Kafka.KafkaConsumer): object | undefined {
  const reader = nativeGroupReader();
  const client = (consumer as unknown as { _client?: unknown })._client;
  return typeof reader === 'object' && client instanceof reader.KafkaConsumer ? client : undefined;
}

/** Up to `max` records from node-rdkafka's consumer, with the partitions read to their end. */
export function consumeBatch(client: object, max: number, timeoutMs: number): Promise<{ records: ConsumedRecord[]; eof: TopicPartition[] }> {
  const reader = nativeGroupReader();
  if (typeof reader !== 'object') return Promise.reject(new Error(String(reader)));
  return new Promise((resolve, reject) =>
    reader.native.consume(client, max, timeoutMs, (err, raw) => {
      if (err || !raw) return reject(Object.assign(err ?? new Error('no batch'), { code: err?.code ?? -195 }) as KafkaClientError);
      resolve({ records: recordsOf(raw), eof: raw.eof });
    }),
  );
}

/** The batch's records. Keys, values and header values are copied out of the batch buffer: a kept one must not pin the whole batch. */
function recordsOf(raw: RawBatch): ConsumedRecord[] {
  const meta = new Int32Array(raw.meta.buffer, raw.meta.byteOffset, raw.meta.length / 4);
  const numbers = new Float64Array(raw.numbers.buffer, raw.numbers.byteOffset, raw.numbers.length / 8);
  const data = raw.data;
  const count = meta.length / META;
  const headersAt = count * 2;
  const slice = (start: number, length: number): Buffer | null => (length < 0 ? null : Buffer.from(data.subarray(start, start + length)));
  const out = new Array<ConsumedRecord>(count);
  for (let i = 0; i < count; i++) {
    const m = i * META;
    const headerCount = meta[m + 7]!;
    const timestamp = numbers[i * 2 + 1]!;
    out[i] = {
      topic: raw.topics[meta[m]!]!,
      partition: meta[m + 1]!,
      offset: numbers[i * 2]!,
      key: slice(meta[m + 2]!, meta[m + 3]!),
      value: slice(meta[m + 4]!, meta[m + 5]!),
      timestamp: timestamp >= 0 ? timestamp : Date.now(),
      headers: headerCount === 0 ? NO_HEADERS : headersOf(data, numbers, headersAt + meta[m + 6]! * 4, headerCount),
    };
  }
  return out;
}

function headersOf(data: Buffer, numbers: Float64Array, at: number, count: number): Header[] {
  const out: Header[] = [];
  for (let h = 0; h < count; h++) {
    const i = at + h * 4;
    const nameStart = numbers[i]!;
    const valueStart = numbers[i + 2]!;
    const valueLength = numbers[i + 3]!;
    out.push({
      key: data.toString('utf8', nameStart, nameStart + numbers[i + 1]!),
      // A header without a value: empty bytes, as node-rdkafka gives it.
      value: valueLength < 0 ? Buffer.alloc(0) : Buffer.from(data.subarray(valueStart, valueStart + valueLength)),
    });
  }
  return out;
}
