/**
 * A child process for tests that must pause or kill an instance: counts records per key
 * into a RocksDB store (changelogged, checkpointed) and serves it over the query API on
 * loopback (COUNT_APP_HOST: which loopback address; COUNT_APP_TLS_CERT/KEY: https).
 * Settings come from COUNT_APP_* variables (COUNT_APP_THREADS: stream threads, each a
 * process; COUNT_APP_ADMIN_PORT: health and metrics); it prints "ready <query url>
 * [<admin url>]" once started, and closes on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { KafkaStreams, Serdes, StreamsBuilder } from '../../src';
import { loadConfig, kafkaClientConfig } from '../../src/config';
import { createLogger } from '../../src/logger';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, STREAMING_LOG__LEVEL: process.env.STREAMING_LOG__LEVEL ?? 'warn' });
  const b = new StreamsBuilder();
  b.stream(env('COUNT_APP_INPUT'), { keySerde: Serdes.String(), valueSerde: Serdes.String() })
    .groupByKey({ keySerde: Serdes.String() })
    .count({ name: 'counts' });
  const streams = new KafkaStreams(b.build(), {
    applicationId: env('COUNT_APP_ID'),
    instanceId: env('COUNT_APP_INSTANCE'),
    stateDir: env('COUNT_APP_STATE_DIR'),
    kafka: kafkaClientConfig(config.kafka),
    logger: createLogger(config.log, 'count-app'),
    // A short session, so that a paused instance loses its tasks soon.
    consumerOverrides: { 'session.timeout.ms': 6_000, 'heartbeat.interval.ms': 500 },
    numStreamThreads: Number(process.env.COUNT_APP_THREADS ?? '1'),
    ...(process.env.COUNT_APP_ADMIN_PORT ? { adminServer: { port: Number(process.env.COUNT_APP_ADMIN_PORT) } } : {}),
    queryServer: {
      port: Number(env('COUNT_APP_PORT')),
      // Optional: another loopback address (a "host" of its own), and https with a PEM key and certificate.
      ...(process.env.COUNT_APP_HOST ? { host: process.env.COUNT_APP_HOST } : {}),
      ...(process.env.COUNT_APP_TLS_CERT ? { tls: { cert: readFileSync(env('COUNT_APP_TLS_CERT')), key: readFileSync(env('COUNT_APP_TLS_KEY')) } } : {}),
    },
  });
  await streams.start();
  // With several stream threads this program runs in each thread's process too: only the main one reports.
  if (!KafkaStreams.isStreamThread) process.stdout.write(`ready ${streams.queryUrl}${streams.adminUrl ? ` ${streams.adminUrl}` : ''}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`count-app failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
