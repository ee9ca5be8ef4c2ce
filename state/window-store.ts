/**
 * Window stores: windowed values kept in a key-value store stack under the key
 * `[segment 8B][key length 4B][key][window start 8B]`. The segment (window start ÷
 * segment interval) leads the key, so retention drops whole segments with one range
 * delete, and a key's windows within a segment are adjacent and in start order.
 * Window starts are epoch milliseconds ≥ 0.
 */
import { SerdeError, type Serde } from '../src/serdes';
import type { KeyValueBytesStore } from './bytes-store';

export interface WindowTiming {
  /** Windows whose start is older than stream time − retention are dropped. */
  retentionMs: number;
  segmentMs: number;
}

/** Kafka Streams' choice: half the retention, at least a minute. */
export function segmentInterval(retentionMs: number): number {
  return Math.max(Math.floor(retentionMs / 2), 60_000);
}

function writeUint64(out: Buffer, value: number, at: number): void {
  out.writeUInt32BE(Math.floor(value / 2 ** 32), at);
  out.writeUInt32BE(value >>> 0, at + 4);
}

function readUint64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);
}

export function segmentPrefix(segment: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  writeUint64(out, Math.max(0, segment), 0);
  return out;
}

export function windowKey(key: Buffer, start: number, segmentMs: number): Buffer {
  const out = Buffer.allocUnsafe(20 + key.length);
  writeUint64(out, Math.floor(start / segmentMs), 0);
  out.writeUInt32BE(key.length, 8);
  key.copy(out, 12);
  writeUint64(out, start, 12 + key.length);
  return out;
}

/**
 * Why `full` cannot be a window-store key, or undefined when it can: its key length must
 * fit its bytes exactly, its start must be a safe integer and, given the segment
 * interval, its segment must be the one of its start (restoration skips other keys).
 */
export function windowKeyProblem(full: Buffer, segmentMs?: number): string | undefined {
  if (full.length < 20) return `${full.length} bytes are fewer than the 20 of the shortest window key`;
  const length = full.readUInt32BE(8);
  if (length !== full.length - 20) return `its key length ${length} does not fit its ${full.length} bytes`;
  if (full.readUInt32BE(12 + length) >= 2 ** 21) return 'its window start is beyond 2^53 ms';
  if (segmentMs !== undefined && readUint64(full, 0) !== Math.floor(readUint64(full, 12 + length) / segmentMs))
    return 'its segment is not the one of its window start (written with another segment interval, or not by this engine)';
  return undefined;
}

export function decodeWindowKey(full: Buffer): { key: Buffer; start: number } {
  const problem = windowKeyProblem(full);
  if (problem !== undefined) throw new SerdeError('WindowKey', `a window-store key cannot be read: ${problem}`);
  const length = full.readUInt32BE(8);
  return { key: full.subarray(12, 12 + length), start: readUint64(full, 12 + length) };
}

export interface ReadOnlyWindowStore<K, V> {
  readonly name: string;
  /** The value of the window of `key` that starts at `start` (synchronous, as `get`). */
  fetch(key: K, start: number): V | undefined;
  /** A key's windows with from ≤ start ≤ to, in start order. */
  fetchRange(key: K, from: number, to: number): Promise<{ start: number; value: V }[]>;
  /** Every key's windows with from ≤ start ≤ to, by segment, then key bytes, then start. */
  fetchAll(from: number, to: number, limit?: number): Promise<{ key: K; start: number; value: V }[]>;
}

export interface WindowStore<K, V> extends ReadOnlyWindowStore<K, V> {
  put(key: K, start: number, value: V): void;
  delete(key: K, start: number): void;
}

export class TypedWindowStore<K, V> implements WindowStore<K, V> {
  private expiredBelow = 0;
  /** The last primitive key and start serialized: an aggregation fetches, then puts, the same window. */
  private last: { key: K; start: number; bytes: Buffer } | undefined;

  constructor(
    private readonly bytes: KeyValueBytesStore,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    private readonly topic: string,
    readonly timing: WindowTiming,
  ) {}

