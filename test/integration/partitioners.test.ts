import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Kafka from 'node-rdkafka';
import { KafkaStreams, Serdes, StreamsBuilder, type InputPartitioner } from '../../src';
import { kafkaClientConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { crc32Partition, partitionForKey } from '../../src/partitioner';
import { call, createTopic, uniqueName, waitFor } from '../support/kafka';
import { freePort } from '../support/net';
import { useStack } from '../support/stack';

const S = Serdes.String();
const PARTITIONS = 6;
const KEYS = 120;

async function get(base: string, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

/**
 * Records produced as node-rdkafka produces them by default: librdkafka's
 * consistent_random partitioner (CRC32), no partition given. Returns the partition each
 * delivery report names per key.
 */
async function produceWithLibrdkafkaDefault(
  config: ReturnType<ReturnType<typeof useStack>>,
  topic: string,
  records: [string, number][],
): Promise<Map<string, number>> {
  const producer = new Kafka.Producer({ ...kafkaClientConfig(config.kafka), dr_cb: true });
  await call((cb) => producer.connect({ timeout: 15_000 }, (err) => cb(err)));
  producer.setPollInterval(20);
  const placed = new Map<string, number>();
  producer.on('delivery-report', (err, report) => {
    if (!err) placed.set(report.key!.toString(), report.partition);
  });
  for (const [key, partition] of records) producer.produce(topic, partition, Buffer.from('x'), Buffer.from(key), Date.now());
  await call((cb) => producer.flush(15_000, (err) => cb(err)));
  await waitFor('every delivery report', async () => placed.size >= new Set(records.map(([k]) => k)).size, 15_000);
  await call((cb) => producer.disconnect((err) => cb(err)));
  return placed;
}

describe("key look-ups whatever partitioner wrote the input (librdkafka's CRC32 default, real broker)", function () {
  this.timeout(240_000);
  const config = useStack();
  const input = uniqueName('pt-in');
  const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
  const dirs: string[] = [];
  const running: KafkaStreams[] = [];
  let placed: Map<string, number>;

  /** Two instances counting per key; the log lines of the first are collected. */
  const startPair = async (inputPartitioner: InputPartitioner | undefined, lines: string[]): Promise<string> => {
    const applicationId = uniqueName('pt-app');
    const urls: string[] = [];
    for (const id of ['a', 'b']) {
      const dir = mkdtempSync(join(tmpdir(), 'pt-'));
      dirs.push(dir);
      const b = new StreamsBuilder();
      b.stream(input, { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count({ name: 'counts' });
      const sink = new Writable({
        write: (chunk: Buffer, _enc, done) => {
          lines.push(chunk.toString());
          done();
        },
      });
      const logger = id === 'a' ? createLogger({ level: 'warn' }, 'pt', sink) : createLogger({ level: 'fatal' });
      const streams = new KafkaStreams(b.build(), {
        applicationId,
        instanceId: id,
        stateDir: dir,
        kafka: kafkaClientConfig(config().kafka),
        logger,
        handleSignals: false,
        queryServer: { port: await freePort() },
        ...(inputPartitioner ? { inputPartitioner } : {}),
      });
      await streams.start();
      running.push(streams);
      urls.push(streams.queryUrl!);
    }
    await waitFor(
      'both instances running with tasks',
      async () => {
        const stores = await Promise.all(urls.map((u) => get(u, '/stores/counts/entries?limit=1')));
        return stores.every((r) => r.status === 200 && r.body.partitions.length > 0);
      },
      90_000,
    );
    return urls[0]!;
  };

  /** Every key through one instance: the count it was given, or the status it answered. */
  const answers = async (url: string): Promise<Map<string, number | string>> => {
    const out = new Map<string, number | string>();
    for (const key of keys) {
      const r = await get(url, `/stores/counts/keys/${key}`);
      out.set(key, r.status === 200 ? r.body.value : `${r.status} ${r.body.error?.code}`);
    }
    return out;
  };
  const expected = new Map(keys.map((k, i) => [k, (i % 3) + 1]));

  before(async () => {
    await createTopic(config(), input, PARTITIONS);
    placed = await produceWithLibrdkafkaDefault(
      config(),
      input,
      keys.flatMap((k, i) => Array.from({ length: (i % 3) + 1 }, () => [k, -1] as [string, number])),
    );
  });

  after(async () => {
    for (const s of running) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("librdkafka's default partitioner is CRC32 of the key, as the runtime computes it (and mostly not murmur2)", () => {
    let differ = 0;
    for (const key of keys) {
      assert.equal(placed.get(key), crc32Partition(Buffer.from(key), PARTITIONS), key);
      if (partitionForKey(Buffer.from(key), PARTITIONS) !== placed.get(key)) differ++;
    }
    assert.ok(differ > KEYS / 2, `murmur2 would look in the wrong partition for most keys (${differ} of ${KEYS})`);
  });

  it("declared crc32: every look-up answers the key's count, with no mismatch counted", async () => {
    const lines: string[] = [];
    const url = await startPair('crc32', lines);
    await waitFor('every count final', async () => [...(await answers(url))].every(([k, v]) => v === expected.get(k)), 60_000);
    const metrics = await running.at(-2)!.metrics.metrics();
    assert.doesNotMatch(metrics, /streams_partitioner_mismatch_total\{topic=/);
    assert.ok(!lines.some((l) => /partitioner would not choose/.test(l)));
  });

  it('declared murmur2 but written with CRC32: the mismatch is counted and warned about once, and look-ups still find every key', async () => {
    const lines: string[] = [];
    const url = await startPair(undefined, lines); // the default, murmur2: the wrong declaration here
    let last = new Map<string, number | string>();
    await waitFor(
      'every count final',
      async () => {
        last = await answers(url);
        return [...last].every(([k, v]) => v === expected.get(k));
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${[...last]
          .filter(([k, v]) => v !== expected.get(k))
          .slice(0, 5)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
      );
    });
    const metrics = await running.at(-2)!.metrics.metrics();
    assert.match(metrics, new RegExp(`streams_partitioner_mismatch_total\\{topic="${input}",application_id="[^"]+"\\} [1-9]`));
    const warnings = lines.filter((l) => /partitioner would not choose/.test(l));
    assert.equal(warnings.length, 1, 'one warning per topic');
    assert.match(warnings[0]!, /STREAMING_PROCESSOR__INPUT_PARTITIONER/);
    const stores = await get(url, '/stores');
    assert.equal(stores.body.stores[0].partitioner, 'unknown', 'the store no longer trusts the declared partitioner');
  });

  it('a key written by two partitioners into two partitions is a conflict (409), not one of the two values', async () => {
    const split = keys.find((k) => crc32Partition(Buffer.from(k), PARTITIONS) !== partitionForKey(Buffer.from(k), PARTITIONS))!;
    await produceWithLibrdkafkaDefault(config(), input, [[split, partitionForKey(Buffer.from(split), PARTITIONS)]]); // the same key, placed as murmur2 would
    const url = running.at(-2)!.queryUrl!;
    await waitFor('the conflict to be seen', async () => (await get(url, `/stores/counts/keys/${split}`)).status === 409, 30_000);
    const r = await get(url, `/stores/counts/keys/${split}`);
    assert.equal(r.body.error.code, 'SA_ERR_QUERY_AMBIGUOUS');
    assert.match(r.body.error.message, /more than one partition/);
  });

  it('one instance that sees misplaced records tells the others: a look-up through an instance that saw none still finds the key', async () => {
    const topic = uniqueName('pt-one');
    await createTopic(config(), topic, 2);
    const applicationId = uniqueName('pt-one-app');
    const pair: { streams: KafkaStreams; url: string }[] = [];
    for (const id of ['a', 'b']) {
      const dir = mkdtempSync(join(tmpdir(), 'pt-'));
      dirs.push(dir);
      const b = new StreamsBuilder();
      b.stream(topic, { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count({ name: 'counts' });
      const streams = new KafkaStreams(b.build(), {
        applicationId,
        instanceId: id,
        stateDir: dir,
        kafka: kafkaClientConfig(config().kafka),
        logger: createLogger({ level: 'fatal' }),
        handleSignals: false,
        queryServer: { port: await freePort() },
      });
      await streams.start();
      running.push(streams);
      pair.push({ streams, url: streams.queryUrl! });
    }
    const [a, b] = pair as [{ streams: KafkaStreams; url: string }, { streams: KafkaStreams; url: string }];
    let bPartition = -1;
    await waitFor(
      'each instance running one partition',
      async () => {
        const [ra, rb] = await Promise.all([get(a.url, '/stores/counts/entries?limit=1'), get(b.url, '/stores/counts/entries?limit=1')]);
        if (ra.status !== 200 || rb.status !== 200 || ra.body.partitions.length !== 1 || rb.body.partitions.length !== 1) return false;
        bPartition = rb.body.partitions[0];
        return true;
      },
      90_000,
    );
    // A key murmur2 places on a's partition, written (as another partitioner would) to b's: only b sees it misplaced.
    const key = keys.find((k) => partitionForKey(Buffer.from(k), 2) !== bPartition)!;
    await produceWithLibrdkafkaDefault(config(), topic, [[key, bPartition]]);
    await waitFor('b to count the misplaced record', async () => /streams_partitioner_mismatch_total\{topic=/.test(await b.streams.metrics.metrics()), 30_000);
    assert.doesNotMatch(await a.streams.metrics.metrics(), /streams_partitioner_mismatch_total\{topic=/, 'a itself saw nothing misplaced');
    // b's claim reaches a through the host directory: a's store no longer trusts murmur2 then.
    await waitFor('a to learn of the mismatch from b', async () => (await get(a.url, '/stores')).body.stores[0].partitioner === 'unknown', 30_000);
    const r = await get(a.url, `/stores/counts/keys/${key}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.value, 1);
    assert.equal(r.body.partition, bPartition);
  });
});
