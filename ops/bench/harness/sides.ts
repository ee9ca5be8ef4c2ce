/**
 * The two sides the harness runs, each as its own process with the same arguments: this
 * project (compiled by tsconfig.bench.json, run by node) and the Kafka Streams peer
 * (ops/bench/kafka-streams-peer, built by Maven, run by java). Both print `RUNNING` once
 * running, answer `stats` on stdin with one JSON line, and close on SIGTERM.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { StreamingError } from '../../../src/errors';
import { requireTool } from '../../kafka/toolchain';

export type Side = 'node' | 'peer';
export const SIDE_NAMES: Record<Side, string> = { node: 'streaming-analytics', peer: 'Kafka Streams' };

export const ROOT = resolve(__dirname, '..', '..', '..');
const NODE_MAIN = join(ROOT, 'bench', 'build', 'ops', 'bench', 'app', 'main.js');
const PEER_DIR = join(ROOT, 'ops', 'bench', 'kafka-streams-peer');
const PEER_JAR = join(PEER_DIR, 'target', 'kafka-streams-peer.jar');

function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newest(join(path, name))), s.mtimeMs);
}

function run(command: string, args: string[], what: string, hint: string): void {
  const res = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.status === 0) return;
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
  throw new StreamingError('SA_ERR_BENCH', `${what} failed (exit ${res.status ?? res.signal}):\n${output}`, { hint });
}

/** Compiles the Node side (incremental: seconds when nothing changed). */
export function buildNode(say: (line: string) => void): void {
  const started = Date.now();
  run(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.bench.json'],
    'compiling the Node side',
    'run `npx tsc -p tsconfig.bench.json` to see every error',
  );
  // What tsc does not emit and the compiled code reads beside itself, as npm run build copies it.
  for (const name of readdirSync(join(ROOT, 'schemas')).filter((n) => n.endsWith('.avsc')))
    cpSync(join(ROOT, 'schemas', name), join(ROOT, 'bench', 'build', 'schemas', name));
  // The native batch reader, as npm run build compiles it (dist/native/, where the runtime looks).
  run(
    process.execPath,
    [join(ROOT, 'ops', 'build', 'native.js'), '--require'],
    'compiling the native batch reader',
    'run `node ops/build/native.js --require`',
  );
  say(`built the Node side (tsc → bench/build/) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Builds the peer's jar with Maven when it is missing or older than its sources. */
export function buildPeer(say: (line: string) => void): void {
  requireTool('java');
  requireTool('mvn');
  // The jar carries the Avro schemas too (copied from schemas/ at build time).
  const sources = Math.max(newest(join(PEER_DIR, 'pom.xml')), newest(join(PEER_DIR, 'src')), newest(join(ROOT, 'schemas')));
  if (existsSync(PEER_JAR) && statSync(PEER_JAR).mtimeMs >= sources) return;
  say('building the Kafka Streams peer with Maven (the first build downloads its dependencies)…');
  const started = Date.now();
  run(
    'mvn',
    ['-q', '-B', '-f', join(PEER_DIR, 'pom.xml'), 'package', '-DskipTests'],
    'building the Kafka Streams peer',
    'run `mvn -f ops/bench/kafka-streams-peer/pom.xml package` to see the build',
  );
  say(`built the Kafka Streams peer in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export interface AppProcess {
  readonly side: Side;
  readonly pid: number;
  /** Resolves at the application's `RUNNING` line. */
  readonly running: Promise<void>;
  /** Resolves once every stream thread runs at least `partitions / threads` (rounded down) tasks, per the `TASKS` lines. */
  balanced(partitions: number, threads: number, timeoutMs: number): Promise<void>;
  /** The rest of the first line that starts with `prefix` (e.g. the restore scenario's `RESTORED …`). */
  line(prefix: string, timeoutMs: number): Promise<string>;
  /** The application's answer to `stats` (the pipeline's model calls), undefined when it has none. */
  stats(): Promise<unknown>;
  /** SIGTERM, then the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** Starts one side: `args` are the scenario and its options, the same for both sides. */
export function startApp(side: Side, args: string[], extra: string[], profileDir?: string): AppProcess {
  // --cpu-prof: V8 writes the whole process's CPU profile into profileDir when it exits.
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child: ChildProcessWithoutNullStreams =
    side === 'node'
      ? spawn(process.execPath, ['--max-semi-space-size=64', ...profile, NODE_MAIN, ...args, ...extra], { cwd: ROOT, env: process.env })
      : spawn('java', ['-jar', PEER_JAR, ...args, ...extra], { cwd: ROOT, env: process.env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = `${stderr}${d.toString()}`.slice(-4000)));
  const answers: ((line: string) => void)[] = [];
  let tasks: number[] = [];
  const waiters: { prefix: string; done: (rest: string) => void }[] = [];
  const onTasks = new Set<() => void>();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const running = new Promise<void>((ok, fail) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const waiter = waiters.find((w) => line.startsWith(w.prefix));
      if (waiter) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.done(line.slice(waiter.prefix.length));
      } else if (line === 'RUNNING') ok();
      else if (line.startsWith('TASKS ')) {
        tasks = line.slice(6).split(',').map(Number);
        for (const f of onTasks) f();
      } else if (line.startsWith('STATS ')) answers.shift()?.(line.slice(6));
    });
    void exited.then((code) =>
      fail(
        new StreamingError('SA_ERR_BENCH', `the ${SIDE_NAMES[side]} application exited (${code}) before running:\n${stderr.trim()}`, {
          hint: 'see its error above',
        }),
      ),
    );
  });
  return {
    side,
    pid: child.pid!,
    running,
    line: (prefix, timeoutMs) =>
      new Promise<string>((ok, fail) => {
        const timer = setTimeout(
          () => fail(new StreamingError('SA_ERR_BENCH', `the ${SIDE_NAMES[side]} application printed no "${prefix}" line within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
        waiters.push({
          prefix,
          done: (rest) => {
            clearTimeout(timer);
            ok(rest);
          },
        });
      }),
    balanced: (partitions, threads, timeoutMs) =>
      new Promise<void>((ok, fail) => {
        const check = (): void => {
          if (tasks.length !== threads || !tasks.every((n) => n >= Math.floor(partitions / threads))) return;
          clearTimeout(timer);
          onTasks.delete(check);
          ok();
        };
        const timer = setTimeout(() => {
          onTasks.delete(check);
          fail(
            new StreamingError(
              'SA_ERR_BENCH',
              `the ${SIDE_NAMES[side]} application's tasks were not spread over its ${threads} thread(s) within ${timeoutMs / 1000} s (tasks per thread: ${tasks.join(', ') || 'none'})`,
            ),
          );
        }, timeoutMs);
        onTasks.add(check);
        check();
      }),
    stats: () =>
      new Promise<unknown>((ok) => {
        // A side that does not answer within a second has nothing to report.
        const timer = setTimeout(() => ok(undefined), 1_000);
        answers.push((line) => {
          clearTimeout(timer);
          try {
            ok(JSON.parse(line) as unknown);
          } catch {
            ok(undefined);
          }
        });
        child.stdin.write('stats\n');
      }),
    async stop(graceMs = 40_000) {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
