/**
 * The processor: the analytics topology on KafkaStreams, with its model registry, Avro
 * serdes on the schema registry, and the query/health/metrics server — what
 * `npm run processor` and `npm start` run, and what the StatefulSet runs.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { loadSchema } from '../../schemas/catalog';
import { analyticsTopology, type MlPrediction, type StreamingAlert } from '../../topologies/analytics';
import { clusterInfo } from '../kafka';
import { createTopics } from '../kafka';
import { kafkaClientConfig, registryClientOptions, type Config } from '../config';
import type { AnalyticsEvent } from '../../topologies/event';
import { CircuitBreaker } from '../inference/circuit-breaker';
import { mlflowCatalogue } from '../inference/mlflow';
import { localCatalogue, ModelRegistry, type ModelCatalogue } from '../inference/model-registry';
import { ModelCache } from '../inference/model-cache';
import type { Logger } from '../logger';
import { KafkaStreams } from '../runtime/kafka-streams';
import { DEFAULT_STATE_DIR } from '../runtime/streams-config';
import { startTracing } from '../tracing';
import { AvroSerdes } from '../serdes';
import { verifyJwt } from '../auth/jwt';
import { jwtSettingsFor } from '../config';
import type { QueryAuth } from '../query/auth';

export interface ProcessorApp {
  streams: KafkaStreams;
  models: ModelRegistry;
  /** Where the query API answers. */
  url: string;
  /** Where /healthz, /readyz and /metrics answer. */
  adminUrl: string;
  close(): Promise<void>;
}

/**
 * Where model versions come from: MLflow when a tracking URI is set (behind one circuit
 * breaker whose state is a metric), else the local models directory. The result gives the
 * catalogue of the served version (`undefined`: the alias, or the highest) or of a pinned one.
 */
function catalogues(config: Config, log: Logger, metrics: Registry): (version: string | undefined) => ModelCatalogue {
  const ml = config.realtimeMl;
  if (!ml.mlflowTrackingUri) return (version) => localCatalogue(resolve(ml.modelsDir), ml.modelName, version);
  const trackingUri = ml.mlflowTrackingUri;
  const state = new Gauge({
    name: 'ml_registry_circuit_state',
    help: 'Circuit breaker of the model registry calls: 0 closed, 1 half-open, 2 open.',
    registers: [metrics],
    // A state, not a quantity: across stream threads (processes) the worst one is reported.
    aggregator: 'max',
  });
  const breaker = new CircuitBreaker({
    name: `MLflow at ${ml.mlflowTrackingUri}`,
    onStateChange: (s) => {
      state.set(s === 'closed' ? 0 : s === 'half-open' ? 1 : 2);
      log.warn({ registry: ml.mlflowTrackingUri, circuit: s }, 'model registry circuit breaker changed state');
    },
  });
  // Each stream thread's process downloads into a cache of its own: the caches do not lock against each other.
  const thread = KafkaStreams.streamThreadIndex;
  const cacheDir = join(
    config.processor.stateDir ?? join(process.cwd(), DEFAULT_STATE_DIR, config.processor.applicationId),
    'models',
    ...(thread === undefined ? [] : [`thread-${thread}`]),
  );
  // One cache for the served, variant and shadow registries: pruning it never removes a version another one serves.
  const cache = new ModelCache({ dir: cacheDir, maxVersions: ml.modelCacheSize });
  return (version) =>
    mlflowCatalogue({
      trackingUri,
      name: ml.modelName,
      alias: ml.mlflowAlias,
      ...(version ? { version } : {}),
      cache,
      breaker,
      maxModelBytes: ml.maxModelBytes,
      log,
    });
}

/**
 * The shadow topic is the processor's own output, not one of the stack's topics: created
 * like the predictions topic (same partition count) when missing, before anything is
 * produced to it. A cluster that does not answer is left to KafkaStreams' start, which
 * reports it as one typed error.
 */
async function createShadowTopic(config: Config, topic: string, log: Logger): Promise<void> {
  const client = kafkaClientConfig(config.kafka);
  try {
    const predictions = (await clusterInfo(client, 10_000)).topics.get(config.topics.predictions);
    const created = await createTopics(client, [{ name: topic, partitions: predictions?.partitions ?? 1, replicationFactor: -1 }]);
    if (created.length > 0) log.info({ topic }, 'created the shadow predictions topic');
  } catch (err) {
    log.warn({ err, topic }, 'could not create the shadow predictions topic');
  }
}

/** The query API's callers: bearer tokens (STREAMING_AUTH__*), or nobody's check on an open loopback API. */
function queryAuth(config: Config): QueryAuth {
  const p = config.processor;
  if (p.queryAuth === 'off') return 'none';
  const settings = jwtSettingsFor(config.auth, {
    name: 'the query API',
    host: p.queryHost,
    hostVariable: 'STREAMING_PROCESSOR__QUERY_HOST',
    audience: p.queryAudience,
    audienceVariable: 'STREAMING_PROCESSOR__QUERY_AUDIENCE',
    alternative: 'or keep the query API on this machine with STREAMING_PROCESSOR__QUERY_HOST=127.0.0.1 (open, for development)',
  });
  return { verify: (token) => verifyJwt(token, settings) };
}

