import { strict as assert } from 'node:assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli';
import { call, connectedProducer, createTopic, uniqueName, waitFor } from '../support/kafka';
import { freePort } from '../support/net';
import { useStack } from '../support/stack';

/**
 * numStreamThreads: 2 on the real broker. Each stream thread is a process of its own
 * running the same program (test/support/count-app.ts); the instance's main process
 * serves the query API, health and metrics for all of them.
 */
describe('stream threads (numStreamThreads: 2, a process each; real broker)', function () {
  this.timeout(180_000);
  const config = useStack();
  const KEYS = 40;
  const expected = (i: number): number => (i % 5) + 1;
  const input = uniqueName('threads-in');
  const applicationId = uniqueName('threads-app');
  let dir = '';
  let child: ChildProcess | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'threads-'));
    await createTopic(config(), input, 4);
    const producer = await connectedProducer(config());
    for (let i = 0; i < KEYS; i++) for (let n = 0; n < expected(i); n++) producer.produce(input, null, Buffer.from('x'), Buffer.from(`k${i}`), Date.now());
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await call((cb) => producer.disconnect((err) => cb(err)));
  });

  after(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    if (other?.exitCode === null) other.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  let other: ChildProcess | undefined;

  /** An instance of count-app; resolves with its query and admin URLs once it prints them. */
  async function startInstance(instance: string, threads: number): Promise<{ proc: ChildProcess; queryUrl: string; adminUrl: string; out: () => string }> {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/count-app.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        COUNT_APP_INPUT: input,
        COUNT_APP_ID: applicationId,
        COUNT_APP_INSTANCE: instance,
        COUNT_APP_STATE_DIR: join(dir, instance),
        COUNT_APP_PORT: String(await freePort()),
        COUNT_APP_THREADS: String(threads),
        COUNT_APP_ADMIN_PORT: String(await freePort()),
        STREAMING_LOG__LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(`instance ${instance} to start`, () => /ready \S+ \S+/.test(out), 90_000);
    const [, queryUrl, adminUrl] = /ready (\S+) (\S+)/.exec(out)!;
    return { proc, queryUrl: queryUrl!, adminUrl: adminUrl!, out: () => out };
  }

  /** Every key through `url`, counted right; the instances that served them. */
  async function everyKey(url: string): Promise<Set<string> | undefined> {
    const servedBy = new Set<string>();
    for (let i = 0; i < KEYS; i++) {
      const res = await fetch(`${url}/stores/counts/keys/k${i}`);
      if (res.status !== 200 || ((await res.json()) as { value: number }).value !== expected(i)) return undefined;
      servedBy.add(res.headers.get('x-sa-served-by') ?? '');
    }
    return servedBy;
  }

  /** A whole scan of one instance, page by page: its keys, the partitions it covered, whether that was all of them. */
  async function scan(url: string): Promise<{ keys: string[]; partitions: number[]; complete: boolean }> {
    const keys: string[] = [];
    let cursor: string | null = null;
    let last: { partitions: number[]; complete: boolean } = { partitions: [], complete: false };
    do {
      const page = (await (await fetch(`${url}/stores/counts/entries?limit=7${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
        entries: { key: string; value: number }[];
        cursor: string | null;
        partitions: number[];
        complete: boolean;
      };
      keys.push(...page.entries.map((e) => e.key));
      cursor = page.cursor;
      last = page;
    } while (cursor);
    return { keys, ...last };
  }

  /** Processes (other than this one) started as a stream thread of this test's application. */
  const threadProcesses = (): number[] =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/environ`, 'utf8').includes(`"applicationId":"${applicationId}"`);
        } catch {
          return false;
        }
      })
      .map(Number);

  it('splits the tasks over two processes, answers every key and scan through the main process, adds up their metrics, and closes them all on SIGTERM', async () => {
    const a = await startInstance('node-a', 2);
    child = a.proc;
    const { queryUrl, adminUrl } = a;
    assert.equal(a.out().match(/ready /g)?.length, 1, 'the threads run the program too, but only the main process reports');
    assert.equal(threadProcesses().length, 2, 'one process per stream thread');

    // Every key through the main process, which runs no task itself: each answer came from a thread.
    let servedBy: Set<string> | undefined;
    await waitFor('every key counted and answered', async () => (servedBy = await everyKey(queryUrl)) !== undefined, 90_000);
    assert.deepEqual([...servedBy!].sort(), ['node-a-thread-1', 'node-a-thread-2'], 'the tasks are split between the two threads');
    // A scan through the main process merges its threads' pages: every key once, all partitions.
    const whole = await scan(queryUrl);
    assert.deepEqual(whole.keys.sort(), Array.from({ length: KEYS }, (_, i) => `k${i}`).sort());
    assert.deepEqual([whole.partitions, whole.complete], [[0, 1, 2, 3], true]);
    // To a client, a thread's key is this instance's: its metadata names the instance's own URL.
    const meta = (await (await fetch(`${queryUrl}/metadata/counts/k0`)).json()) as { owner: { instanceId: string; url: string }; local: boolean };
    assert.deepEqual(meta.owner, { instanceId: 'node-a', url: queryUrl });
    assert.equal(meta.local, true);

    // Health and metrics answer for the instance: ready once both threads run, counters added up.
    assert.equal((await fetch(`${adminUrl}/readyz`)).status, 200);
    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    const processed = [...metrics.matchAll(/^events_processed_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const total = Array.from({ length: KEYS }, (_, i) => expected(i)).reduce((a, b) => a + b, 0);
    assert.equal(
      processed,
      total,
      metrics
        .split('\n')
        .filter((l) => l.startsWith('events_processed'))
        .join('\n'),
    );

    // SIGTERM to the main process closes both threads (each commits and leaves the group), then it exits.
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    await waitFor('the thread processes to end', () => threadProcesses().length === 0, 30_000);
  });
});
