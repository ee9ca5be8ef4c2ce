/**
 * The whole exactly-once check, as `npm run eos-verify` and as a library function:
 * fresh input/echo topics, the application as child processes, the driver producing
 * while instances are killed with SIGKILL (and, optionally, a second instance joins and
 * leaves), then a clean stop and the verifier.
 */
import type { ClientSettings } from '../kafka';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTopics } from '../kafka';
import { scriptCommand } from '../script';
import { runDriver } from './driver';
import { closeConsumer, highOffset, openConsumer, type ReadConsumer } from './kafka-read';
import { verifyEos, type VerifyResult } from './verify';

export interface EosRunOptions {
  client: ClientSettings;
  /** Environment for the application processes (their STREAMING_* settings). */
  appEnv: NodeJS.ProcessEnv;
  records: number;
  partitions: number;
  keys: number;
  rate: number;
  /** SIGKILL-and-restart rounds of instance 1 while the driver runs. */
  kills: number;
  /** Rounds in which a second instance joins, then leaves cleanly (rebalances under load). */
  bounces: number;
  /** Route the echo through an internal repartition topic (two sub-topologies). */
  repartition?: boolean;
  /** Before each restart after a kill, delete the killed instance's checkpoints or overwrite them with garbage. */
  checkpointFault?: 'delete' | 'garbage' | undefined;
  /** Stream threads per instance (numStreamThreads; default 1): each a process, all killed together. */
  threads?: number | undefined;
  say: (line: string) => void;
}

const APP = scriptCommand(__filename, __dirname, 'app');

