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
    rmSync(dir, { recursive: true, force: true });
  });

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

  it('splits the tasks over two processes, answers every key through the main process, adds up their metrics, and closes them all on SIGTERM', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/count-app.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        COUNT_APP_INPUT: input,
        COUNT_APP_ID: applicationId,
        COUNT_APP_INSTANCE: 'node-a',
        COUNT_APP_STATE_DIR: join(dir, 'state'),
        COUNT_APP_PORT: String(port),
        COUNT_APP_THREADS: '2',
        COUNT_APP_ADMIN_PORT: String(await freePort()),
        STREAMING_LOG__LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the instance to start', () => /ready \S+ \S+/.test(out), 90_000);
    const [, queryUrl, adminUrl] = /ready (\S+) (\S+)/.exec(out)!;
    assert.equal(out.match(/ready /g)?.length, 1, 'the threads run the program too, but only the main process reports');
    assert.equal(threadProcesses().length, 2, 'one process per stream thread');

    // Every key through the main process, which runs no task itself: each answer came from a thread.
    const servedBy = new Set<string>();
    await waitFor(
      'every key counted and answered',
      async () => {
        servedBy.clear();
        for (let i = 0; i < KEYS; i++) {
          const res = await fetch(`${queryUrl}/stores/counts/keys/k${i}`);
          if (res.status !== 200 || ((await res.json()) as { value: number }).value !== expected(i)) return false;
          servedBy.add(res.headers.get('x-sa-served-by') ?? '');
        }
        return true;
      },
      90_000,
    );
    assert.deepEqual([...servedBy].sort(), ['node-a-1', 'node-a-2'], 'the tasks are split between the two threads');
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
