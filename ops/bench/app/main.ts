/**
 * The Node side of the benchmark harness, as its own process, run from the compiled build
 * (bench/build/…, made by tsconfig.bench.json) so the harness measures what production
 * runs, not tsx. It takes the same arguments as the Kafka Streams peer:
 *
 *   node bench/build/ops/bench/app/main.js engine|windowed|pipeline --application-id ID --state-dir DIR
 *     [--threads N] [--commit-interval MS]
 *     engine:   --input T --output T
 *     windowed: --input T --counts T --sums T
 *     pipeline: --events T --predictions T --alerts T --metrics T --model VERSION_DIR
 *     restore:  --input T (a count store "counts" whose changelog, <ID>-counts-changelog, is full)
 *               [--reader records] (every scenario): node-rdkafka's consume, not the native batch readers (the before)
 *
 * The Kafka and registry connection comes from the environment, as for every command.
 * Prints `RUNNING` once running and `TASKS n1,n2,…` (each stream thread's task count) when
 * that changes; a line `stats` on stdin answers `STATS {json}` (model calls since the last
 * `stats`, commits so far); SIGTERM closes and exits 0.
 */
import { basename, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Registry } from 'prom-client';
import { loadSchema } from '../../../schemas/catalog';
import { kafkaClientConfig, loadConfigOrExit, registryClientOptions, type Config } from '../../../src/config';
import { parseCli, usageError, wholeNumber } from '../../../src/cli-args';
import { isStreamingError } from '../../../src/errors';
import { localCatalogue, ModelRegistry } from '../../../src/inference/model-registry';
import { AvroSerdes, KafkaStreams, createLogger, type Topology } from '../../../src/index';
import { recordByRecordClients } from '../../../src/kafka';
import { analyticsTopology, type MlPrediction, type StreamingAlert } from '../../../topologies/analytics';
import type { AnalyticsEvent } from '../../../topologies/event';
import { ModelCalls } from './model-calls';
import { countTopology, engineTopology, windowedTopology } from './topologies';

const TOPICS = ['input', 'output', 'counts', 'sums', 'events', 'predictions', 'alerts', 'metrics'] as const;
const CLI = {
  usage: 'usage: node bench/build/ops/bench/app/main.js engine|windowed|pipeline --application-id ID --state-dir DIR [--threads N] [--commit-interval MS] …',
  help: 'The Node side of npm run bench -- compare (see ops/bench/harness/).',
  options: {
    ...Object.fromEntries(
      [...TOPICS, 'application-id', 'state-dir', 'model', 'threads', 'commit-interval', 'reader'].map((n) => [n, { type: 'string' as const }]),
    ),
  },
  commands: ['engine', 'windowed', 'pipeline', 'restore'] as const,
};

type Values = Record<string, string | undefined>;

function need(values: Values, name: string): string {
  const v = values[name];
  if (v === undefined || v === '') throw usageError(CLI, `--${name} is required`);
  return v;
}

async function topology(scenario: string, v: Values, config: Config, calls: ModelCalls): Promise<{ topology: Topology; close?: () => void }> {
  const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry)));
  if (scenario === 'engine') return { topology: engineTopology(avro, need(v, 'input'), need(v, 'output')) };
  if (scenario === 'windowed') return { topology: windowedTopology(need(v, 'input'), need(v, 'counts'), need(v, 'sums')) };
  if (scenario === 'restore') return { topology: countTopology(need(v, 'input')) };
  const versionDir = need(v, 'model');
  const models = await ModelRegistry.open({
    catalogue: localCatalogue(dirname(dirname(versionDir)), basename(dirname(versionDir)), basename(versionDir)),
    log: createLogger({ level: 'warn' }, 'bench'),
    pollMs: 0,
  });
  const t = analyticsTopology({
    topics: { events: need(v, 'events'), predictions: need(v, 'predictions'), alerts: need(v, 'alerts'), metrics: need(v, 'metrics') },
    serdes: {
      event: avro.serde<AnalyticsEvent>({ schema: loadSchema('analytics-event.avsc') }),
      prediction: avro.serde<MlPrediction>({ schema: loadSchema('ml-prediction.avsc') }),
      alert: avro.serde<StreamingAlert>({ schema: loadSchema('streaming-alert.avsc') }),
    },
    model: calls.timed(models),
    metrics: new Registry(),
  });
  return { topology: t, close: () => models.close() };
}

