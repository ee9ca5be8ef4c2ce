import { strict as assert } from 'node:assert';
import { Serdes, StreamsBuilder, type Processor, type ProcessorContext } from '../../../src';
import { Queryable, type InstanceView } from '../../../src/query/queryable';
import { graphOf } from '../../../src/streams/dsl/topology';
import type { Headers } from '../../../src/streams/processor-api/record';
import { resolveOptions } from '../../../src/streams/options';
import { StreamTask } from '../../../src/streams/internals/stream-task';
import { TaskGraph } from '../../../src/streams/internals/task-graph';
import { TaskStores } from '../../../src/streams/internals/task-stores';

/**
 * The task's parts take their collaborators by name. Each test leaves out an optional one
 * that used to sit between others (the stores, the late-record hook, the observer), so a
 * hook given after it must still reach its own place.
 */
const S = Serdes.String();

interface Sent {
  topic: string;
  key: string | undefined;
  partition: number | undefined;
}

function collector(into: Sent[]): {
  send(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers, partition?: number): void;
} {
  return { send: (topic, key, _value, _timestamp, _headers, partition) => void into.push({ topic, key: key?.toString(), partition }) };
}

/** A processor that schedules a wall-clock punctuator at init and dead-letters every record. */
function rejecting(fired: number[]): () => Processor<string | null, string | null, never, never> {
  return () => {
    let ctx: ProcessorContext<never, never>;
    return {
      init: (c) => {
        ctx = c;
        c.schedule(1_000, 'wall-clock', (now) => fired.push(now));
      },
      process: (r) => ctx.deadLetter({ key: Buffer.from(r.key ?? ''), value: null, timestamp: r.timestamp }, 'SA_ERR_EVENT_INVALID', 'not wanted'),
    };
  };
}

function rejectingTopology(fired: number[]) {
  const b = new StreamsBuilder();
  b.stream('in', { keySerde: S, valueSerde: S }).process(rejecting(fired));
  return graphOf(b.build()).resolve('construction');
}

const raw = { topic: 'in', partition: 0, offset: 7, key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 5, headers: [] };

describe('task parts built from named options', () => {
  it('TaskGraph: without stores or a late hook, the dead-letter hook and the clock still reach their own places', () => {
    const fired: number[] = [];
    const rejected: string[] = [];
    const graph = new TaskGraph({
      nodes: rejectingTopology(fired).subtopologies()[0]!,
      taskId: '0_0',
      applicationId: 'construction',
      collector: collector([]),
      onSinkError: (err) => assert.fail(err),
      clock: () => 10_000,
      deadLetter: (record, code, message) => rejected.push(`${record.key?.toString()} ${code} ${message}`),
    });
    graph.run(raw, graph.deserialize(raw));
    assert.deepEqual(rejected, ['k SA_ERR_EVENT_INVALID not wanted']);
    assert.equal(graph.wallClockDue(10_999), false, 'scheduled at the given clock (10 000), due at 11 000');
    assert.equal(graph.wallClockDue(11_000), true);
    graph.punctuateWallClock(11_000);
    assert.deepEqual(fired, [11_000]);
  });

  it('StreamTask: without an observer, the stores and the clock reach the task; the dead letter names the task', () => {
    const fired: number[] = [];
    const sent: Sent[] = [];
    const graph = rejectingTopology(fired);
    const out = collector(sent);
    const stores = new TaskStores({
      specs: [],
      context: { partition: 3, db: undefined, maxLoadedKeys: 0 },
      changelogTopic: (s) => `construction-${s}-changelog`,
      collector: out,
    });
    const task = new StreamTask({
      id: '0_3',
      nodes: graph.subtopologies()[0]!,
      config: resolveOptions({ applicationId: 'construction' }),
      collector: out,
      stores,
      clock: () => 20_000,
    });
    task.process(raw);
    assert.deepEqual(sent, [{ topic: 'construction-dlq', key: 'k', partition: undefined }]);
    assert.equal(task.wallClockDue(21_000), true, 'scheduled at the given clock');
    task.punctuateWallClock(21_000);
    assert.deepEqual(fired, [21_000]);
  });

  it("TaskStores: a logged store writes its changelog to the named topic, at the context's partition", () => {
    const sent: Sent[] = [];
    const b = new StreamsBuilder();
    b.stream('in', { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count({ name: 'counts', cacheMaxEntries: 0 });
    const graph = graphOf(b.build()).resolve('construction');
    const stores = new TaskStores({
      specs: graph.storesOf(graph.subtopologies()[0]!),
      context: { partition: 2, db: undefined, maxLoadedKeys: 0 },
      changelogTopic: (s) => graph.changelogTopic(s),
      collector: collector(sent),
    });
    stores.typed<string, number>('counts')!.put('k', 1);
    stores.flush();
    assert.deepEqual(sent, [{ topic: 'construction-counts-changelog', key: 'k', partition: 2 }]);
  });

  it('Queryable: without a declared partitioner, murmur2; partitionsOf, given after it, is the one asked', async () => {
    const b = new StreamsBuilder();
    b.stream('in', { keySerde: S, valueSerde: S }).groupByKey({ keySerde: S }).count({ name: 'counts' });
    const graph = graphOf(b.build()).resolve('construction');
    const admin = { clusterInfo: () => Promise.reject(new Error('not asked: partitionsOf answers')), createTopics: () => Promise.resolve([]) };
    const instance = { partitionerMismatch: () => false } as unknown as InstanceView;
    const q = new Queryable({ graph, admin, instance, partitionsOf: async (topic) => (topic === 'in' ? 4 : undefined) });
    const counts = q.stores.get('counts')!;
    assert.equal(q.partitionerOf(counts), 'murmur2');
    assert.equal(await q.partitions(counts), 4);
    assert.equal(q.instance, instance);
  });
});