  get name(): string {
    return this.bytes.name;
  }

  /** The store key of a window (what a batch prefetches). */
  storeKey(key: K, start: number): Buffer {
    const last = this.last;
    if (last !== undefined && last.key === key && last.start === start) return last.bytes;
    const bytes = windowKey(this.keyBytes(key), start, this.timing.segmentMs);
    if (typeof key !== 'object') this.last = { key, start, bytes };
    return bytes;
  }

  fetch(key: K, start: number): V | undefined {
    const value = this.bytes.get(this.storeKey(key, start));
    return value === undefined ? undefined : this.valueSerde.deserialize(this.topic, value);
  }

  /** `emit` (internal): what the write-back cache hands its flush listener for this window; see emitOnFlush. */
  put(key: K, start: number, value: V, emit?: unknown): void {
    this.bytes.put(this.storeKey(key, start), this.valueSerde.serialize(this.topic, value), emit);
  }

  /** @internal Emit on update through the cache (see state/caching.ts); false when the store has no cache. */
  emitOnFlush(listener: (emit: unknown) => void): boolean {
    return this.bytes.setFlushListener?.(listener) ?? false;
  }

  delete(key: K, start: number): void {
    this.bytes.put(this.storeKey(key, start), null);
  }

  async fetchRange(key: K, from: number, to: number): Promise<{ start: number; value: V }[]> {
    const k = this.keyBytes(key);
    const seg = this.timing.segmentMs;
    const out: { start: number; value: V }[] = [];
    for await (const s of this.segmentsWithin(from, to)) {
      const lo = Math.max(from, s * seg);
      const hi = Math.min(to, (s + 1) * seg - 1);
      for (const [full, v] of await this.bytes.range(windowKey(k, lo, seg), windowKey(k, hi, seg).fill(0xff, 12 + k.length))) {
        const { start } = decodeWindowKey(full);
        if (start >= lo && start <= hi) out.push({ start, value: this.valueSerde.deserialize(this.topic, v) });
      }
    }
    return out;
  }

  async fetchAll(from: number, to: number, limit = Infinity): Promise<{ key: K; start: number; value: V }[]> {
    const out: { key: K; start: number; value: V }[] = [];
    for await (const s of this.segmentsWithin(from, to)) {
      for (const [full, v] of await this.bytes.range(segmentPrefix(s), segmentPrefix(s + 1))) {
        const { key, start } = decodeWindowKey(full);
        if (start < from || start > to) continue;
        out.push({ key: this.keySerde.deserialize(this.topic, key), start, value: this.valueSerde.deserialize(this.topic, v) });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /**
   * The segments holding windows that start within [from, to], in order — found by
   * jumping from one stored segment to the next, so a wide range (a query for all time)
   * costs as many steps as there are segments, not as many as the range could hold.
   */
  private async *segmentsWithin(from: number, to: number): AsyncGenerator<number> {
    const seg = this.timing.segmentMs;
    const last = Math.floor(Math.max(0, to) / seg);
    for (let s = Math.floor(Math.max(0, from) / seg); s <= last; s++) {
      const next = await this.bytes.range(segmentPrefix(s), segmentPrefix(last + 1), 1);
      if (next.length === 0 || next[0]![0].length < 8) return;
      s = readUint64(next[0]![0], 0);
      yield s;
    }
  }

  /** Drops the segments whose every window started before stream time − retention. */
  async expire(streamTimeMs: number): Promise<void> {
    const below = Math.floor((streamTimeMs - this.timing.retentionMs) / this.timing.segmentMs);
    if (below <= this.expiredBelow) return;
    this.expiredBelow = below;
    await this.bytes.deleteRange(undefined, segmentPrefix(below));
  }

  private keyBytes(key: K): Buffer {
    const bytes = this.keySerde.serialize(this.topic, key);
    if (bytes === null) throw new TypeError(`window store "${this.name}": a key serialized to null (keys must not be null)`);
    return bytes;
  }
}
