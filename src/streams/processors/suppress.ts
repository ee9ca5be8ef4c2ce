/**
 * suppress(untilWindowCloses): instead of every update, one final result per window, sent
 * when stream time passes the window's end plus its grace period (Quix Streams' `.final()`).
 * The latest value of each open window waits in a buffer — an in-memory store with a
 * changelog, so a restarted task still emits the windows it had not closed. Results carry
 * the window's last millisecond (end − 1) as their timestamp. The buffer is unbounded: it
 * holds one entry per open window.
 */
import type { TypedKeyValueStore } from '../../../state';
import { SerdeError, type Serde } from '../../serdes';
import type { Processor, ProcessorContext } from '../processor-api/processor';
import type { StreamRecord } from '../processor-api/record';
import type { Windowed } from '../dsl/windows';

/** The buffer's key: window start, window end, then the key's bytes. */
export function bufferKeySerde<K>(inner: Serde<K>): Serde<Windowed<K>> {
  return {
    name: `SuppressBuffer(${inner.name})`,
    serialize: (topic, w) => {
      const key = inner.serialize(topic, w.key) ?? Buffer.alloc(0);
      const out = Buffer.allocUnsafe(16 + key.length);
      out.writeBigUInt64BE(BigInt(w.window.start), 0);
      out.writeBigUInt64BE(BigInt(w.window.end), 8);
      key.copy(out, 16);
      return out;
    },
    deserialize: (topic, data) => {
      if (data === null || data.length < 16)
        throw new SerdeError('SuppressBuffer', `a suppression buffer key from "${topic}" needs at least 16 bytes, not ${data?.length ?? 'null'}`);
      const window = { start: Number(data.readBigUInt64BE(0)), end: Number(data.readBigUInt64BE(8)) };
      if (!Number.isSafeInteger(window.end))
        throw new SerdeError('SuppressBuffer', `the window of a suppression buffer key from "${topic}" ends beyond 2^53 ms`);
      return { key: inner.deserialize(topic, data.subarray(16)), window };
    },
  };
}

export class SuppressProcessor<K, V> implements Processor<Windowed<K>, V, Windowed<K>, V> {
  private ctx!: ProcessorContext<Windowed<K>, V>;
  private buffer!: TypedKeyValueStore<Windowed<K>, V>;
  private readonly pending = new Map<string, { key: Windowed<K>; value: V }>();
  private earliestEnd = Infinity;

  constructor(
    private readonly storeName: string,
    private readonly graceMs: number,
  ) {}

  init(context: ProcessorContext<Windowed<K>, V>): void {
    this.ctx = context;
    this.buffer = context.getStateStore<Windowed<K>, V>(this.storeName) as TypedKeyValueStore<Windowed<K>, V>;
    for (const [key, value] of this.buffer.entriesSync()) this.hold(key, value);
  }

  process(r: StreamRecord<Windowed<K>, V>): void {
    this.hold(r.key, r.value);
    this.buffer.put(r.key, r.value);
    this.emitClosed();
  }

  private hold(key: Windowed<K>, value: V): void {
    this.pending.set(`${key.window.start}:${key.window.end}:${JSON.stringify(key.key)}`, { key, value });
    if (key.window.end < this.earliestEnd) this.earliestEnd = key.window.end;
  }

  /** Every buffered window whose end + grace stream time has reached, oldest end first. */
  private emitClosed(): void {
    const closeTime = this.ctx.currentStreamTimeMs() - this.graceMs;
    if (this.earliestEnd > closeTime) return;
    const closed = [...this.pending]
      .filter(([, e]) => e.key.window.end <= closeTime)
      .sort(([, a], [, b]) => a.key.window.end - b.key.window.end || a.key.window.start - b.key.window.start);
    for (const [id, e] of closed) {
      this.pending.delete(id);
      this.buffer.delete(e.key);
      this.ctx.forward({ key: e.key, value: e.value, timestamp: e.key.window.end - 1, headers: [] });
    }
    this.earliestEnd = Math.min(Infinity, ...[...this.pending.values()].map((e) => e.key.window.end));
  }
}
