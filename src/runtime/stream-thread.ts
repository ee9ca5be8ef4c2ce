/**
 * The processing loop: poll a batch, process it task by task inside the open
 * transaction, commit on the interval (commit.ts), and recover from transaction errors:
 * abortable → abort and rewind every task to its committed offsets; fatal → rebuild the
 * producer, then rewind. A failure an error policy answered 'fail' for stops the loop.
 * Rebalance callbacks only queue events; the loop applies them between batches.
 */
import { join } from 'node:path';
import type { Admin, Consumer, TopicPartition } from '../kafka';
import { StateDb } from '../../state';
import type { RawRecord } from '../streams/internals/task-graph';
import { StreamingError, isStreamingError } from '../errors';
import { txnError } from './txn-errors';
import type { Logger } from '../logger';
import type { TopologyGraph } from '../streams/internals/graph';
import { commitAll } from './commit';
import { CommitTimer } from './commit-timer';
import { committedOffsets, connectConsumer, consumerLags, rewindToCommitted } from './consumer';
import type { CheckpointSource } from './checkpoint-guard';
import type { ResolvedStreamsConfig } from './streams-config';
import { StreamsProducer } from './streams-producer';
import { TaskManager } from './task-manager';
import { StreamsMetrics } from './metrics';
import { prepareBatch, prepareTopology } from './prepare';
import { Prefetcher } from './prefetch';
import { StoreRestorer } from './restore';
import { PartitionerCheck } from './partitioner-check';
import { GroupLag } from './group-lag';
import { processTraced } from './traced';
import { RegistryWait } from '../serdes';

/** Consecutive failed transactions (with growing back-off, ~30 s in all) before the thread gives up. */
const MAX_FAILED_IN_A_ROW = 10;

interface RebalanceEvent {
  kind: 'assign' | 'revoke';
  partitions: TopicPartition[];
}

export interface ThreadListener {
  rebalancing(): void;
  running(): void;
  /** The tasks this instance runs changed (after restoration). */
  assigned(taskIds: string[]): void;
  /** Input records of a topic were found off the declared partitioner. */
  partitionerMismatch(topic: string): void;
  failed(err: Error): void;
}

export class StreamThread {
  private consumer!: Consumer;
  private producer!: StreamsProducer;
  private generation = 0;
  private readonly tasks: TaskManager;
  private readonly events: RebalanceEvent[] = [];
  private running = false;
  private closing = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly commitTimer: CommitTimer;
  private failedInARow = 0;
  private closed: Promise<void> | undefined;
  /** forceClose() ran: the graceful close must not touch the clients any more. */
  private forced = false;
  private readonly restorer: StoreRestorer;
  private readonly prefetcher: Prefetcher;
  /** The instance's RocksDB database, when the topology has persistent stores. */
  private db: StateDb | undefined;

  readonly metrics: StreamsMetrics;
  private readonly admin: Admin;
  /** The whole group's committed lag (kafka_consumer_group_lag). */
  private readonly groupLag: GroupLag;
  /** Whether input records sit where the declared partitioner puts them (key look-ups read it). */
  readonly partitioners: PartitionerCheck;
  /** True while new tasks restore their stores (queries answer 503 meanwhile). */
  restoring = false;
  /** Waiting for the schema registry, when it does not answer (/readyz reads `waitingFor`). */
  readonly registry: RegistryWait;

  /** The stores of a task this instance runs now (interactive queries). */
  localStores(taskId: string): ReturnType<TaskManager['storesOf']> {
    return this.tasks.storesOf(taskId);
  }

  localTasks(): string[] {
    return this.tasks.taskIds();
  }

  constructor(
    private readonly graph: TopologyGraph,
    private readonly config: ResolvedStreamsConfig,
    private readonly log: Logger,
    private readonly listener: ThreadListener,
  ) {
    this.admin = config.clients.admin(config.client);
    const external = new Set(
      graph
        .sources()
        .filter((s) => !s.internal)
        .flatMap((s) => [...s.topics]),
    );
    this.groupLag = new GroupLag({ admin: config.clients.admin(config.client), topics: external, consumer: () => this.consumer, log });
    this.metrics = new StreamsMetrics(
      config.applicationId,
      { lags: () => (this.consumer?.isConnected() ? consumerLags(this.consumer, this.tasks.assignedPartitions()) : []) },
      config.metricsRegistry,
      this.groupLag,
    );
    // Tasks write through whichever producer is current: it is rebuilt after a fatal error.
    this.tasks = new TaskManager({
      graph,
      config,
      collector: { send: (...args) => this.producer.send(...args) },
      observe: (reason) => this.metrics.failed(reason),
      stateDb: () => this.db,
      meter: this.metrics.stores,
    });
    this.restorer = new StoreRestorer(config, log, this.metrics);
    this.prefetcher = new Prefetcher(() => this.consumer, config.maxPollRecords, MAX_FAILED_IN_A_ROW * 3, log);
    this.registry = new RegistryWait(log);
    this.commitTimer = new CommitTimer(config.commitIntervalMs, config.commitMaxRecords);
    this.partitioners = new PartitionerCheck({
      declared: config.inputPartitioner,
      external,
      counter: this.metrics.partitionerMismatch,
      log,
      file: join(config.stateDir, 'partitioner-mismatch.json'),
      onMismatch: (topic) => listener.partitionerMismatch(topic),
    });
  }

