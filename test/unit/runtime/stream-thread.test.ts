/**
 * The runtime without a broker: KafkaStreams on the in-memory Kafka (test/support/fake-kafka),
 * held to librdkafka's behaviour in what the client contract checks (test/support/kafka-contract.ts);
 * the fake's group timing (a member noticing it was dropped) and its faults on demand are
 * its own. Each case drives one of the runtime's recovery paths and checks exactly-once on
 * the committed output.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKafka, FakeKafkaError } from '../../support/fake-kafka';
import { assertExactlyOnce, committedCounts, countApp, feed, INPUT, OUTPUT, until, untilCounted, type CountApp } from '../../support/fake-app';

describe('the runtime on the in-memory Kafka (broker-free)', function () {
  this.timeout(60_000);
  let kafka: FakeKafka;
  let dir: string;
  const apps: CountApp[] = [];
  const app = (instanceId: string, extra: Parameters<typeof countApp>[1] extends infer O ? Partial<O> : never = {}): CountApp => {
    const a = countApp(kafka, { instanceId, stateDir: join(dir, instanceId), ...extra });
    apps.push(a);
    return a;
  };
  const outputs = (): number => [...committedCounts(kafka).values()].reduce((n, c) => n + c.length, 0);

  beforeEach(() => {
    kafka = new FakeKafka();
    kafka.broker.createTopic(INPUT, 2);
    kafka.broker.createTopic(OUTPUT, 2);
    dir = mkdtempSync(join(tmpdir(), 'sa-fake-'));
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.streams.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a revocation mid-transaction hands a partition over with nothing lost or counted twice', async () => {
    // Long commit intervals: a has processed records in an open transaction when b joins.
    const slow = { commitIntervalMs: 60_000, commitMaxRecords: 1_000_000, transactionTimeoutMs: 120_000 };
    const a = app('a', slow);
    await a.streams.start();
    feed(kafka, 20, 10);
    const outputWhere = (state: string): boolean =>
      (kafka.broker.topics.get(OUTPUT) ?? []).some((log) => log.some((e) => !e.control && e.txn?.state === state));
    await until('a processing inside an open transaction', () => outputWhere('open'));
    const b = app('b', slow);
    await b.streams.start(); // joins: a cooperative rebalance revokes one partition from a, whose transaction is open
    await until('the revocation', () => a.logs.some((l) => l.msg === 'partitions revoked'));
    assert.ok(outputWhere('aborted'), "a's open transaction was aborted, not committed, when the partition moved");
    feed(kafka, 20, 10);
    const live = (): number =>
      (kafka.broker.topics.get(OUTPUT) ?? []).reduce((n, log) => n + log.filter((e) => !e.control && e.txn?.state !== 'aborted').length, 0);
    await until('every record processed (in open transactions)', () => live() >= 400);
    await Promise.all(apps.splice(0).map((x) => x.streams.close())); // the final commits
    assertExactlyOnce(kafka, 20, 20);
    assert.ok(
      b.logs.some((l) => l.msg === 'partitions assigned'),
      'b took a partition',
    );
  });

  it('a fenced producer is rebuilt and the tasks go on from their committed offsets, exactly once', async () => {
    const a = app('a');
    await a.streams.start();
    feed(kafka, 10, 10);
    await until('some output', () => outputs() >= 10);
    const intruder = await kafka.producer({ 'transactional.id': 'fake-app-a' });
    await intruder.initTransactions(); // a second producer with a's transactional.id fences a's
    feed(kafka, 10, 10);
    await untilCounted(kafka, 10, 20);
    assertExactlyOnce(kafka, 10, 20);
    assert.ok(
      a.logs.some((l) => l.msg.startsWith('transaction failed') && l.code === 'SA_ERR_TXN_FATAL'),
      'the fencing was a fatal transaction error',
    );
    assert.equal(a.streams.state, 'RUNNING');
  });

  it('an abortable commit error aborts, rewinds and reprocesses: exactly once', async () => {
    const a = app('a');
    await a.streams.start();
    feed(kafka, 10, 5);
    await until('some output', () => outputs() >= 10);
    kafka.broker.failNext('commitTransaction', new FakeKafkaError('Broker: Transaction aborted (injected)', 48, { isTxnRequiresAbort: true }));
    feed(kafka, 10, 5);
    await untilCounted(kafka, 10, 10);
    assertExactlyOnce(kafka, 10, 10);
    assert.ok(a.logs.some((l) => l.msg.startsWith('transaction failed') && l.code === 'SA_ERR_TXN_ABORTABLE'));
  });

  it("a lost assignment: the dropped member's offsets are refused, it rejoins, and nothing is counted twice", async () => {
    const a = app('a');
    const b = app('b');
    await a.streams.start();
    await b.streams.start();
    feed(kafka, 20, 5);
    await until('both instances running', () => a.streams.state === 'RUNNING' && b.streams.state === 'RUNNING' && outputs() >= 20);
    const member = kafka.consumers.find((c) => c.groupId === 'fake-app')!; // a's (a started first)
    kafka.broker.expire('fake-app', member.memberId); // the group moves a's partitions away without telling it
    feed(kafka, 20, 5);
    await untilCounted(kafka, 20, 10);
    await until('a noticed, rejoined and took partitions again', () => a.logs.filter((l) => l.msg === 'partitions assigned').length >= 2);
    feed(kafka, 20, 5);
    await untilCounted(kafka, 20, 15);
    assertExactlyOnce(kafka, 20, 15);
    const refused = a.logs.find((l) => l.code === 'SA_ERR_TXN_ABORTABLE');
    assert.match(JSON.stringify(refused?.err), /generation id is not valid/, "the dropped member's offsets were refused, and its transaction aborted");
  });

  it('restores a persistent store from its checkpoint: nothing is read again after a clean close', async () => {
    const first = app('a', { backend: 'rocksdb' });
    await first.streams.start();
    feed(kafka, 10, 5);
    await untilCounted(kafka, 10, 5);
    await first.streams.close();
    assert.ok(existsSync(join(dir, 'a', 'checkpoints', '0_0.json')), 'the clean close wrote a checkpoint');

    const again = app('a', { backend: 'rocksdb' });
    await again.streams.start();
    feed(kafka, 10, 5);
    await untilCounted(kafka, 10, 10);
    assertExactlyOnce(kafka, 10, 10);
    assert.ok(!again.logs.some((l) => l.msg === 'restoring state stores from their changelogs'), 'from the checkpoint: nothing to restore');

    await again.streams.close();
    for (const task of ['0_0', '0_1']) unlinkSync(join(dir, 'a', 'checkpoints', `${task}.json`));
    const fromScratch = app('a', { backend: 'rocksdb' });
    await fromScratch.streams.start();
    feed(kafka, 10, 1);
    await untilCounted(kafka, 10, 11);
    assertExactlyOnce(kafka, 10, 11);
    const restored = fromScratch.logs.find((l) => l.msg === 'state stores restored');
    assert.ok(restored && (restored.records as number) > 0, 'without a checkpoint the changelog is read');
  });

  it('a close during restoration ends it at once, processes nothing, and moves no checkpoint', async () => {
    const first = app('a', { backend: 'rocksdb' });
    await first.streams.start();
    feed(kafka, 10, 5);
    await untilCounted(kafka, 10, 5);
    await first.streams.close();
    for (const task of ['0_0', '0_1']) unlinkSync(join(dir, 'a', 'checkpoints', `${task}.json`));

    kafka.broker.held.add('fake-app-counts-changelog'); // the changelog's records do not come: restoration cannot finish
    feed(kafka, 10, 1);
    const stuck = app('a', { backend: 'rocksdb', closeTimeoutMs: 30_000 });
    await stuck.streams.start();
    await until('restoration under way', () => stuck.logs.some((l) => l.msg === 'restoring state stores from their changelogs'));
    await stuck.streams.close();
    assert.equal(stuck.streams.state, 'NOT_RUNNING');
    assert.ok(!stuck.logs.some((l) => l.msg === 'close timed out; dropping the Kafka clients (the open transaction is aborted by the broker)'));
    assert.equal(outputs(), 50, 'nothing was processed against a partial store');
    for (const task of ['0_0', '0_1']) assert.ok(!existsSync(join(dir, 'a', 'checkpoints', `${task}.json`)), `no checkpoint for ${task}: its store is partial`);

    kafka.broker.held.clear();
    const later = app('a', { backend: 'rocksdb' });
    await later.streams.start();
    await untilCounted(kafka, 10, 6);
    assertExactlyOnce(kafka, 10, 6);
  });
});
