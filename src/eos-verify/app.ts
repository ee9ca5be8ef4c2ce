/**
 * The application under test (after Kafka's EosTestClient): every input record is echoed
 * to the `echo` topic, and the running `sum` and `min` of the values per key go to their
 * topics, from changelogged state stores — all through the real runtime under
 * exactly_once_v2 with the commit interval of the defaults.
 *
 * Run as a child process by the verifier: `tsx src/eos-verify/app.ts` with the settings
 * in EOS_APP_* variables, so it can be killed with SIGKILL and restarted.
 */
import { join } from 'node:path';
import { loadConfigOrExit, kafkaClientConfig } from '../config';
import { createLogger } from '../logger';
import { KafkaStreams } from '../runtime/kafka-streams';
import { Serdes } from '../serdes';
import { StreamsBuilder } from '../streams/dsl/builder';
import type { Topology } from '../streams/dsl/topology';

export interface EosTopics {
  input: string;
  echo: string;
  sum: string;
  min: string;
}

/**
 * input → echo, sum, min. With `repartition`, the echo goes through a repartition topic
 * and the aggregations group through another (groupBy, same key): several sub-topologies,
 * exactly-once across them; else the aggregations group by key in the input's task.
 */
export function eosTopology(t: EosTopics, repartition = false): Topology {
  const b = new StreamsBuilder();
  const bytes = { keySerde: Serdes.Bytes(), valueSerde: Serdes.Bytes() };
  const stream = b.stream(t.input, bytes);
  (repartition ? stream.repartition({ name: 'echo', ...bytes }) : stream).to(t.echo, bytes);
  const numbers = stream.mapValues((v) => Number(v?.toString()));
  const grouped = repartition
    ? numbers.groupBy((k) => k, { name: 'aggregates', keySerde: Serdes.Bytes(), valueSerde: Serdes.Long() })
    : numbers.groupByKey({ keySerde: Serdes.Bytes() });
  const out = { keySerde: Serdes.Bytes(), valueSerde: Serdes.String() };
  grouped
    .aggregate(
      () => 0,
      (_k, v, sum) => sum + v,
      { name: 'sum', valueSerde: Serdes.Long() },
    )
    .toStream()
    .mapValues(String)
    .to(t.sum, out);
  // `sum` emits through its cache (one update per key per commit); `min` has no cache and emits every update, checked one by one.
  grouped
    .reduce((a, v) => Math.min(a, v), { name: 'min', valueSerde: Serdes.Long(), cacheMaxEntries: 0 })
    .toStream()
    .mapValues(String)
    .to(t.min, out);
  return b.build();
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const env = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set`);
    return v;
  };
  const topics = { input: env('EOS_APP_INPUT'), echo: env('EOS_APP_ECHO'), sum: env('EOS_APP_SUM'), min: env('EOS_APP_MIN') };
  const streams = new KafkaStreams(eosTopology(topics, process.env.EOS_APP_REPARTITION === '1'), {
    applicationId: env('EOS_APP_ID'),
    instanceId: env('EOS_APP_INSTANCE'),
    // One state directory per instance, kept across its restarts (the runner may damage its checkpoints).
    ...(process.env.EOS_APP_STATE_DIR ? { stateDir: join(process.env.EOS_APP_STATE_DIR, env('EOS_APP_INSTANCE')) } : {}),
    kafka: kafkaClientConfig(config.kafka),
    // Instances use static membership (their instanceId), which keeps a stopped member's
    // partitions until its session times out: a short session makes a leave visible soon.
    consumerOverrides: { 'session.timeout.ms': 10_000 },
    numStreamThreads: Number(process.env.EOS_APP_THREADS ?? '1'),
    logger: createLogger(config.log, 'eos-app'),
  });
  streams.on('error', () => process.exit(3));
  streams.on('stateChange', (s) => {
    if (s === 'RUNNING') process.stdout.write('EOS-APP-RUNNING\n');
    if (s === 'NOT_RUNNING') process.exit(0);
  });
  // A test application must not outlive the verifier that started it.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void streams.close().finally(() => process.exit(0));
  }, 1000).unref();
  await streams.start();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`eos-app failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