/**
 * restore: the restorer's own figures, as one line `RESTORED {records, durationMs,
 * recordsPerSecond, reads}` on stdout (reads: how the restore consumer read) (its log line, at info level, goes to stderr).
 */
function restoreReporter() {
  let reads: string | undefined;
  return createLogger({ level: 'info' }, 'bench', {
    write(line: string) {
      process.stderr.write(line);
      const entry = JSON.parse(line) as { msg?: string; records?: number; durationMs?: number; recordsPerSecond?: number; reads?: string };
      if (entry.msg === 'restoring state stores from their changelogs') reads = entry.reads;
      if (entry.msg === 'state stores restored')
        process.stdout.write(
          `RESTORED ${JSON.stringify({ records: entry.records, durationMs: entry.durationMs, recordsPerSecond: entry.recordsPerSecond, reads })}\n`,
        );
    },
  });
}

/** Commits so far: their count, and total milliseconds overall and by phase (the harness takes differences). */
async function commitStats(streams: KafkaStreams): Promise<{ count: number; totalMs: number; phasesMs: Record<string, number> }> {
  const metrics = await streams.metrics.getMetricsAsJSON();
  const values = (name: string) =>
    (metrics.find((m) => m.name === name)?.values ?? []) as { metricName?: string; value: number; labels: Record<string, string | number> }[];
  const total = values('streams_commit_duration_ms');
  const phasesMs: Record<string, number> = {};
  for (const v of values('streams_commit_phase_duration_ms')) if (v.metricName?.endsWith('_sum')) phasesMs[String(v.labels.phase)] = v.value;
  return {
    count: total.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0,
    totalMs: total.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0,
    phasesMs,
  };
}

async function main(): Promise<void> {
  const { command, values } = parseCli(CLI);
  const v = values as Values;
  const threads = wholeNumber(CLI, 'threads', v.threads, 1) ?? 1;
  const commitIntervalMs = wholeNumber(CLI, 'commit-interval', v['commit-interval'], 1);
  const config = loadConfigOrExit();
  const calls = new ModelCalls();
  const built = await topology(command!, v, config, calls);
  const streams = new KafkaStreams(built.topology, {
    applicationId: need(v, 'application-id'),
    stateDir: need(v, 'state-dir'),
    kafka: kafkaClientConfig(config.kafka),
    logger: command === 'restore' ? restoreReporter() : createLogger({ level: process.env.STREAMING_LOG__LEVEL ? config.log.level : 'warn' }),
    handleSignals: false,
    numStreamThreads: threads,
    // The before of the batch readers: node-rdkafka's consume, one object per record.
    ...(v.reader === 'records' ? { clientSupplier: recordByRecordClients } : {}),
    ...(commitIntervalMs !== undefined ? { commitIntervalMs } : {}),
  });
  let running = false;
  streams.on('stateChange', (s) => {
    if (s !== 'RUNNING' || running) return;
    running = true;
    process.stdout.write('RUNNING\n');
  });
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'stats') return;
    void commitStats(streams).then((commits) => process.stdout.write(`STATS ${JSON.stringify({ ...calls.drain(), commits })}\n`));
  });
  let closing = false;
  process.on('SIGTERM', () => {
    if (closing) return;
    closing = true;
    streams.close().then(
      () => {
        built.close?.();
        process.exit(0);
      },
      () => process.exit(1),
    );
  });
  await streams.start();
  if (!KafkaStreams.isStreamThread) reportTasks(streams);
}

/** `TASKS n1,n2,…`: each stream thread's task count, whenever it changes (the harness times a balanced instance). */
function reportTasks(streams: KafkaStreams): void {
  let last = '';
  setInterval(() => {
    const counts = streams
      .metadataForLocalThreads()
      .map((t) => t.activeTasks.length)
      .join(',');
    if (counts === last) return;
    last = counts;
    process.stdout.write(`TASKS ${counts}\n`);
  }, 200).unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `bench app failed: ${err instanceof Error ? err.stack : String(err)}`}\n`);
  process.exit(isStreamingError(err) && err.code === 'SA_ERR_USAGE' ? 2 : 1);
});
