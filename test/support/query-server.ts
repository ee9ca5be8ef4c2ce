/** A query API over one instance's in-memory stores, no broker: for tests that drive it with inject(). */
import type { FastifyInstance } from 'fastify';
import { Serdes, StreamsBuilder, TimeWindows } from '../../src';
import { createLogger } from '../../src/logger';
import type { QueryAuth } from '../../src/query/auth';
import { Queryable, type InstanceView } from '../../src/query/queryable';
import { buildQueryServer } from '../../src/query/server';
import { graphOf } from '../../src/streams/dsl/topology';
import { TaskStores } from '../../src/streams/internals/task-stores';

/**
 * One instance running partition 0 of two in memory, with a few values; partition 1 runs
 * here too, empty, with `both`, and has no known owner without.
 */
export function memoryQueryServer(declared: 'murmur2' | 'unknown', auth: QueryAuth, both = false): FastifyInstance {
  const b = new StreamsBuilder();
  const grouped = b.stream('in', { keySerde: Serdes.String(), valueSerde: Serdes.String() }).groupByKey({ keySerde: Serdes.String() });
  grouped.count({ name: 'counts' });
  grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(60_000)).count({ name: 'per-minute' });
  const graph = graphOf(b.build()).resolve('fuzz');
  const nodes = graph.subtopologies()[0]!;
  const storesOf = (partition: number): TaskStores =>
    new TaskStores({
      specs: graph.storesOf(nodes),
      context: { partition, db: undefined, maxLoadedKeys: 0 },
      changelogTopic: (s) => graph.changelogTopic(s),
      collector: { send: () => undefined },
    });
  const stores = storesOf(0);
  const empty = storesOf(1);
  for (const k of ['k1', 'k2', 'ünïcode', '']) stores.typed<string, number>('counts')!.put(k, 3);
  stores.window<string, number>('per-minute')!.put('k1', 60_000, 2);
  stores.flush();
  stores.commitInMemory();
  const instance: InstanceView = {
    instanceId: 'fuzz',
    url: 'http://127.0.0.1:1',
    ready: () => ({ ok: true }),
    localStores: (task) => (task === '0_0' ? stores : task === '0_1' && both ? empty : undefined),
    localTasks: () => (both ? ['0_0', '0_1'] : ['0_0']),
    owner: () => undefined,
    partitionerMismatch: () => false,
  };
  const admin = { clusterInfo: () => Promise.reject(new Error('no cluster in this test')), createTopics: () => Promise.resolve([]) };
  const q = new Queryable({ graph, admin, instance, declared, partitionsOf: async () => 2 });
  return buildQueryServer(q, { port: 0, auth }, createLogger({ level: 'silent' }));
}
