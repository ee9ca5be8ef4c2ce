import { strict as assert } from 'node:assert';
import { kafkaClientConfig } from '../../src/config';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaStreams, Serdes, StreamsBuilder } from '../../src';
import { createLogger } from '../../src/logger';
import { ROOT } from '../support/cli';
import { call, connectedProducer, createTopic, uniqueName, waitFor } from '../support/kafka';
import { freePort } from '../support/net';
import { useStack } from '../support/stack';

const KEYS = 20;

/** Every count an instance holds, from a scan of the partitions it runs. */
async function scan(url: string): Promise<{ counts: Map<string, number>; partitions: number[] }> {
  const counts = new Map<string, number>();
  let cursor: string | null = null;
  let partitions: number[] = [];
  do {
    const res = await fetch(`${url}/stores/counts/entries?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    if (res.status !== 200) return { counts, partitions: [] };
    const body = (await res.json()) as { entries: { key: string; value: number }[]; cursor: string | null; partitions: number[] };
    for (const e of body.entries) counts.set(e.key, e.value);
    partitions = body.partitions;
    cursor = body.cursor;
  } while (cursor);
  return { counts, partitions };
}

describe('a lost assignment never leaves a checkpoint past what the instance wrote (SIGSTOP, real broker)', function () {
  this.timeout(300_000);
  const config = useStack();
  const input = uniqueName('lost-in');
  const applicationId = uniqueName('lost-app');
  const expected = new Map<string, number>();
  const dirs: string[] = [];
  let a: ChildProcess | undefined;
  let b: KafkaStreams | undefined;

  const produce = async (rounds: number): Promise<void> => {
    const producer = await connectedProducer(config());
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < KEYS; i++) {
        producer.produce(input, null, Buffer.from('x'), Buffer.from(`k${i}`), Date.now());
        expected.set(`k${i}`, (expected.get(`k${i}`) ?? 0) + 1);
      }
    }
    await call((cb) => producer.flush(10_000, (err) => cb(err)));
    await call((cb) => producer.disconnect((err) => cb(err)));
  };
  const equalsExpected = (counts: Map<string, number>): boolean => counts.size === KEYS && [...expected].every(([k, v]) => counts.get(k) === v);

  after(async () => {
    if (a && a.exitCode === null) {
      a.kill('SIGCONT');
      a.kill('SIGKILL');
    }
    await b?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('an instance paused past its session timeout, whose tasks another instance wrote, restores what it missed when it gets them back', async () => {
    await createTopic(config(), input, 2);
    await produce(3);
    const dirA = mkdtempSync(join(tmpdir(), 'lost-a-'));
    dirs.push(dirA);
    const portA = await freePort();
    a = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/count-app.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        COUNT_APP_INPUT: input,
        COUNT_APP_ID: applicationId,
        COUNT_APP_INSTANCE: 'a',
        COUNT_APP_STATE_DIR: dirA,
        COUNT_APP_PORT: String(portA),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const urlA = `http://127.0.0.1:${portA}`;
    await waitFor('instance a to count every record', async () => equalsExpected((await scan(urlA).catch(() => ({ counts: new Map() }))).counts), 120_000);

    // a stops answering: the group moves its tasks to b, which restores and writes them.
    a.kill('SIGSTOP');
    const dirB = mkdtempSync(join(tmpdir(), 'lost-b-'));
    dirs.push(dirB);
    b = new KafkaStreams(
      (() => {
        const builder = new StreamsBuilder();
        builder.stream(input, { keySerde: Serdes.String(), valueSerde: Serdes.String() }).groupByKey({ keySerde: Serdes.String() }).count({ name: 'counts' });
        return builder.build();
      })(),
      {
        applicationId,
        instanceId: 'b',
        stateDir: dirB,
        kafka: kafkaClientConfig(config().kafka),
        logger: createLogger({ level: 'fatal' }),
        handleSignals: false,
        consumerOverrides: { 'session.timeout.ms': 6_000, 'heartbeat.interval.ms': 500 },
        queryServer: { port: await freePort() },
      },
    );
    await b.start();
    const urlB = b.queryUrl!;
    await waitFor('instance b to run both partitions', async () => (await scan(urlB)).partitions.length === 2, 120_000);
    await produce(5);
    await waitFor('instance b to count the new records', async () => equalsExpected((await scan(urlB)).counts), 60_000);

    // a comes back to a group that moved on (a lost assignment), then gets every task back.
    a.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 8_000)); // a notices the loss and rejoins
    await b.close();
    b = undefined;
    await produce(1);
    let last = new Map<string, number>();
    await waitFor(
      'instance a to hold every count exactly as recomputed from the input',
      async () => {
        const s = await scan(urlA).catch(() => ({ counts: new Map<string, number>(), partitions: [] }));
        last = s.counts;
        return s.partitions.length === 2 && equalsExpected(s.counts);
      },
      120_000,
    ).catch((err: Error) => {
      const wrong = [...expected].filter(([k, v]) => last.get(k) !== v).map(([k, v]) => `${k}: ${last.get(k)} instead of ${v}`);
      throw new Error(`${err.message}; ${wrong.length} of ${KEYS} counts differ (${wrong.slice(0, 5).join(', ')})`);
    });
    assert.ok(equalsExpected(last));
  });
});
