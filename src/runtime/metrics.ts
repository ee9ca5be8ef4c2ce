/**
 * Prometheus metrics of a KafkaStreams instance (prom-client), under the seed's names:
 * events_processed_total, events_failed_total, event_processing_duration_ms and
 * kafka_consumer_lag, plus end-to-end latency (event time → committed), commit latency, transactions, rebalances, restoration and the
 * state stores' operations (store-metrics.ts). Each instance has
 * its own registry (`streams.metrics`), labelled with its application id, so several
 * instances in one process do not collide; an HTTP server can merge registries.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EndToEndLatency } from './end-to-end';
import { StoreMetrics } from './store-metrics';
import type { CommitPhases } from './commit';

export type FailureReason = 'deserialization' | 'processing' | 'production' | 'late' | 'rejected';

export interface LagSource {
  /** topic, partition, lag (high watermark − position) for every assigned partition. */
  lags(): { topic: string; partition: number; lag: number }[];
}

export class StreamsMetrics {
  readonly registry: Registry;
  private readonly processedTotal: Counter<'topic'>;
  private readonly failedTotal: Counter<'reason'>;
  private readonly processingMs: Histogram;
  private readonly commitMs: Histogram;
  private readonly commitPhaseMs: Histogram<'phase'>;
  private readonly txns: Counter<'outcome'>;
  private readonly rebalances: Counter<'kind'>;
  private readonly restoredTotal: Counter<'store'>;
  private readonly lateTotal: Counter;
  private readonly restoreRemainingGauge: Gauge;
  /** Input records found on a partition the declared partitioner would not choose (partitioner-check.ts). */
  readonly partitionerMismatch: Counter<'topic'>;
  /** Event time → outputs committed (end-to-end.ts). */
  readonly endToEnd: EndToEndLatency;
  /** The state stores' meter (their metered layer reports here). */
  readonly stores: StoreMetrics;

  constructor(applicationId: string, lag: LagSource, registry = new Registry(), groupLag?: LagSource) {
    this.registry = registry;
    registry.setDefaultLabels({ application_id: applicationId });
    const registers = [registry];
    this.processedTotal = new Counter({
      name: 'events_processed_total',
      help: 'Input records processed (committed or not).',
      labelNames: ['topic'],
      registers,
    });
    this.failedTotal = new Counter({
      name: 'events_failed_total',
      help: 'Input records an error policy skipped or failed on.',
      labelNames: ['reason'],
      registers,
    });
    // Every reason from the start at 0: the error ratio is then 0, not "no data", and rate() sees the first failure.
    for (const reason of ['deserialization', 'processing', 'production', 'rejected'] as const) this.failedTotal.inc({ reason }, 0);
    // Up to 10 s: the seed's alert fires on a p95 over 1 s, and a bucket edge must lie above it.
    this.processingMs = new Histogram({
      name: 'event_processing_duration_ms',
      help: 'Time one input record spends in the topology (ms).',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    });
    this.endToEnd = new EndToEndLatency(
      new Histogram({
        name: 'event_end_to_end_latency_ms',
        help: "From an input record's timestamp (event time) to the commit that made its outputs visible (ms): what a consumer of the outputs waits.",
        buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000],
        registers,
      }),
    );
    this.commitMs = new Histogram({
      name: 'streams_commit_duration_ms',
      help: 'Duration of a commit: flush, offsets, commitTransaction (ms).',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000],
      registers,
    });
    this.commitPhaseMs = new Histogram({
      name: 'streams_commit_phase_duration_ms',
      help: "A commit's time by phase (ms): flush (the stores' caches into the transaction), offsets (sendOffsetsToTransaction), commit (commitTransaction: the producer's flush and EndTxn), stores (staged writes to the stores).",
      labelNames: ['phase'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000],
      registers,
    });
    this.txns = new Counter({
      name: 'streams_transactions_total',
      help: 'Transactions (or at-least-once commits) by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.rebalances = new Counter({ name: 'streams_rebalances_total', help: 'Partition assignments and revocations.', labelNames: ['kind'], registers });
    this.lateTotal = new Counter({
      name: 'events_late_total',
      help: 'Records a windowed aggregation dropped because all their windows had closed (past the grace period).',
      registers,
    });
    this.restoredTotal = new Counter({
      name: 'streams_restored_records_total',
      help: 'Changelog records applied to state stores during restoration.',
      labelNames: ['store'],
      registers,
    });
    this.restoreRemainingGauge = new Gauge({
      name: 'streams_restore_remaining_records',
      help: 'Changelog records left to restore (0 when no restoration runs).',
      registers,
    });
    this.partitionerMismatch = new Counter({
      name: 'streams_partitioner_mismatch_total',
      help: 'Keyed input records on a partition the declared input partitioner would not choose (the input was written with another partitioner).',
      labelNames: ['topic'],
      registers,
    });
    this.stores = new StoreMetrics(registry);
    new Gauge({
      name: 'kafka_consumer_lag',
      help: 'Records between the consumer position and the high watermark, per input partition.',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const l of lag.lags()) this.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
      },
    });
    if (groupLag) {
      new Gauge({
        name: 'kafka_consumer_group_lag',
        help: "Records between the consumer group's committed offset and the last stable offset, per input partition — every partition of the group, as of the last poll (30 s), so a stopped instance's partitions are reported by the others.",
        labelNames: ['topic', 'partition'],
        registers,
        // Every stream thread polls the whole group: across threads the figure is the same, not a part.
        aggregator: 'max',
        collect() {
          this.reset();
          for (const l of groupLag.lags()) this.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
        },
      });
    }
  }

  processed(topic: string, count: number): void {
    this.processedTotal.inc({ topic }, count);
  }

  /** Time each record of a batch spent in the topology, in ms. */
  recordDurations(ms: ArrayLike<number>): void {
    for (let i = 0; i < ms.length; i++) this.processingMs.observe(ms[i]!);
  }

  failed(reason: FailureReason): void {
    if (reason === 'late') this.lateTotal.inc();
    else this.failedTotal.inc({ reason });
  }

  committed(durationMs: number, phases: CommitPhases): void {
    this.commitMs.observe(durationMs);
    for (const [phase, ms] of Object.entries(phases) as [string, number][]) this.commitPhaseMs.observe({ phase }, ms);
    this.txns.inc({ outcome: 'committed' });
  }

  aborted(): void {
    this.txns.inc({ outcome: 'aborted' });
  }

  rebalanced(kind: 'assign' | 'revoke'): void {
    this.rebalances.inc({ kind });
  }

  restored(store: string, records: number): void {
    this.restoredTotal.inc({ store }, records);
  }

  restoreRemaining(records: number): void {
    this.restoreRemainingGauge.set(records);
  }
}
