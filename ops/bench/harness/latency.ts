/**
 * End-to-end latency at an offered rate: records are produced into the input at `rate`
 * for `seconds` while a read_committed consumer reads the output from where it ended
 * before the first of them; each output record's latency is the time it became visible
 * minus its timestamp (the input record's, carried through by both sides). The pipeline's
 * load runs in its own process (pipeline-load.ts), so its generator is measured apart.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type Kafka from 'node-rdkafka';
import { type ClientSettings, rdkafkaClients } from '../../../src/kafka';
import type { Scenario } from './scenarios';

export interface Latency {
  rate: number;
  /** Records produced per second, as achieved. */
  produced: number;
  /** Output records read, and their latencies (ms). */
  latencies: number[];
}

/** Reads `topic` from its current end until `stopped()` and a quiet batch, or the deadline. */
async function reader(client: ClientSettings, topic: string, partitions: number): Promise<{ done(graceMs: number): Promise<number[]> }> {
  const consumer = await rdkafkaClients.consumer(
    { ...client, 'group.id': `bench-latency-${topic}`, 'isolation.level': 'read_committed', 'enable.auto.commit': false, 'fetch.wait.max.ms': 10 },
    { consumeTimeoutMs: 20, connectTimeoutMs: 15_000 },
  );
  const ends = await Promise.all(Array.from({ length: partitions }, (_, p) => consumer.queryWatermarks(topic, p, 10_000)));
  consumer.assign(ends.map((w, partition) => ({ topic, partition, offset: w.high })));
  const latencies: number[] = [];
  let deadline = Number.POSITIVE_INFINITY;
  let quietSince = 0;
  const reading = (async () => {
    for (;;) {
      const batch = await consumer.consume(1_000);
      const now = Date.now();
      for (const m of batch) latencies.push(now - m.timestamp);
      if (batch.length > 0) quietSince = now;
      if (now > deadline || (deadline !== Number.POSITIVE_INFINITY && now - quietSince > 2_000)) return;
    }
  })();
  return {
    async done(graceMs) {
      quietSince = Date.now();
      deadline = Date.now() + graceMs;
      await reading;
      await consumer.disconnect();
      return latencies;
    },
  };
}

/** Engine and windowed: this process produces and reads. */
export async function inProcessLatency(
  client: ClientSettings,
  producer: Kafka.Producer,
  s: Scenario,
  topics: Record<string, string>,
  o: { partitions: number; rate: number; seconds: number; from: number },
): Promise<Latency> {
  const read = await reader(client, topics[s.outputs[0]!]!, o.partitions);
  const started = Date.now();
  await s.write(producer, topics[s.input]!, o.from, o.rate * o.seconds, o.rate);
  const produced = Math.round((o.rate * o.seconds) / ((Date.now() - started) / 1000));
  return { rate: o.rate, produced, latencies: await read.done(o.seconds * 3_000) };
}

/** The pipeline: pipeline-load.ts in a child process; `onPid` lets the meter follow it. */
export async function pipelineLatency(topics: Record<string, string>, o: { rate: number; seconds: number }, onPid: (pid: number) => void): Promise<Latency> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, '..', 'pipeline-load.ts'), topics.events!, topics.predictions!, String(o.rate), String(o.seconds)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  onPid(child.pid!);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`the pipeline load process exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').pop()!) as { produced: number; latencies: number[] };
  return { rate: o.rate, produced: Math.round(result.produced / o.seconds), latencies: result.latencies };
}
