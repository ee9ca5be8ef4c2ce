/**
 * The stateless DSL operators as processors, one small class each. Each is created per
 * task by its supplier; none keeps state between records.
 */
import type { Processor, ProcessorContext } from '../processor-api/processor';
import type { KeyValue, StreamRecord } from '../processor-api/record';

abstract class Forwarding<KIn, VIn, KOut, VOut> implements Processor<KIn, VIn, KOut, VOut> {
  protected ctx!: ProcessorContext<KOut, VOut>;
  init(context: ProcessorContext<KOut, VOut>): void {
    this.ctx = context;
  }
  abstract process(record: StreamRecord<KIn, VIn>): void;
}

export class FilterProcessor<K, V> extends Forwarding<K, V, K, V> {
  constructor(
    private readonly predicate: (key: K, value: V) => boolean,
    private readonly keep: boolean,
  ) {
    super();
  }
  process(r: StreamRecord<K, V>): void {
    if (this.predicate(r.key, r.value) === this.keep) this.ctx.forward(r);
  }
}

export class MapProcessor<K, V, K2, V2> extends Forwarding<K, V, K2, V2> {
  constructor(private readonly mapper: (key: K, value: V) => KeyValue<K2, V2>) {
    super();
  }
  process(r: StreamRecord<K, V>): void {
    const [key, value] = this.mapper(r.key, r.value);
    this.ctx.forward({ key, value, timestamp: r.timestamp, headers: r.headers });
  }
}

export class MapValuesProcessor<K, V, V2> extends Forwarding<K, V, K, V2> {
  constructor(private readonly mapper: (value: V, key: K) => V2) {
    super();
  }
  process(r: StreamRecord<K, V>): void {
    this.ctx.forward({ key: r.key, value: this.mapper(r.value, r.key), timestamp: r.timestamp, headers: r.headers });
  }
}

export class FlatMapProcessor<K, V, K2, V2> extends Forwarding<K, V, K2, V2> {
  constructor(private readonly mapper: (key: K, value: V) => Iterable<KeyValue<K2, V2>>) {
    super();
  }
  process(r: StreamRecord<K, V>): void {
    for (const [key, value] of this.mapper(r.key, r.value)) this.ctx.forward({ key, value, timestamp: r.timestamp, headers: r.headers });
  }
}

export class FlatMapValuesProcessor<K, V, V2> extends Forwarding<K, V, K, V2> {
  constructor(private readonly mapper: (value: V, key: K) => Iterable<V2>) {
    super();
  }
  process(r: StreamRecord<K, V>): void {
    for (const value of this.mapper(r.value, r.key)) this.ctx.forward({ key: r.key, value, timestamp: r.timestamp, headers: r.headers });
  }
}

export class PeekProcessor<K, V> extends Forwarding<K, V, K, V> {
  constructor(private readonly action: (key: K, value: V) => void) {
    super();
  }
  process(r: StreamRecord<K, V>): void {
    this.action(r.key, r.value);
    this.ctx.forward(r);
  }
}

/** Forwards unchanged: merge points and branch heads. */
export class PassThroughProcessor<K, V> extends Forwarding<K, V, K, V> {
  process(r: StreamRecord<K, V>): void {
    this.ctx.forward(r);
  }
}

/** Sends each record to the first branch whose predicate holds, else to the default branch if any. */
export class BranchProcessor<K, V> extends Forwarding<K, V, K, V> {
  constructor(
    private readonly branches: readonly { predicate: (key: K, value: V) => boolean; child: string }[],
    private readonly defaultChild: string | undefined,
  ) {
    super();
  }
  process(r: StreamRecord<K, V>): void {
    for (const b of this.branches) {
      if (b.predicate(r.key, r.value)) return this.ctx.forward(r, b.child);
    }
    if (this.defaultChild !== undefined) this.ctx.forward(r, this.defaultChild);
  }
}
