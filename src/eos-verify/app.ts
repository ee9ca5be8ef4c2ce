/**
 * The application under test: every input record is echoed to the `echo` topic (directly,
 * or through a repartition topic), through
 * the real runtime under exactly_once_v2 with the commit interval of the defaults.
 * (The running sum/min per key of Kafka's EosTestClient need state stores: they join
 * when the state-store step lands.)
 *
 * Run as a child process by the verifier: `tsx src/eos-verify/app.ts` with the settings
 * in EOS_APP_* variables, so it can be killed with SIGKILL and restarted.
 */
import { loadConfigOrExit } from '../config';
import { createLogger } from '../logger';
import { KafkaStreams } from '../runtime/kafka-streams';
import { Serdes } from '../serdes';
import { StreamsBuilder } from '../streams/builder';
import type { Topology } from '../streams/topology';

/**
 * input → echo; with `repartition`, through an internal repartition topic first (same
 * key, so the same partition): two sub-topologies, exactly-once across both.
 */
export function eosTopology(input: string, echo: string, repartition = false): Topology {
  const b = new StreamsBuilder();
  const bytes = { keySerde: Serdes.Bytes(), valueSerde: Serdes.Bytes() };
  const stream = b.stream(input, bytes);
  (repartition ? stream.repartition({ name: 'echo', ...bytes }) : stream).to(echo, bytes);
  return b.build();
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const env = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set`);
    return v;
  };
  const streams = new KafkaStreams(eosTopology(env('EOS_APP_INPUT'), env('EOS_APP_ECHO'), process.env.EOS_APP_REPARTITION === '1'), {
    applicationId: env('EOS_APP_ID'),
    instanceId: env('EOS_APP_INSTANCE'),
    kafka: config.kafka,
    // Instances use static membership (their instanceId), which keeps a stopped member's
    // partitions until its session times out: a short session makes a leave visible soon.
    consumerOverrides: { 'session.timeout.ms': 10_000 },
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
