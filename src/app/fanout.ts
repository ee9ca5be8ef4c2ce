/**
 * The fan-out tier (`npm run fanout`, the Deployment's command): reads predictions,
 * alerts and metrics from Kafka and pushes them to WebSocket clients, with the
 * dashboard, health and metrics endpoints. See docs/websocket-protocol.md. This module is
 * also the package's `streaming-analytics/fanout` entry: start the tier in your own
 * process with the settings `streaming-analytics fanout` reads from the environment
 * (`loadConfig()`), and close it on shutdown.
 */
import { type AddressInfo, createServer } from 'node:net';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { loadSchema } from '../../schemas/catalog';
import { kafkaClientConfig, registryClientOptions, type Config } from '../config';
import { StreamingError } from '../errors';
import { FanoutMetrics } from '../fanout/metrics';
import { Hub } from '../fanout/hub';
import { verifyJwt, type JwtSettings } from '../auth/jwt';
import { jwtSettingsFor } from '../config';
import { FanoutServer } from '../fanout/server';
import { FanoutSource } from '../fanout/source';
import { pushTraced } from '../fanout/traced';
import { startTracing } from '../tracing';
import { createLogger, type Logger } from '../logger';
import { FanoutPrimary } from '../fanout/cluster/primary';
import { runFanoutWorker } from '../fanout/cluster/worker';
import { AvroSerdes, Serdes, type Serde } from '../serdes';

export interface FanoutApp {
  /** The WebSocket endpoint's and the dashboard's base URL. */
  url: string;
  /** /healthz, /readyz, /metrics. */
  adminUrl: string;
  /** With several processes (STREAMING_WEBSOCKET__PROCESSES): rejects when one of them fails or exits (SA_ERR_FANOUT_PROCESS). */
  failed?: Promise<never>;
  close(): Promise<void>;
}

/** One fan-out process's parts, listening (its history may still be loading). */
interface OpenFanout {
  url: string;
  adminUrl: string | undefined;
  server: FanoutServer;
  source: FanoutSource;
  metrics: FanoutMetrics;
  close(): Promise<void>;
}

/** The token settings of the fan-out, or a typed error naming what is missing. */
export function fanoutJwtSettings(config: Config): JwtSettings {
  const ws = config.websocket;
  if (ws.devTokens && !config.auth.jwtSecret) {
    throw new StreamingError(
      'SA_ERR_CONFIG_INVALID',
      'the fan-out cannot sign development tokens: STREAMING_WEBSOCKET__DEV_TOKENS needs STREAMING_AUTH__JWT_SECRET to sign with',
      { hint: 'set STREAMING_AUTH__JWT_SECRET (at least 32 characters), or turn DEV_TOKENS off' },
    );
  }
  return jwtSettingsFor(config.auth, {
    name: 'the fan-out',
    host: ws.host,
    hostVariable: 'STREAMING_WEBSOCKET__HOST',
    audience: ws.jwtAudience,
    audienceVariable: 'STREAMING_WEBSOCKET__JWT_AUDIENCE',
  });
}

/**
 * Starts the fan-out; resolves once its history is read (ready). With
 * `websocket.processes` above 1, this process forks that many fan-out processes sharing
 * the port (src/fanout/cluster/) and serves their admin listener.
 */
export async function startFanout(config: Config, log: Logger): Promise<FanoutApp> {
  if (config.websocket.processes > 1) return startProcesses(config, log);
  const f = await openFanout(config, log, false);
  await f.source.whenReady();
  log.info({ url: f.url, adminUrl: f.adminUrl }, 'fan-out ready');
  return { url: f.url, adminUrl: f.adminUrl!, close: f.close };
}

async function startProcesses(config: Config, log: Logger): Promise<FanoutApp> {
  fanoutJwtSettings(config); // a configuration error is answered here, once, not by every process
  // Every process binds the same port with SO_REUSEPORT, which would quietly share it with
  // anything else bound that way (an older fan-out): the port must be free now. Port 0
  // (tests) is chosen here, once for all.
  const port = await portFreeNow(config.websocket.host, config.websocket.port).catch((err: unknown) => {
    throw inUse(err, config.websocket.host, config.websocket.port, 'STREAMING_WEBSOCKET__PORT');
  });
  const primary = new FanoutPrimary(
    {
      entry: require.resolve('./fanout-worker'),
      processes: config.websocket.processes,
      config: { ...config, websocket: { ...config.websocket, port } },
      adminHost: config.websocket.adminHost,
      adminPort: config.websocket.adminPort,
      closeTimeoutMs: 18_000,
    },
    log,
  );
  try {
    const { url, adminUrl } = await primary.start().catch((err: unknown) => {
      throw inUse(err, config.websocket.adminHost, config.websocket.adminPort, 'STREAMING_WEBSOCKET__ADMIN_PORT');
    });
    log.info({ url, adminUrl, processes: config.websocket.processes }, 'fan-out ready');
    return { url, adminUrl, failed: primary.failed, close: () => primary.close() };
  } catch (err) {
    await primary.close();
    throw err;
  }
}

