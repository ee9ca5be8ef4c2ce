/**
 * The processor: the analytics topology on KafkaStreams, with its model registry, Avro
 * serdes on the schema registry, and the query/health/metrics server — what
 * `npm run processor` and `npm start` run, and what the StatefulSet runs.
 */
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Gauge, Registry } from 'prom-client';
import { loadSchema } from '../../schemas/catalog';
import { analyticsTopology, type MlPrediction, type StreamingAlert } from '../../topologies/analytics';
import { clusterInfo } from '../admin/cluster';
import { createTopics } from '../admin/topics';
import { kafkaClientConfig, registryClientOptions, type Config } from '../config';
import type { AnalyticsEvent } from '../generator/event';
import { CircuitBreaker } from '../inference/circuit-breaker';
import { mlflowCatalogue } from '../inference/mlflow';
import { localCatalogue, ModelRegistry, type ModelCatalogue } from '../inference/model-registry';
import type { Logger } from '../logger';
import { KafkaStreams } from '../runtime/kafka-streams';
import { AvroSerdes } from '../serdes';

export interface ProcessorApp {
  streams: KafkaStreams;
  models: ModelRegistry;
  /** Where the HTTP server answers (query API, /healthz, /readyz, /metrics). */
  url: string;
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
  const state = new Gauge({ name: 'ml_registry_circuit_state', help: 'Circuit breaker of the model registry calls: 0 closed, 1 half-open, 2 open.', registers: [metrics] });
  const breaker = new CircuitBreaker({
    name: `MLflow at ${ml.mlflowTrackingUri}`,
    onStateChange: (s) => {
      state.set(s === 'closed' ? 0 : s === 'half-open' ? 1 : 2);
      log.warn({ registry: ml.mlflowTrackingUri, circuit: s }, 'model registry circuit breaker changed state');
    },
  });
  const cacheDir = join(config.processor.stateDir ?? join(tmpdir(), 'streaming-analytics', config.processor.applicationId), 'models');
  return (version) => mlflowCatalogue({ trackingUri, name: ml.modelName, alias: ml.mlflowAlias, ...(version ? { version } : {}), cacheDir, breaker });
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

export async function startProcessor(config: Config, log: Logger, o: { handleSignals?: boolean } = {}): Promise<ProcessorApp> {
  const metrics = new Registry();
  const ml = config.realtimeMl;
  const catalogue = catalogues(config, log, metrics);
  const open = (version: string | undefined): Promise<ModelRegistry> => ModelRegistry.open({ catalogue: catalogue(version), log, pollMs: ml.pollSeconds * 1000, metrics });
  const models = await open(ml.modelVersion);
  const variant = ml.variantVersion && ml.variantPercent > 0 ? await open(ml.variantVersion) : undefined;
  const shadow = ml.shadowVersion ? await open(ml.shadowVersion) : undefined;
  const closeModels = (): void => [models, variant, shadow].forEach((m) => m?.close());
  const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry)));
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
  });
  const p = config.processor;
  const streams = new KafkaStreams(topology, {
    applicationId: p.applicationId,
    instanceId: p.instanceId ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-'),
    ...(p.stateDir ? { stateDir: p.stateDir } : {}),
    kafka: config.kafka,
    logger: log,
    handleSignals: o.handleSignals ?? true,
    commitIntervalMs: p.commitIntervalMs,
    metricsRegistry: metrics,
    queryServer: { port: p.queryPort, host: p.queryHost, ...(p.advertisedUrl ? { advertisedUrl: p.advertisedUrl } : {}) },
  });
  streams.on('stateChange', (state) => {
    if (state === 'NOT_RUNNING' || state === 'ERROR') closeModels();
  });
  try {
    if (shadow && ml.shadowTopic) await createShadowTopic(config, ml.shadowTopic, log);
    await streams.start();
  } catch (err) {
    closeModels();
    throw err;
  }
  const host = p.queryHost === '0.0.0.0' ? '127.0.0.1' : p.queryHost;
  return {
    streams,
    models,
    url: `http://${host}:${p.queryPort}`,
    close: async () => {
      await streams.close();
      closeModels();
    },
  };
}
