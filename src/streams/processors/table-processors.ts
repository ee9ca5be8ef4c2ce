/**
 * The processors of tables: a table source materializes each record of its topic into the
 * table's store (a null value deletes the key) and forwards it; a stream–table join looks
 * each stream record's key up in that store (Kafka Streams' KStream#join(KTable)).
 */
import type { KeyValueStore } from '../../../state';
import type { Processor, ProcessorContext } from '../processor-api/processor';
import type { StreamRecord } from '../processor-api/record';

export class TableSourceProcessor<K, V> implements Processor<K, V | null, K, V | null> {
  private ctx!: ProcessorContext<K, V | null>;
  private store!: KeyValueStore<K, V>;

  constructor(private readonly storeName: string) {}

  init(context: ProcessorContext<K, V | null>): void {
    this.ctx = context;
    this.store = context.getStateStore<K, V>(this.storeName);
  }

  process(r: StreamRecord<K, V | null>): void {
    if (r.key === null || r.key === undefined) return; // a table has no row for a null key
    if (r.value === null || r.value === undefined) this.store.delete(r.key);
    else this.store.put(r.key, r.value);
    this.ctx.forward(r);
  }
}

export class StreamTableJoinProcessor<K, V, VT, VR> implements Processor<K, V, K, VR> {
  private ctx!: ProcessorContext<K, VR>;
  private table!: KeyValueStore<K, VT>;

  constructor(
    private readonly storeName: string,
    private readonly joiner: (value: V, tableValue: VT | null, key: K) => VR,
    private readonly left: boolean,
  ) {}

  init(context: ProcessorContext<K, VR>): void {
    this.ctx = context;
    this.table = context.getStateStore<K, VT>(this.storeName);
  }

  process(r: StreamRecord<K, V>): void {
    // Kafka Streams drops stream records with a null key (and, in an inner join, a null value).
    if (r.key === null || r.key === undefined) return;
    if (!this.left && (r.value === null || r.value === undefined)) return;
    const match = this.table.get(r.key);
    if (match === undefined && !this.left) return;
    this.ctx.forward({ key: r.key, value: this.joiner(r.value, match ?? null, r.key), timestamp: r.timestamp, headers: r.headers });
  }
}
