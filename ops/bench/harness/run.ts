/**
 * One measured run of one side: start its application on the shared input, let it drain
 * the warm-up part of the backlog (the JIT warms on either side), time the measured part
 * between the committed offsets passing the two marks, then measure latency at a rate.
 * CPU and RSS of every process come from the same windows.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Kafka from 'node-rdkafka';
import { type ClientSettings, createTopics, rdkafkaClients } from '../../../src/kafka';
import { percentiles } from '../report';
import { inProcessLatency, type Latency, pipelineLatency } from './latency';
import { ProcessMeter, type ProcUsage } from './procs';
import type { Scenario } from './scenarios';
import { runTopics } from './scenarios';
import { type Side, startApp } from './sides';

export interface RunPlan {
  side: Side;
  run: number;
  id: string;
  partitions: number;
  threads: number;
  commitInterval?: number | undefined;
  reader: 'batch' | 'records';
  /** Records of the input to process before timing starts, and how many are timed after them. */
  warmup: number;
  records: number;
  /** Offered rates of the latency phase (none: no latency phase); `from` numbers the live records. */
  rates: number[];
  seconds: number;
  from: number;
  extra: { node: string[]; peer: string[] };
  /** Processes to meter besides the application (broker, registry, this harness). */
  pids: Map<string, number>;
  /** Where the Node side writes its CPU profile (--profile). */
  profileDir?: string | undefined;
}

export interface LatencyResult {
  rate: number;
  produced: number;
  seen: number;
  p50: number;
  p95: number;
  p99: number;
  procs: Record<string, ProcUsage>;
  inferenceP95Ms?: number | undefined;
}

export interface RunResult {
  side: Side;
  run: number;
  eventsPerSecond: number;
  /** Input records timed: fewer than asked when the warm-up ran past its mark while the tasks were spreading. */
  timed: number;
  seconds: number;
  procs: Record<string, ProcUsage>;
  inference?: { calls: number; rows: number; p50: number; p95: number; p99: number } | undefined;
  /** The timed part's commits: how many, their mean, the share of wall time, the mean by phase (ms). */
  commits?: { count: number; meanMs: number; wallShare: number; phasesMeanMs: Record<string, number> } | undefined;
  latency: LatencyResult[];
  /** The Node side's CPU profiles of the whole run, with --profile: one per process (the main and each stream thread's). */
  profiles?: string[] | undefined;
}

/** The side's arguments: the same for both, less the topics a side has no flag for. */
export function appArgs(
  s: Scenario,
  side: Side,
  topics: Record<string, string>,
  p: Pick<RunPlan, 'threads' | 'commitInterval' | 'reader'>,
  appId: string,
  stateDir: string,
): string[] {
  const args = [s.name, '--application-id', appId, '--state-dir', stateDir, '--threads', String(p.threads)];
  if (p.commitInterval !== undefined) args.push('--commit-interval', String(p.commitInterval));
  if (side === 'node' && p.reader === 'records') args.push('--reader', 'records');
  for (const [role, topic] of Object.entries(topics)) {
    if ((side === 'node' && role === 'dead-letter') || (side === 'peer' && role === 'metrics')) continue;
    args.push(`--${role}`, topic);
  }
  return args;
}

