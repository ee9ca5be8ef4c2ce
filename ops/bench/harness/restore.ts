/**
 * npm run bench -- restore: a count store of `--keys` keys restored from its changelog
 * into RocksDB by a fresh instance (no checkpoint), against the reference the issue names:
 * kcat (librdkafka in C, nothing else to do) reading the same changelog, in the same run,
 * alternating (A B C, C B A …) so drift falls on all. Restoration runs twice per round: with
 * the native batch reader (restore) and through node-rdkafka's consumer (restore-records,
 * the before).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaClientConfig, type Config } from '../../../src/config';
import { createTopics } from '../../../src/kafka';
import { StreamingError } from '../../../src/errors';
import { Serdes } from '../../../src/serdes';
import { brokerNodes } from '../../kafka/broker';
import { runningPid } from '../../kafka/process';
import { connectProducer, produceRecords } from './produce';
import { ProcessMeter, type ProcUsage } from './procs';
import { buildNode, startApp } from './sides';
import { spread, writeJson } from './table';

export interface RestoreOptions {
  keys: number;
  partitions: number;
  repeat: number;
  json: boolean;
}

interface RestoreRun {
  reader: Reader;
  run: number;
  recordsPerSecond: number;
  seconds: number;
  procs: Record<string, ProcUsage>;
}

type Say = (line: string) => void;
/** kcat; restoration through the native batch reader; restoration through node-rdkafka's consumer (the before). */
type Reader = 'kcat' | 'restore' | 'restore-records';

const hasKcat = (): boolean => spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0;

/** kcat reads every partition from the beginning to its end, printing nothing anyone keeps. */
async function kcat(bootstrap: string, topic: string, keys: number, meter: (pid: number) => ProcessMeter): Promise<Omit<RestoreRun, 'run'>> {
  const started = performance.now();
  const child = spawn('kcat', ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '\n'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const m = meter(child.pid!);
  const w = m.window();
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const procs = w.end();
  m.stop();
  if (code !== 0) throw new Error(`kcat exited with ${code}`);
  const seconds = (performance.now() - started) / 1000;
  return { reader: 'kcat', recordsPerSecond: Math.round(keys / seconds), seconds, procs };
}

async function restore(applicationId: string, input: string, reader: Reader, meter: (pid: number) => ProcessMeter): Promise<Omit<RestoreRun, 'run'>> {
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-restore-'));
  const args = ['restore', '--application-id', applicationId, '--state-dir', stateDir, '--input', input];
  const app = startApp('node', reader === 'restore-records' ? [...args, '--reader', 'records'] : args, []);
  const restored = app.line('RESTORED ', 600_000);
  const m = meter(app.pid);
  const w = m.window();
  try {
    const r = JSON.parse(await restored) as { records: number; durationMs: number; recordsPerSecond: number; reads?: string };
    // Each reader measures what it names: a batch reader that did not load would make both rows node-rdkafka's.
    const want = reader === 'restore' ? 'batch' : 'records';
    if (!r.reads?.startsWith(want))
      throw new StreamingError('SA_ERR_BENCH', `the ${reader} run read through "${r.reads ?? 'unknown'}", not ${want}`, {
        hint: 'npm run build compiles the native batch reader (node ops/build/native.js --require shows why it fails)',
      });
    return { reader, recordsPerSecond: r.recordsPerSecond, seconds: r.durationMs / 1000, procs: w.end() };
  } finally {
    m.stop();
    await app.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function benchRestore(config: Config, o: RestoreOptions, say: Say): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const applicationId = `bench-restore-${id}`;
  const input = `${applicationId}-in`;
  const changelog = `${applicationId}-counts-changelog`;
  const client = kafkaClientConfig(config.kafka);
  const bootstrap = String(client['bootstrap.servers']);
  say(
    `restore: a count store of ${o.keys.toLocaleString('en-US')} keys restored into RocksDB from its changelog by a fresh instance (no checkpoint), ${o.partitions} partitions; reference: kcat reading the same changelog`,
  );
  say(
    `machine: 2 cores shared by the broker, the registry and the reader; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const reference = hasKcat();
  if (!reference) say('no reference: kcat is not installed (npm run setup installs it; Debian: apt-get install kcat)');
  buildNode(say);
  await createTopics(client, [
    { name: input, partitions: o.partitions, replicationFactor: -1 },
    { name: changelog, partitions: o.partitions, replicationFactor: -1, config: { 'cleanup.policy': 'compact' } },
  ]);
  // The changelog as the application writes it: one record per key, the count as a Long.
  const producer = await connectProducer(client);
  const long = Serdes.Long();
  let started = Date.now();
  await produceRecords(producer, changelog, o.keys, 0, (i) => ({ key: `key-${i}`, value: long.serialize(changelog, (i % 97) + 1)!, timestamp: Date.now() }));
  await new Promise<void>((r) => producer.disconnect(() => r()));
  say(`changelog: ${o.keys.toLocaleString('en-US')} records written in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const broker = runningPid(brokerNodes(config.stack)[0]!.pidFile);
  const meter = (pid: number): ProcessMeter =>
    new ProcessMeter(new Map([['app', pid], ...(broker !== undefined ? [['broker', broker] as [string, number]] : [])]));
  const runs: RestoreRun[] = [];
  const readers: Reader[] = reference ? ['kcat', 'restore', 'restore-records'] : ['restore', 'restore-records'];
  for (let run = 1; run <= o.repeat; run++) {
    for (const reader of run % 2 === 1 ? readers : [...readers].reverse()) {
      started = Date.now();
      const r = reader === 'kcat' ? await kcat(bootstrap, changelog, o.keys, meter) : await restore(applicationId, input, reader, meter);
      runs.push({ ...r, run });
      say(
        `  run ${run}, ${reader}: ${r.recordsPerSecond.toLocaleString('en-US')} records/s (${r.seconds.toFixed(2)} s; reader CPU ${r.procs.app?.cpu ?? '–'} %, broker ${r.procs.broker?.cpu ?? '–'} %)`,
      );
    }
  }
  const summary = Object.fromEntries(readers.map((reader) => [reader, spread(runs.filter((r) => r.reader === reader).map((r) => r.recordsPerSecond))]));
  for (const [reader, s] of Object.entries(summary))
    say(
      `${reader}: ${Math.round(s.median).toLocaleString('en-US')} records/s median (${Math.round(s.min).toLocaleString('en-US')}–${Math.round(s.max).toLocaleString('en-US')})`,
    );
  const ratio = (a: Reader, b: Reader): void => {
    const pairs = spread(
      [...new Set(runs.map((r) => r.run))].map(
        (run) => runs.find((r) => r.run === run && r.reader === a)!.recordsPerSecond / runs.find((r) => r.run === run && r.reader === b)!.recordsPerSecond,
      ),
    );
    say(`ratio ${a} / ${b}: ${(summary[a]!.median / summary[b]!.median).toFixed(2)} (medians); run by run ${pairs.min.toFixed(2)}–${pairs.max.toFixed(2)}`);
  };
  if (reference) ratio('restore', 'kcat');
  if (reference) ratio('restore-records', 'kcat');
  ratio('restore', 'restore-records');
  if (o.json) say(`written: ${writeJson('restore', { options: o, loadavg: loadavg(), runs, summary })}`);
}