/** `port` if nothing is bound to it on `host` now (for 0, the kernel's choice); else the listen error (EADDRINUSE). */
function portFreeNow(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => {
      const bound = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(bound));
    });
  });
}

/** A port another process holds, as a configuration error that names the setting; any other error as it is. */
function inUse(err: unknown, host: string, port: number, variable: string): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') return err;
  return new StreamingError('SA_ERR_CONFIG_INVALID', `the fan-out cannot listen on ${host}:${port}: another process holds the port`, {
    cause: err,
    hint: `stop that process, or set ${variable} to a free port`,
  });
}

/** The fan-out of a worker process (src/app/fanout-worker.ts is its entry). */
export function fanoutWorkerMain(): void {
  runFanoutWorker(async (config, index) => {
    const c = config as Config;
    const f = await openFanout(c, createLogger(c.log, `fanout-${index}`), true);
    return {
      url: f.url,
      ready: () => f.server.ready(),
      connections: () => f.server.connectionCount,
      waitingFor: () => f.source.waitingFor,
      metrics: () => f.metrics.registry.getMetricsAsJSON(),
      close: f.close,
    };
  });
}

async function openFanout(config: Config, log: Logger, shared: boolean): Promise<OpenFanout> {
  const jwt = fanoutJwtSettings(config);
  const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry)), { maxRecordBytes: config.kafka.maxRecordBytes });
  const metrics = new FanoutMetrics();
  const hub = new Hub();
  const tracing = config.tracing.otlpEndpoint
    ? startTracing({ endpoint: config.tracing.otlpEndpoint, serviceName: 'streaming-analytics-fanout', samplePercent: config.tracing.samplePercent })
    : undefined;
  const t = config.topics;
  const source = new FanoutSource({
    client: kafkaClientConfig(config.kafka),
    topics: [
      { channel: 'predictions', topic: t.predictions, serde: avro.serde({ schema: loadSchema('ml-prediction.avsc') }) as Serde<unknown> },
      { channel: 'alerts', topic: t.alerts, serde: avro.serde({ schema: loadSchema('streaming-alert.avsc') }) as Serde<unknown> },
      { channel: 'metrics', topic: t.metrics, serde: Serdes.Json<unknown>({ maxBytes: config.kafka.maxRecordBytes }) as Serde<unknown> },
    ],
    historyPerPartition: config.websocket.historyPerPartition,
    log,
    onPublication: (p) => {
      metrics.record(p.topic);
      if (tracing && p.traceparent) pushTraced(tracing.tracer, p, () => hub.publish(p));
      else hub.publish(p);
    },
    onUndecodable: (topic) => metrics.undecodable.inc({ topic }),
  });
  const devTokens =
    config.websocket.devTokens && config.auth.jwtSecret
      ? {
          secret: config.auth.jwtSecret,
          ...(config.auth.jwtIssuer ? { issuer: config.auth.jwtIssuer } : {}),
          ...(config.websocket.jwtAudience ? { audience: config.websocket.jwtAudience } : {}),
        }
      : undefined;
  const server = new FanoutServer(
    {
      settings: config.websocket,
      ...(devTokens ? { devTokens } : {}),
      topics: { predictions: t.predictions, alerts: t.alerts, metrics: t.metrics },
      hub,
      metrics,
      source,
      verify: (token) => verifyJwt(token, jwt),
      forget: () => undefined,
    },
    log,
  );
  try {
    await source.start();
  } catch (err) {
    await source.close().catch(() => undefined);
    await tracing?.shutdown().catch(() => undefined);
    throw new StreamingError(
      'SA_ERR_KAFKA_UNREACHABLE',
      `the fan-out could not read its topics at ${config.kafka.bootstrapServers.join(',')}: ${(err as Error).message}`,
      { cause: err, hint: 'check STREAMING_KAFKA__BOOTSTRAP_SERVERS, or start the local stack with `npm run stack -- up`' },
    );
  }
  // /healthz and /readyz answer while the history is read.
  const { url, adminUrl } = await server.listen(shared).catch(async (err: unknown) => {
    await source.close().catch(() => undefined);
    await tracing?.shutdown().catch(() => undefined);
    const s = config.websocket;
    throw (err as { port?: number }).port === s.adminPort && !shared
      ? inUse(err, s.adminHost, s.adminPort, 'STREAMING_WEBSOCKET__ADMIN_PORT')
      : inUse(err, s.host, s.port, 'STREAMING_WEBSOCKET__PORT');
  });
  return {
    url,
    adminUrl,
    server,
    source,
    metrics,
    close: async () => {
      // One of several processes: its clients get 15 s, so the primary's deadline (18 s) and the command's (20 s) hold.
      await server.close(shared ? 15_000 : 20_000);
      await source.close();
      await tracing?.shutdown().catch((err: unknown) => log.warn({ err }, 'exporting the last spans failed'));
    },
  };
}