/** Sum of the group's committed offsets on the input, polled every 50 ms until it reaches `target`. */
async function committedReaches(
  client: ClientSettings,
  groupId: string,
  topic: string,
  partitions: number,
): Promise<{ until(target: number, timeoutMs: number): Promise<{ at: number; done: number }>; close(): Promise<void> }> {
  const consumer = await rdkafkaClients.consumer(
    { ...client, 'group.id': groupId, 'enable.auto.commit': false },
    { consumeTimeoutMs: 100, connectTimeoutMs: 15_000 },
  );
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
  return {
    async until(target, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const done = (await consumer.committed(tps, 5_000)).reduce((n, c) => n + Math.max(0, c.offset), 0);
        if (done >= target) return { at: Date.now(), done };
        if (Date.now() > deadline) throw new Error(`the application committed ${done} of ${target} input records within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => consumer.disconnect(),
  };
}

async function inputEnd(client: ClientSettings, topic: string, partitions: number): Promise<number> {
  const consumer = await rdkafkaClients.consumer({ ...client, 'group.id': 'bench-ends' }, { consumeTimeoutMs: 100, connectTimeoutMs: 15_000 });
  try {
    let total = 0;
    for (let p = 0; p < partitions; p++) total += (await consumer.queryWatermarks(topic, p, 10_000)).high;
    return total;
  } finally {
    await consumer.disconnect();
  }
}

function inference(stats: unknown): RunResult['inference'] {
  const s = stats as { calls?: number; rows?: number; batchMs?: number[] } | undefined;
  if (!s?.batchMs || s.batchMs.length === 0) return undefined;
  const [p50, p95, p99] = percentiles(s.batchMs, [50, 95, 99]) as [number, number, number];
  return { calls: s.calls ?? s.batchMs.length, rows: s.rows ?? 0, p50, p95, p99 };
}

/**
 * Commits so far, as each side counts them: the Node side's totals (overall and by phase),
 * or Kafka Streams' commit-total with its own mean (commit-latency-avg, over its metrics'
 * sample window — which covers the timed part).
 */
interface CommitCounters {
  count: number;
  totalMs?: number;
  meanMs?: number;
  phasesMs?: Record<string, number>;
}

function commitsBetween(before: unknown, after: unknown, seconds: number): RunResult['commits'] {
  const a = (before as { commits?: CommitCounters } | undefined)?.commits;
  const b = (after as { commits?: CommitCounters } | undefined)?.commits;
  if (!a || !b || b.count <= a.count) return undefined;
  const count = b.count - a.count;
  const meanMs = b.totalMs !== undefined && a.totalMs !== undefined ? (b.totalMs - a.totalMs) / count : (b.meanMs ?? NaN);
  const phasesMeanMs: Record<string, number> = {};
  for (const [phase, ms] of Object.entries(b.phasesMs ?? {})) phasesMeanMs[phase] = (ms - (a.phasesMs?.[phase] ?? 0)) / count;
  return { count, meanMs, wallShare: (meanMs * count) / 1000 / seconds, phasesMeanMs };
}

export async function measureRun(client: ClientSettings, producer: Kafka.Producer, s: Scenario, plan: RunPlan): Promise<RunResult> {
  const runName = `${plan.side}${plan.run}`;
  const topics = runTopics(s, plan.id, runName);
  await createTopics(
    client,
    Object.entries(topics)
      .filter(([role]) => role !== s.input)
      .map(([, name]) => ({ name, partitions: plan.partitions, replicationFactor: -1 })),
  );
  const appId = `bench-${plan.id}-${runName}`;
  const runStarted = Date.now();
  const stateDir = mkdtempSync(join(tmpdir(), `bench-${runName}-`));
  const total = await inputEnd(client, topics[s.input]!, plan.partitions);
  const progress = await committedReaches(client, appId, topics[s.input]!, plan.partitions);
  const app = startApp(
    plan.side,
    appArgs(s, plan.side, topics, plan, appId, stateDir),
    plan.extra[plan.side],
    plan.side === 'node' ? plan.profileDir : undefined,
  );
  const meter = new ProcessMeter(new Map([['app', app.pid], ...plan.pids]));
  try {
    await app.running;
    // Timing starts once every thread has its share of the tasks (a thread that joins the group a moment later takes a rebalance to get any) and the warm-up is done.
    await app.balanced(plan.partitions, plan.threads, 120_000);
    const start = await progress.until(total - plan.records, 600_000);
    const before = await app.stats();
    const window = meter.window();
    const t2 = (await progress.until(total, 1_800_000)).at;
    const procs = window.end();
    const seconds = (t2 - start.at) / 1000;
    const timed = total - start.done;
    const after = await app.stats();
    const result: RunResult = {
      side: plan.side,
      run: plan.run,
      eventsPerSecond: Math.round(timed / seconds),
      timed,
      seconds,
      procs,
      inference: inference(after),
      commits: commitsBetween(before, after, seconds),
      latency: [],
    };
    let from = plan.from;
    for (const rate of plan.rates) {
      const w = meter.window();
      const l: Latency =
        s.name === 'pipeline'
          ? await pipelineLatency(topics, { rate, seconds: plan.seconds }, (pid) => meter.add('load', pid))
          : await inProcessLatency(client, producer, s, topics, { partitions: plan.partitions, rate, seconds: plan.seconds, from });
      from += rate * plan.seconds;
      const [p50, p95, p99] = percentiles(l.latencies, [50, 95, 99]) as [number, number, number];
      result.latency.push({
        rate,
        produced: l.produced,
        seen: l.latencies.length,
        p50,
        p95,
        p99,
        procs: w.end(),
        inferenceP95Ms: inference(await app.stats())?.p95,
      });
      // What the rate left behind is drained before the next rate (bounded: a rate beyond the side's maximum leaves a backlog).
      await progress.until(await inputEnd(client, topics[s.input]!, plan.partitions), 300_000).catch(() => undefined);
    }
    await app.stop();
    // V8 writes a profile per process as it exits: the main's and, with several threads, each thread's.
    if (plan.profileDir)
      result.profiles = readdirSync(plan.profileDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(plan.profileDir!, f))
        .filter((f) => statSync(f).mtimeMs >= runStarted);
    return result;
  } finally {
    meter.stop();
    await app.stop();
    await progress.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