class AppProcess {
  private child: ChildProcess | undefined;
  private log = '';

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly instance: string,
  ) {}

  /** Everything the instance printed since `mark` (a length of the output). */
  outputSince(mark: number): string {
    return this.log.slice(mark);
  }

  get outputLength(): number {
    return this.log.length;
  }

  async start(): Promise<void> {
    // Its own process group: a kill takes the instance's stream-thread processes with it, as a machine failure would.
    const child = spawn(APP.command, APP.args, { env: { ...this.env, EOS_APP_INSTANCE: this.instance }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`instance ${this.instance} did not start within 60 s:\n${this.log.slice(-2000)}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        this.log += d.toString();
        if (this.log.includes('EOS-APP-RUNNING')) {
          clearTimeout(timer);
          ok();
        }
      });
      child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`instance ${this.instance} exited with ${code} during start-up:\n${this.log.slice(-2000)}`));
      });
    });
  }

  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    if (signal === 'SIGKILL') {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    } else child.kill(signal);
    await exited;
    if (signal === 'SIGKILL') await waitForGroupGone(child.pid!);
    this.child = undefined;
  }
}

export async function runEosVerification(o: EosRunOptions): Promise<VerifyResult> {
  const id = randomUUID().slice(0, 8);
  const input = `eos-verify-${id}-input`;
  const echo = `eos-verify-${id}-echo`;
  const sum = `eos-verify-${id}-sum`;
  const min = `eos-verify-${id}-min`;
  const applicationId = `eos-verify-${id}`;
  await createTopics(
    o.client,
    [input, echo, sum, min].map((name) => ({ name, partitions: o.partitions, replicationFactor: -1 })),
  );
  const stateDir = mkdtempSync(join(tmpdir(), `eos-verify-${id}-`));
  // Info level: the runner reads from an instance's log how its stores were restored.
  const env = {
    ...o.appEnv,
    STREAMING_LOG__LEVEL: 'info',
    EOS_APP_STATE_DIR: stateDir,
    EOS_APP_INPUT: input,
    EOS_APP_ECHO: echo,
    EOS_APP_SUM: sum,
    EOS_APP_MIN: min,
    EOS_APP_ID: applicationId,
    EOS_APP_REPARTITION: o.repartition ? '1' : '0',
    EOS_APP_THREADS: String(o.threads ?? 1),
  };
  const first = new AppProcess(env, 'instance-1');
  const second = new AppProcess(env, 'instance-2');
  o.say(
    `topics ${input} → ${o.repartition ? `${applicationId}-echo-repartition → ` : ''}${echo}, and running sum/min per key → ${sum}, ${min} (${o.partitions} partitions); starting the application`,
  );
  try {
    await first.start();
    if ((o.threads ?? 1) > 1) o.say(`${first.instance} runs stream threads ${threadsSeen(first.outputSince(0)).join(', ')}, one process each`);
    const driving = runDriver({ client: o.client, topic: input, records: o.records, keys: o.keys, rate: o.rate });
    const faults = injectFaults(o, first, second, join(stateDir, first.instance));
    await Promise.all([driving, faults]);
    o.say(`driver wrote ${o.records} records; waiting for the application to commit them all`);
    // Every source topic of the group must be drained, the repartition topic included.
    const sources = o.repartition ? [input, `${applicationId}-echo-repartition`, `${applicationId}-aggregates-repartition`] : [input];
    for (const topic of sources) await waitForCommitted(o.client, applicationId, topic, o.partitions);
    await second.stop('SIGTERM');
    await first.stop('SIGTERM');
  } finally {
    // On any failure above, no application process may outlive the run.
    await second.stop('SIGKILL');
    await first.stop('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
  o.say('application stopped; verifying');
  return verifyEos({ client: o.client, applicationId, input, echo, sum, min });
}

async function injectFaults(o: EosRunOptions, first: AppProcess, second: AppProcess, instanceDir: string): Promise<void> {
  const checkpoints = (): string[] => checkpointFiles(instanceDir);
  const durationMs = o.rate > 0 ? (o.records / o.rate) * 1000 : 5000;
  const rounds = Math.max(o.kills, o.bounces);
  for (let i = 0; i < rounds; i++) {
    await sleep(durationMs / (rounds + 1));
    if (i < o.bounces) {
      o.say(`bounce ${i + 1}/${o.bounces}: ${second.instance} joins`);
      await second.start();
    }
    if (i < o.kills) {
      o.say(`kill ${i + 1}/${o.kills}: SIGKILL ${first.instance}, then restart it`);
      await first.stop('SIGKILL');
      if (o.checkpointFault)
        o.say(
          `checkpoint fault: ${damageCheckpoints(checkpoints(), o.checkpointFault)} checkpoint files of ${first.instance} ${o.checkpointFault === 'delete' ? 'deleted' : 'overwritten with garbage'}`,
        );
      const mark = first.outputLength;
      await first.start();
      await sleep(1_500); // its stores restore right after it rejoins
      if (o.checkpointFault) {
        // Its tasks may be assigned a little later; then the next fault needs checkpoints to damage, written once they restored.
        await waitUntil(() => first.outputSince(mark).includes('no usable checkpoint'), 20_000);
        await waitUntil(() => checkpoints().length > 0, 20_000);
      }
      o.say(
        `${first.instance} restarted: ${first.outputSince(mark).includes('no usable checkpoint') ? 'stores wiped and restored from the beginning (no usable checkpoint)' : 'stores restored from their checkpoint'}`,
      );
    }
    if (i < o.bounces) {
      o.say(`bounce ${i + 1}/${o.bounces}: ${second.instance} leaves`);
      await second.stop('SIGTERM');
    }
  }
}

/**
 * Waits until the group's committed offsets cover every record of the topic. On a topic
 * written transactionally (a repartition topic) the last offsets of a partition are
 * commit markers, which no consumer returns: a partition short of its high watermark is
 * drained when a read_committed read from the committed offset finds nothing.
 */
async function waitForCommitted(client: ClientSettings, groupId: string, topic: string, partitions: number, timeoutMs = 180_000): Promise<void> {
  const group = await openConsumer(client, groupId, 'read_uncommitted');
  const probe = await openConsumer(client, `${groupId}-probe`, 'read_committed');
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const committed = await group.consumer.committed(
        Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
        10_000,
      );
      let pending = 0;
      for (const c of committed) {
        const at = Math.max(0, c.offset);
        if ((await highOffset(group, topic, c.partition)) > at && (await hasRecordAt(probe, topic, c.partition, at))) pending++;
      }
      if (pending === 0) return;
      if (Date.now() > deadline) throw new Error(`the application did not commit all of ${topic} within ${timeoutMs / 1000} s (${pending} partitions behind)`);
      await sleep(500);
    }
  } finally {
    await closeConsumer(group);
    await closeConsumer(probe);
  }
}

async function hasRecordAt(reader: ReadConsumer, topic: string, partition: number, offset: number): Promise<boolean> {
  const consumer = reader.consumer;
  consumer.assign([{ topic, partition, offset }]);
  try {
    const batch = await consumer.consume(1).catch(() => []);
    return batch.length > 0;
  } finally {
    consumer.unassign();
  }
}

/** The stream threads whose log lines an instance printed (each thread's process logs with its number). */
function threadsSeen(output: string): number[] {
  return [...new Set([...output.matchAll(/"thread":(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

/** An instance's checkpoint files: in its state directory, or in each of its stream threads' (thread-N/). */
function checkpointFiles(instanceDir: string): string[] {
  const threads = existsSync(instanceDir) ? readdirSync(instanceDir).filter((d) => /^thread-\d+$/.test(d)) : [];
  return [instanceDir, ...threads.map((d) => join(instanceDir, d))]
    .map((d) => join(d, 'checkpoints'))
    .flatMap((dir) =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.endsWith('.json'))
            .map((f) => join(dir, f))
        : [],
    );
}

function damageCheckpoints(files: string[], fault: 'delete' | 'garbage'): number {
  for (const f of files) {
    if (fault === 'delete') rmSync(f);
    else writeFileSync(f, '{"version":1,"offsets":{"not json');
  }
  return files.length;
}

/** After a SIGKILL of the group: until no process of it is left (its stream threads die with it, but not in the same instant). */
async function waitForGroupGone(pgid: number): Promise<void> {
  await waitUntil(() => {
    try {
      process.kill(-pgid, 0);
      return false;
    } catch {
      return true;
    }
  }, 10_000);
}

/** Polls until `done` or the timeout; the caller's checks then report what did not happen. */
async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !done()) await sleep(100);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
