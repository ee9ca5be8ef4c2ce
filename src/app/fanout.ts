/**
 * The fan-out tier (`npm run fanout`, the Deployment's command): reads predictions,
 * alerts and metrics from Kafka and pushes them to WebSocket clients, with the
 * dashboard, health and metrics endpoints. See docs/websocket-protocol.md.
 */
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type Kafka from 'node-rdkafka';
import { loadSchema } from '../../schemas/catalog';
import { kafkaClientConfig, registryClientOptions, type Config } from '../config';
import { StreamingError } from '../errors';
import { FanoutMetrics } from '../fanout/metrics';
import { Hub } from '../fanout/hub';
import { Jwks, verifyJwt, type JwtSettings } from '../fanout/jwt';
import { FanoutServer } from '../fanout/server';
import { FanoutSource } from '../fanout/source';
import type { Logger } from '../logger';
import { AvroSerdes, Serdes, type Serde } from '../serdes';

export interface FanoutApp {
  url: string;
  close(): Promise<void>;
}

/** The token settings, or a typed error naming what is missing for the algorithms accepted. */
export function jwtSettings(ws: Config['websocket']): JwtSettings {
  const algorithms = ws.jwtAlgorithms as JwtSettings['algorithms'];
  const problems: string[] = [];
  if (algorithms.includes('HS256') && !ws.jwtSecret) problems.push('HS256 is accepted but STREAMING_WEBSOCKET__JWT_SECRET is not set');
  const asymmetric = algorithms.some((a) => a !== 'HS256');
  if (asymmetric && !ws.jwtPublicKeyFile && !ws.jwksUrl) problems.push(`${algorithms.filter((a) => a !== 'HS256').join('/')} is accepted but neither STREAMING_WEBSOCKET__JWT_PUBLIC_KEY_FILE nor STREAMING_WEBSOCKET__JWKS_URL is set`);
  if (asymmetric && ws.jwtPublicKeyFile && ws.jwksUrl) problems.push('both STREAMING_WEBSOCKET__JWT_PUBLIC_KEY_FILE and STREAMING_WEBSOCKET__JWKS_URL are set: keep one');
  if (ws.devTokens && !ws.jwtSecret) problems.push('DEV_TOKENS needs STREAMING_WEBSOCKET__JWT_SECRET to sign with');
  let publicKey;
  if (asymmetric && ws.jwtPublicKeyFile) {
    try {
      publicKey = createPublicKey(readFileSync(ws.jwtPublicKeyFile));
    } catch (err) {
      problems.push(`STREAMING_WEBSOCKET__JWT_PUBLIC_KEY_FILE (${ws.jwtPublicKeyFile}) is not a PEM public key: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new StreamingError('SA_ERR_CONFIG_INVALID', `the fan-out cannot verify tokens: ${problems.join('; ')}`, { hint: 'see the STREAMING_WEBSOCKET__* rows of the configuration table in the README' });
  return {
    algorithms,
    ...(ws.jwtSecret ? { secret: ws.jwtSecret } : {}),
    ...(publicKey ? { publicKey } : {}),
    ...(asymmetric && ws.jwksUrl ? { jwks: new Jwks(ws.jwksUrl) } : {}),
    ...(ws.jwtIssuer ? { issuer: ws.jwtIssuer } : {}),
    ...(ws.jwtAudience ? { audience: ws.jwtAudience } : {}),
  };
}

export async function startFanout(config: Config, log: Logger): Promise<FanoutApp> {
  const jwt = jwtSettings(config.websocket);
  const avro = new AvroSerdes(new SchemaRegistry(registryClientOptions(config.schemaRegistry)));
  const metrics = new FanoutMetrics();
  const hub = new Hub();
  const t = config.topics;
  const source = new FanoutSource({
    client: kafkaClientConfig(config.kafka) as Kafka.ConsumerGlobalConfig,
    topics: [
      { channel: 'predictions', topic: t.predictions, serde: avro.serde({ schema: loadSchema('ml-prediction.avsc') }) as Serde<unknown> },
      { channel: 'alerts', topic: t.alerts, serde: avro.serde({ schema: loadSchema('streaming-alert.avsc') }) as Serde<unknown> },
      { channel: 'metrics', topic: t.metrics, serde: Serdes.Json<unknown>() as Serde<unknown> },
    ],
    historyPerPartition: config.websocket.historyPerPartition,
    log,
    onPublication: (p) => {
      metrics.record(p.topic);
      hub.publish(p);
    },
    onUndecodable: (topic) => metrics.undecodable.inc({ topic }),
  });
  const server = new FanoutServer({ settings: config.websocket, topics: { predictions: t.predictions, alerts: t.alerts, metrics: t.metrics }, hub, metrics, source, verify: (token) => verifyJwt(token, jwt), forget: () => undefined }, log);
  try {
    await source.start();
  } catch (err) {
    await source.close().catch(() => undefined);
    throw new StreamingError('SA_ERR_KAFKA_UNREACHABLE', `the fan-out could not read its topics at ${config.kafka.bootstrapServers.join(',')}: ${(err as Error).message}`, { cause: err, hint: 'check STREAMING_KAFKA__BOOTSTRAP_SERVERS, or start the local stack with `npm run stack -- up`' });
  }
  const url = await server.listen(); // /healthz and /readyz answer while the history is read
  await source.whenReady();
  log.info({ url }, 'fan-out ready');
  return {
    url,
    close: async () => {
      await server.close();
      await source.close();
    },
  };
}