  async start(): Promise<void> {
    await this.registry.until('registering the output schemas', () => prepareTopology(this.graph, this.config, this.log));
    await this.partitioners.refreshCounts(this.admin);
    if ([...this.graph.stores.values()].some((s) => s.backend === 'rocksdb')) {
      this.db = await StateDb.open({
        path: join(this.config.stateDir, 'rocksdb'),
        cacheBytes: this.config.rocksDbCacheBytes,
        writeBufferBytes: this.config.rocksDbWriteBufferBytes,
      });
      this.log.info({ stateDir: this.config.stateDir }, 'opened the state store database');
    }
    await this.newProducer();
    this.consumer = await connectConsumer(this.config, (kind, partitions) => this.onRebalance(kind, partitions));
    this.consumer.subscribe(this.graph.sourceTopics());
    this.groupLag.start();
    this.running = true;
    this.listener.rebalancing();
    this.loopDone = this.loop();
  }

  private onRebalance(kind: 'assign' | 'revoke', partitions: TopicPartition[]): void {
    this.events.push({ kind, partitions });
    // Once closing, the final commit is done: partitions are only handed over, at once.
    if (this.closing) this.handOverQueued();
    else this.listener.rebalancing();
  }

  /** While closing: answer queued rebalances so librdkafka can finish leaving the group. */
  private handOverQueued(): void {
    for (const e of this.events.splice(0)) {
      try {
        if (e.kind === 'revoke') {
          this.tasks.revoke(e.partitions).catch((err: unknown) => this.log.warn({ err }, 'closing revoked tasks failed'));
          this.consumer.incrementalUnassign(e.partitions);
        } else this.consumer.incrementalAssign(e.partitions);
      } catch (err) {
        this.log.warn({ err, kind: e.kind }, 'rebalance while closing failed');
      }
    }
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.applyRebalanceEvents();
        if (!this.running) break; // closing: a restoration the close cut short leaves nothing to process
        const batch = await this.prefetcher.take();
        if (batch.length > 0) {
          // Writer schemas the batch needs: without the registry nothing can be decoded, so it is waited for.
          await prepareBatch(this.graph, batch).catch((err: unknown) => {
            throw new StreamingError(
              'SA_ERR_SCHEMA_REGISTRY_UNAVAILABLE',
              `the schema registry did not answer while fetching the batch's writer schemas: ${(err as Error).message}`,
              { cause: err },
            );
          });
          this.registry.answered();
          const records = batch;
          await this.tasks.prefetch(records).catch((err: unknown) => {
            throw txnError('loading the state the batch reads (RocksDB)', err, 'abortable');
          });
          await this.producer.begin();
          this.processBatch(records);
          this.tasks.endBatch();
          this.partitioners.observe(records);
        }
        if (this.tasks.wallClockDue(Date.now())) {
          await this.producer.begin();
          this.tasks.punctuateWallClock(Date.now());
          this.commitTimer.punctuation();
        }
        if (this.commitDue()) await this.commit();
      } catch (err) {
        await this.recover(err);
      }
    }
  }

  private processBatch(batch: RawRecord[]): void {
    const durations = new Float64Array(batch.length);
    let previous = performance.now();
    const tracer = this.config.tracer;
    for (let i = 0; i < batch.length; i++) {
      if (tracer) processTraced(tracer, batch[i]!, (r) => this.tasks.process(r));
      else this.tasks.process(batch[i]!);
      const now = performance.now();
      durations[i] = now - previous;
      previous = now;
    }
    // Metrics after the batch: counted per topic run, not per record.
    this.metrics.recordDurations(durations);
    this.metrics.endToEnd.add(batch);
    let runStart = 0;
    for (let i = 1; i <= batch.length; i++) {
      if (i === batch.length || batch[i]!.topic !== batch[runStart]!.topic) {
        this.metrics.processed(batch[runStart]!.topic, i - runStart);
        runStart = i;
      }
    }
    this.commitTimer.processed(batch.length);
  }

  private commitDue(): boolean {
    // A prestarted transaction with nothing in it waits for records: the timer says there is nothing to commit.
    return this.producer.inTransaction() && this.commitTimer.due();
  }

  private async commit(): Promise<void> {
    if (this.producer?.inTransaction()) {
      const result = await commitAll(this.tasks, this.producer, this.consumer);
      // The next transaction opens while the next batch is awaited, not after it arrives.
      if (this.running) void this.producer.begin();
      this.failedInARow = 0;
      this.metrics.committed(result.durationMs, result.phases);
      this.metrics.endToEnd.committed();
      this.log.trace({ partitions: result.partitions, durationMs: result.durationMs, records: this.commitTimer.recordsSince }, 'committed');
    }
    this.commitTimer.restart();
  }

  /**
   * Applies queued rebalance events between batches. First the open transaction ends
   * (endTransaction) and the prefetched batch is dropped; partitions kept across the
   * rebalance then seek back to their committed offsets, so the dropped records are read
   * again — none skipped, none read twice. New tasks restore their stores before the loop
   * goes on, so none of them processes a record against a partial store.
   */
  private async applyRebalanceEvents(): Promise<void> {
    if (this.events.length === 0) return;
    await this.endTransaction();
    const before = new Set(this.tasks.assignedPartitions().map((tp) => `${tp.topic}:${tp.partition}`));
    await this.prefetcher.drop();
    const created: string[] = [];
    while (this.events.length > 0) {
      const e = this.events.shift()!;
      this.metrics.rebalanced(e.kind);
      if (e.kind === 'revoke') {
        const { closed, uncheckpointed } = await this.tasks.revoke(e.partitions, this.checkpoints);
        this.consumer.incrementalUnassign(e.partitions);
        this.log.info({ partitions: e.partitions.length, closedTasks: closed }, 'partitions revoked');
        this.logUncheckpointed(uncheckpointed);
      } else {
        const made = this.tasks.assign(e.partitions);
        created.push(...made);
        this.consumer.incrementalAssign(e.partitions);
        this.log.info({ partitions: e.partitions.length, createdTasks: made, tasks: this.tasks.taskIds() }, 'partitions assigned');
      }
    }
    if (created.length > 0) await this.partitioners.refreshCounts(this.admin); // partitions may have been added
    await this.tasks
      .recordAssignedOffsets(this.checkpoints)
      .catch((err: unknown) => this.log.warn({ err }, 'could not read the committed offsets of new tasks; they will not checkpoint on close'));
    const kept = this.tasks.assignedPartitions().filter((tp) => before.has(`${tp.topic}:${tp.partition}`));
    await rewindToCommitted(this.consumer, kept);
    const fromScratch = this.tasks.checkpointProblems(created);
    if (Object.keys(fromScratch).length > 0)
      this.log.info({ tasks: fromScratch }, 'no usable checkpoint: these tasks wipe their persistent stores and restore them from the beginning');
    this.restoring = true;
    const restoration = await this.restorer
      .restore(this.tasks.restoreTargets(created))
      .finally(() => (this.restoring = false))
      .catch((err: unknown) => {
        throw new StreamingError('SA_ERR_RESTORE_FAILED', `restoring the state stores of tasks ${created.join(', ')} failed: ${(err as Error).message}`, {
          cause: err,
          hint: 'check that the changelog topics exist and the brokers are reachable',
        });
      });
    if (restoration === 'stopped') return; // closing: the loop ends, and no task processed a record against a partial store
    this.listener.assigned(this.tasks.taskIds());
    this.listener.running();
  }

  /**
   * Before partitions move: with a revocation queued the open transaction is aborted, not
   * committed — node-rdkafka cannot tell a revocation from a lost assignment, and a member
   * that lost its partitions must not commit (its group metadata may no longer fence it).
   * The kept tasks restart from their committed offsets. An assignment alone commits.
   */
  private async endTransaction(): Promise<'committed' | 'aborted'> {
    if (!this.events.some((e) => e.kind === 'revoke')) {
      await this.commit();
      return 'committed';
    }
    if (this.producer?.inTransaction()) {
      await this.producer.abort();
      this.metrics.aborted();
    }
    this.tasks.reset();
    this.metrics.endToEnd.discard();
    this.commitTimer.restart();
    return 'aborted';
  }

  private async recover(err: unknown): Promise<void> {
    const code = isStreamingError(err) ? err.code : undefined;
    if (code === 'SA_ERR_SCHEMA_REGISTRY_UNAVAILABLE') {
      // Abort first: an open transaction must not outlive the back-off (the broker would time it out and fence us).
      await (this.producer.inTransaction() ? this.producer.abort() : Promise.resolve()).catch((e: unknown) =>
        this.log.warn({ err: e }, 'aborting while the registry is away failed'),
      );
      await this.registry.backOff(err, 'fetching writer schemas');
      return this.rewind();
    }
    if (code === 'SA_ERR_TXN_ABORTABLE' || code === 'SA_ERR_TXN_FATAL') {
      this.failedInARow++;
      if (this.failedInARow > MAX_FAILED_IN_A_ROW) return this.fail(err);
      this.log.warn({ err, code, attempt: this.failedInARow }, 'transaction failed; recovering from the committed offsets');
      // A cause that persists (a record the broker refuses, a registry outage) must not spin.
      await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** (this.failedInARow - 1))));
      try {
        this.metrics.aborted();
        if (code === 'SA_ERR_TXN_ABORTABLE') await this.producer.abort();
        else await this.newProducer();
        await this.rewind();
        return;
      } catch (again) {
        if (isStreamingError(again) && again.code === 'SA_ERR_TXN_FATAL') {
          await this.newProducer()
            .then(() => this.rewind())
            .catch((e: unknown) => this.fail(e));
          return;
        }
        return this.fail(again);
      }
    }
    return this.fail(err);
  }

  private async rewind(): Promise<void> {
    await this.prefetcher.drop();
    this.tasks.reset();
    this.metrics.endToEnd.discard();
    await rewindToCommitted(this.consumer, this.tasks.assignedPartitions());
    this.commitTimer.restart();
  }

  /** What a closing task checks before it checkpoints (checkpoint-guard.ts). */
  private readonly checkpoints: CheckpointSource = {
    endOffsets: (partitions) => this.restorer.endOffsets(partitions),
    committed: (partitions) => committedOffsets(this.consumer, partitions),
  };

  private logUncheckpointed(tasks: readonly string[]): void {
    if (tasks.length > 0)
      this.log.info(
        { tasks },
        'closed without a new checkpoint: another instance may have written their changelogs meanwhile (a lost assignment), or it could not be checked; the next open restores from the last checkpoint',
      );
  }

  private async newProducer(): Promise<void> {
    await this.producer?.close().catch(() => undefined);
    this.producer = new StreamsProducer(this.config, this.generation++);
    await this.producer.init();
  }

  private async fail(err: unknown): Promise<void> {
    const error = err instanceof Error ? err : new Error(String(err));
    this.log.error({ err: error, code: isStreamingError(error) ? error.code : undefined }, 'stream thread failed; stopping');
    this.running = false;
    await this.producer.abort().catch(() => undefined);
    this.listener.failed(error);
  }

  /**
   * After the close timeout: the consumers are dropped without the graceful steps (the
   * group sees this instance leave). The open transaction is left to the broker, which
   * aborts it after transaction.timeout.ms (or at once when this instance id starts
   * again); nothing uncommitted becomes visible.
   */
  async forceClose(graceMs = 5_000): Promise<void> {
    this.running = false;
    this.forced = true;
    this.groupLag.stop();
    // A consumer leaving the group is revoked first: answer that at once, or its close never ends.
    this.closing = true;
    if (this.consumer) this.handOverQueued();
    const consumer = this.consumer;
    // The producer is left to the graceful close: it is inside a transactional call that
    // returns within the transaction timeout, and destroying it meanwhile hangs librdkafka.
    const drop = Promise.allSettled([consumer?.disconnect(), this.restorer.close()]);
    await Promise.race([drop, new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  /** Finishes the current batch, commits, and leaves the group. Safe to call more than once. */
  close(): Promise<void> {
    this.registry.stop();
    this.restorer.stop();
    this.groupLag.stop();
    this.closed ??= this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<void> {
    this.running = false;
    await this.loopDone;
    await this.prefetcher.drop(); // not processed, so not committed: the next owner reads them
    let finalCommit: 'committed' | 'aborted' | 'failed' = 'failed';
    try {
      finalCommit = await this.endTransaction();
    } catch (err) {
      this.log.warn({ err }, 'final commit failed; aborting');
      await this.producer?.abort().catch(() => undefined);
    }
    // Past the close timeout forceClose() dropped the clients: touching them again would
    // wait forever (node-rdkafka never calls back a second disconnect).
    if (this.forced) return this.closeProducerAndState();
    this.closing = true;
    if (this.consumer) this.handOverQueued();
    try {
      this.logUncheckpointed(await this.tasks.closeAll(this.checkpoints, finalCommit === 'committed'));
    } catch (err) {
      this.log.warn({ err }, 'a task failed to close');
    }
    await this.consumer?.disconnect();
    await this.restorer.close();
    await this.closeProducerAndState();
  }

  private async closeProducerAndState(): Promise<void> {
    await this.producer?.close();
    await this.db?.close().catch((err: unknown) => this.log.warn({ err }, 'closing the state store database failed'));
  }
}
