/**
 * npm run bench -- compare <scenario> (and the single-side scenarios): builds both sides,
 * checks they compute the same on a small input, writes one backlog that every run reads,
 * then runs the sides alternately (A B, B A, …) so drift on a shared machine falls on both,
 * each warming up on the first part of the backlog before the rest is timed.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { kafkaClientConfig, type Config } from '../../../src/config';
import { StreamingError } from '../../../src/errors';
import { createTopics } from '../../../src/kafka';
import { brokerNodes } from '../../kafka/broker';
import { runningPid } from '../../kafka/process';
import { registryDir } from '../../kafka/registry';
import { summariseProfile } from '../report';
import { diff, project } from './correctness';
import { readTopic } from './outputs';
import { connectProducer } from './produce';
import { measureRun, type RunResult } from './run';
import { runTopics, scenario, type ScenarioName } from './scenarios';
import { buildNode, buildPeer, SIDE_NAMES, type Side } from './sides';
import { runTable, summarise, summaryLines, writeJson } from './table';

export interface CompareOptions {
  scenario: ScenarioName;
  sides: Side[];
  repeat: number;
  records: number;
  warmup: number;
  partitions: number;
  keys: number;
  /** Offered rates of the latency phase; empty: the scenario's default. */
  rates: number[];
  /** With a sweep: these fractions of the first run's throughput become the rates. */
  sweep: number[] | undefined;
  seconds: number;
  threads: number;
  /** The Node side's consume: 'batch' (the native readers, the default) or 'records' (node-rdkafka's, the before). */
  reader: 'batch' | 'records';
  commitInterval?: number | undefined;
  /** Input records of the correctness check (0: no check). */
  checkRecords: number;
  /** The peer's records per model call (pipeline). */
  peerBatch: number;
  json: boolean;
  /** Write the Node side's CPU profile of each run under bench/results/profiles/ and print its top functions. */
  profile: boolean;
  /** Only the correctness check. */
  checkOnly: boolean;
}

type Say = (line: string) => void;
const PROFILES = resolve(__dirname, '..', '..', '..', 'bench', 'results', 'profiles');

function pids(config: Config): Map<string, number> {
  const out = new Map<string, number>([['harness', process.pid]]);
  const broker = runningPid(brokerNodes(config.stack)[0]!.pidFile);
  if (broker !== undefined) out.set('broker', broker);
  const registry = runningPid(join(registryDir(config.stack), 'registry.pid'));
  if (registry !== undefined) out.set('registry', registry);
  return out;
}

/** Runs each side over the same small input to its end and diffs their outputs. */
async function checkSame(config: Config, o: CompareOptions, say: Say): Promise<void> {
  const client = kafkaClientConfig(config.kafka);
  const id = `${randomUUID().slice(0, 8)}c`;
  const s = scenario(o.scenario, config, id, Math.min(o.keys, 1_000), o.peerBatch);
  const extra = await s.prepare();
  const input = runTopics(s, id, 'x')[s.input]!;
  await createTopics(client, [{ name: input, partitions: o.partitions, replicationFactor: -1 }]);
  const producer = await connectProducer(client);
  try {
    await s.write(producer, input, 0, o.checkRecords);
    const projections = [];
    for (const side of o.sides) {
      const plan = {
        side,
        run: 0,
        id,
        partitions: o.partitions,
        threads: o.threads,
        commitInterval: o.commitInterval,
        reader: o.reader,
        warmup: 0,
        records: 1,
        rates: [],
        seconds: 0,
        from: 0,
        extra,
        pids: new Map(),
      };
      await measureRun(client, producer, s, plan);
      const topics = runTopics(s, id, `${side}0`);
      const outputs: Record<string, Awaited<ReturnType<typeof readTopic>>> = {};
      for (const role of s.outputs) outputs[role] = await readTopic(client, topics[role]!, o.partitions);
      projections.push(project(o.scenario, outputs));
    }
    const d = diff(projections[0]!, projections[1]!, [SIDE_NAMES[o.sides[0]!], SIDE_NAMES[o.sides[1]!]]);
    if (d.differing > 0 || d.keys === 0)
      throw new StreamingError(
        'SA_ERR_BENCH',
        `correctness: the two sides differ on ${d.differing} of ${d.keys} outputs over ${o.checkRecords} input records:\n  ${d.differences.join('\n  ')}`,
        {
          hint: 'a benchmark of two programs that compute different things compares nothing: fix the side that is wrong first',
        },
      );
    say(
      `correctness: both sides computed the same ${d.keys.toLocaleString('en-US')} outputs from the same ${o.checkRecords.toLocaleString('en-US')} input records`,
    );
  } finally {
    await new Promise<void>((r) => producer.disconnect(() => r()));
  }
}

