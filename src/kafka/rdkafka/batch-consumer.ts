/**
 * The restore consumer on the native batch reader (native/batch.c, compiled by
 * `npm run build` into dist/native/): a whole fetch per call, keys and values as slices of
 * one buffer. It runs on the librdkafka node-rdkafka loaded. Where the reader was not built
 * (no compiler) or does not load (another platform), restoration reads through an ordinary
 * node-rdkafka consumer instead, and the restorer's log line says why.
 */
import { dirname, join } from 'node:path';
import type { RestoreConsumer } from '../clients';
import { type RecordBatch, restoreConsumerOver } from '../record-batch';
import type { ClientSettings, KafkaClientError, TopicPartition, TopicPartitionOffset, Watermarks } from '../types';
import { connectConsumer } from './consumer';

type Callback<T> = (err: (Error & { code: number }) | null | undefined, value: T) => void;

interface RawBatch {
  data: Buffer;
  /** Per record: topic index, partition, key start, key length (-1: null), value start, value length (-1: null). */
  meta: Int32Array;
  offsets: Float64Array;
  topics: string[];
  eof: TopicPartition[];
}

interface Native {
  load(librdkafka: string): string;
  open(settings: string[]): object;
  assign(handle: object, topics: string[], partitions: number[], offsets: number[]): void;
  consume(handle: object, max: number, timeoutMs: number, cb: Callback<RawBatch>): void;
  watermarks(handle: object, topic: string, partition: number, timeoutMs: number, cb: Callback<Watermarks>): void;
  close(handle: object, cb: Callback<undefined>): void;
}

/**
 * librdkafka recovers from these by itself (it reconnects and fetches again): not a reason
 * to fail a restoration. (batch.c already passes on only a partition's errors and fatal ones.)
 */
const TRANSIENT = new Set([-195 /* _TRANSPORT */, -187 /* _ALL_BROKERS_DOWN */]);
const CONSUME_TIMEOUT_MS = 100;

let loaded: Native | string | undefined;

/** The reader, or why it is not available (once per process). */
export function nativeBatchReader(): Native | string {
  if (loaded !== undefined) return loaded;
  try {
    const root = dirname(require.resolve('streaming-analytics/package.json'));
    const native = require(join(root, 'dist', 'native', 'rdkafka-batch.node')) as Native;
    native.load(join(dirname(require.resolve('node-rdkafka/package.json')), 'build', 'deps', 'librdkafka.so.1'));
    loaded = native;
  } catch (e) {
    const code = (e as { code?: string }).code;
    loaded =
      code === 'MODULE_NOT_FOUND'
        ? 'the native batch reader is not built (npm run build compiles it)'
        : `the native batch reader does not load: ${(e as Error).message}`;
  }
  return loaded;
}

/** The restore consumer of the default supplier: native when it can be. */
export async function connectRestoreConsumer(settings: ClientSettings): Promise<RestoreConsumer> {
  const native = nativeBatchReader();
  if (typeof native === 'string') return restoreConsumerOver(await connectConsumer(settings, { consumeTimeoutMs: CONSUME_TIMEOUT_MS }), native);
  try {
    return new NativeRestoreConsumer(native, settings);
  } catch (e) {
    // A setting librdkafka refuses: the same shape as node-rdkafka's errors (_INVALID_ARG).
    throw Object.assign(new Error(`restore consumer: ${(e as Error).message}`), { code: -186 });
  }
}

class NativeBatch implements RecordBatch {
  readonly length: number;
  readonly eof: readonly TopicPartition[];
  constructor(private readonly raw: RawBatch) {
    this.length = raw.offsets.length;
    this.eof = raw.eof;
  }
  topic(i: number): string {
    return this.raw.topics[this.raw.meta[i * 6]!]!;
  }
  partition(i: number): number {
    return this.raw.meta[i * 6 + 1]!;
  }
  offset(i: number): number {
    return this.raw.offsets[i]!;
  }
  key(i: number): Buffer | null {
    return this.slice(i * 6 + 2);
  }
  value(i: number): Buffer | null {
    return this.slice(i * 6 + 4);
  }
  private slice(at: number): Buffer | null {
    const start = this.raw.meta[at]!;
    const length = this.raw.meta[at + 1]!;
    return length < 0 ? null : this.raw.data.subarray(start, start + length);
  }
}

class NativeRestoreConsumer implements RestoreConsumer {
  readonly reads = 'batch';
  private readonly handle: object;
  /** The reader runs one operation at a time: each waits for the one before. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly native: Native,
    settings: ClientSettings,
  ) {
    // As node-rdkafka's consumer: from the earliest offset the changelog still has when an offset is out of range.
    const all = { 'auto.offset.reset': 'earliest', ...settings };
    // node-rdkafka's own callback switches (dr_cb, event_cb, rebalance_cb…) are not librdkafka properties.
    const entries = Object.entries(all).filter(([k]) => !k.endsWith('_cb'));
    this.handle = native.open(entries.flatMap(([k, v]) => [k, String(v)]));
  }

  assign(partitions: readonly TopicPartitionOffset[]): void {
    this.native.assign(
      this.handle,
      partitions.map((p) => p.topic),
      partitions.map((p) => p.partition),
      partitions.map((p) => p.offset),
    );
  }

  unassign(): void {
    if (!this.closed) this.native.assign(this.handle, [], [], []);
  }

  consumeBatch(max: number): Promise<RecordBatch> {
    return this.run<RecordBatch>((done) =>
      this.native.consume(this.handle, max, CONSUME_TIMEOUT_MS, (err, raw) => {
        if (err && (!TRANSIENT.has(err.code) || raw === undefined)) done(err);
        else done(undefined, new NativeBatch(raw));
      }),
    );
  }

  queryWatermarks(topic: string, partition: number, timeoutMs: number): Promise<Watermarks> {
    return this.run<Watermarks>((done) => this.native.watermarks(this.handle, topic, partition, timeoutMs, (err, w) => done(err ?? undefined, w)));
  }

  isConnected(): boolean {
    return !this.closed;
  }

  disconnect(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.run<void>((done) => this.native.close(this.handle, (err) => done(err ?? undefined)), true);
  }

  /** Runs `op` after the operations before it; a closed reader refuses new ones (except close itself). */
  private run<T>(op: (done: (err: KafkaClientError | undefined, value?: T) => void) => void, closing = false): Promise<T> {
    const next = this.queue.then(
      () =>
        new Promise<T>((resolve, reject) => {
          if (this.closed && !closing) return reject(Object.assign(new Error('the restore consumer is closed'), { code: -172 /* _STATE */ }));
          op((err, value) => (err ? reject(err) : resolve(value as T)));
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }
}