export async function startProcessor(config: Config, log: Logger, o: { handleSignals?: boolean } = {}): Promise<ProcessorApp> {
  const auth = queryAuth(config); // token settings are checked before anything starts
  const metrics = new Registry();
  // Node's own: CPU, memory, heap, event-loop lag, GC — what an operator looks at first.
  collectDefaultMetrics({ register: metrics });
  const ml = config.realtimeMl;
  const catalogue = catalogues(config, log, metrics);
  const opened: ModelRegistry[] = [];
  const closeModels = (): void => {
    for (const m of opened) m.close();
  };
  const open = async (version: string | undefined): Promise<ModelRegistry> => {
    const registry = await ModelRegistry.open({ catalogue: catalogue(version), log, pollMs: ml.pollSeconds * 1000, metrics, maxModelBytes: ml.maxModelBytes });
    opened.push(registry);
    return registry;
  };
  let models: ModelRegistry;
  let variant: ModelRegistry | undefined;
  let shadow: ModelRegistry | undefined;
  try {
    models = await open(ml.modelVersion);
    variant = ml.variantVersion && ml.variantPercent > 0 ? await open(ml.variantVersion) : undefined;
    shadow = ml.shadowVersion ? await open(ml.shadowVersion) : undefined;
  } catch (err) {
    closeModels(); // a variant or shadow that fails to open leaves no registry polling behind
    throw err;
  }
  const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry)), { maxRecordBytes: config.kafka.maxRecordBytes });
  const topology = analyticsTopology({
    topics: config.topics,
    serdes: {
      event: avro.serde<AnalyticsEvent>({ schema: loadSchema('analytics-event.avsc') }),
      prediction: avro.serde<MlPrediction>({ schema: loadSchema('ml-prediction.avsc') }),
      alert: avro.serde<StreamingAlert>({ schema: loadSchema('streaming-alert.avsc') }),
    },
    model: models,
    ...(variant ? { variant: { model: variant, share: ml.variantPercent / 100 } } : {}),
    ...(shadow ? { shadow: { model: shadow, ...(ml.shadowTopic ? { topic: ml.shadowTopic } : {}) } } : {}),
    metrics,
    maxBatch: ml.maxBatch,
    maxLatencyMs: ml.maxLatencyMs,
    log,
    summaryIntervalMs: config.monitoring.metricsIntervalSeconds * 1000,
  });
  const p = config.processor;
  const tracing = config.tracing.otlpEndpoint
    ? startTracing({ endpoint: config.tracing.otlpEndpoint, serviceName: 'streaming-analytics-processor', samplePercent: config.tracing.samplePercent })
    : undefined;
  const streams = new KafkaStreams(topology, {
    applicationId: p.applicationId,
    instanceId: p.instanceId ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-'),
    ...(p.stateDir ? { stateDir: p.stateDir } : {}),
    kafka: kafkaClientConfig(config.kafka),
    logger: log,
    handleSignals: o.handleSignals ?? true,
    commitIntervalMs: p.commitIntervalMs,
    numStreamThreads: p.numStreamThreads,
    closeTimeoutMs: p.closeTimeoutMs,
    metricsRegistry: metrics,
    ...(tracing ? { tracer: tracing.tracer } : {}),
    queryServer: {
      port: p.queryPort,
      host: p.queryHost,
      auth,
      ...(p.advertisedUrl ? { advertisedUrl: p.advertisedUrl } : {}),
      ...(p.queryTlsCertFile && p.queryTlsKeyFile ? { tls: { cert: readFileSync(p.queryTlsCertFile), key: readFileSync(p.queryTlsKeyFile) } } : {}),
    },
    adminServer: { port: p.adminPort, host: p.adminHost },
    inputPartitioner: p.inputPartitioner,
  });
  const stopTracing = (): Promise<void> =>
    tracing?.shutdown().catch((err: unknown) => log.warn({ err }, 'exporting the last spans failed')) ?? Promise.resolve();
  streams.on('stateChange', (state) => {
    if (state === 'NOT_RUNNING' || state === 'ERROR') closeModels();
  });
  try {
    if (shadow && ml.shadowTopic) await createShadowTopic(config, ml.shadowTopic, log);
    await streams.start();
  } catch (err) {
    closeModels();
    await stopTracing();
    throw err;
  }
  return {
    streams,
    models,
    url: streams.queryUrl!,
    adminUrl: streams.adminUrl!,
    close: async () => {
      await streams.close();
      closeModels();
      await stopTracing();
    },
  };
}