export async function compare(config: Config, o: CompareOptions, say: Say): Promise<RunResult[]> {
  const client = kafkaClientConfig(config.kafka);
  const id = randomUUID().slice(0, 8);
  const s = scenario(o.scenario, config, id, o.keys, o.peerBatch);
  say(`${o.scenario}: ${s.title}; ${o.partitions} partitions; ${o.sides.map((x) => SIDE_NAMES[x]).join(' vs ')}, ${o.threads} stream thread(s) each`);
  say(
    `machine: 2 cores shared by the broker, the registry, the application and the load generator; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  buildNode(say);
  if (o.profile) mkdirSync(PROFILES, { recursive: true });
  if (o.sides.includes('peer')) buildPeer(say);
  if (o.checkRecords > 0 && o.sides.length === 2) await checkSame(config, o, say);
  if (o.checkOnly) return [];

  const extra = await s.prepare();
  const input = runTopics(s, id, 'x')[s.input]!;
  await createTopics(client, [{ name: input, partitions: o.partitions, replicationFactor: -1 }]);
  const producer = await connectProducer(client);
  const results: RunResult[] = [];
  try {
    let started = Date.now();
    await s.write(producer, input, 0, o.warmup + o.records);
    say(
      `backlog: ${(o.warmup + o.records).toLocaleString('en-US')} records (${o.warmup.toLocaleString('en-US')} to warm up, ${o.records.toLocaleString('en-US')} timed) written in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    let rates = o.rates.length > 0 || o.sweep || o.scenario === 'pipeline' ? o.rates : [20_000];
    // Rates that depend on the maximum need one round to find it: that round measures throughput only, and --repeat rounds with latency follow.
    const rounds = o.repeat + (rates.length === 0 ? 1 : 0);
    for (let run = 1; run <= rounds; run++) {
      const order = run % 2 === 1 ? o.sides : [...o.sides].reverse();
      for (const side of order) {
        started = Date.now();
        const r = await measureRun(client, producer, s, {
          side,
          run,
          id,
          partitions: o.partitions,
          threads: o.threads,
          commitInterval: o.commitInterval,
          reader: o.reader,
          warmup: o.warmup,
          records: o.records,
          rates,
          seconds: o.seconds,
          from: o.warmup + o.records,
          extra,
          pids: pids(config),
          profileDir: o.profile ? PROFILES : undefined,
        });
        results.push(r);
        say(
          `  run ${run}, ${SIDE_NAMES[side]}: ${r.eventsPerSecond.toLocaleString('en-US')} events/s${r.latency.map((l) => `; p95 ${Math.round(l.p95)} ms at ${l.rate.toLocaleString('en-US')}/s`).join('')} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
        );
      }
      if (rates.length === 0) rates = defaultRates(o, Math.min(...results.map((r) => r.eventsPerSecond)));
    }
  } finally {
    await new Promise<void>((r) => producer.disconnect(() => r()));
  }
  for (const line of [...runTable(results), '', ...summaryLines(results, o.sides)]) say(line);
  for (const r of results.filter((x) => x.commits)) {
    const phases = Object.entries(r.commits!.phasesMeanMs).map(([phase, ms]) => `${phase} ${ms.toFixed(1)}`);
    if (phases.length > 0) say(`commit phases of ${SIDE_NAMES[r.side]}, run ${r.run} (mean ms): ${phases.join(', ')}`);
  }
  for (const r of results)
    for (const profile of r.profiles ?? []) {
      say(`CPU profile of ${SIDE_NAMES[r.side]}, run ${r.run}, one process of it (open in Chrome DevTools): ${profile}; top self time:`);
      for (const line of summariseProfile(JSON.parse(readFileSync(profile, 'utf8')) as Parameters<typeof summariseProfile>[0], 15)) say(`  ${line}`);
    }
  if (o.json)
    say(
      `written: ${writeJson(`${o.sides.length === 2 ? 'compare-' : ''}${o.scenario}`, { scenario: o.scenario, title: s.title, options: o, loadavg: loadavg(), results, summary: summarise(results, o.sides) })}`,
    );
  return results;
}

/**
 * Rates that depend on the maximum (the pipeline's half of it, a sweep's fractions) come
 * from the slowest side's first run, so both sides are offered the same; that first round
 * measures throughput only (and counts in the throughput figures).
 */
function defaultRates(o: CompareOptions, slowest: number): number[] {
  const at = (f: number): number => Math.max(100, Math.round((slowest * f) / 100) * 100);
  return o.sweep ? o.sweep.map(at) : [at(0.5)];
}
