/**
 * Stream threads run as processes. node-rdkafka's addon cannot be loaded by a second
 * V8 isolate ("Module did not self-register"), so Node's worker_threads cannot each hold
 * a Kafka client; a forked process can. As with Node's cluster module, the main process
 * runs the same program again in each stream thread's process, marked by one environment
 * variable; there, `new KafkaStreams(…)` becomes that thread: its own consumer, producer
 * and transactions, a share of the instance's RocksDB budget, and a state directory of
 * its own under the instance's.
 */
import { join } from 'node:path';
import { StreamingError } from '../../errors';
import type { ResolvedStreamsConfig } from '../streams-config';

// Not STREAMING_*: the app's configuration refuses variables of its own prefix it does not know.
export const THREAD_ENV = 'SA_STREAM_THREAD';
const INSTANCE_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** What the main process tells a stream thread's process about itself. */
export interface ThreadRole {
  applicationId: string;
  /** 1-based, as Kafka Streams numbers its StreamThreads. */
  index: number;
  count: number;
  /** The instance's id and state directory; the thread's are derived from them. */
  instanceId: string;
  stateDir: string;
}

const isRole = (v: unknown): v is ThreadRole => {
  const r = v as Partial<ThreadRole> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.applicationId === 'string' &&
    typeof r.instanceId === 'string' &&
    INSTANCE_ID.test(r.instanceId) &&
    typeof r.stateDir === 'string' &&
    r.stateDir.length > 0 &&
    r.stateDir.length <= 4_096 &&
    Number.isInteger(r.index) &&
    Number.isInteger(r.count) &&
    r.index! >= 1 &&
    r.index! <= r.count! &&
    r.count! <= 16
  );
};

/** This process's role, when the main process of an instance started it as one of its stream threads. */
export function threadRole(env: NodeJS.ProcessEnv = process.env): ThreadRole | undefined {
  const raw = env[THREAD_ENV];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.slice(0, 10_000));
  } catch {
    parsed = undefined;
  }
  if (!isRole(parsed) || typeof process.send !== 'function')
    throw new StreamingError('SA_ERR_STREAMS_CONFIG', `${THREAD_ENV} is set, but this process was not started as a stream thread of an instance`, {
      hint: `${THREAD_ENV} is set by KafkaStreams for the processes of its stream threads; unset it`,
    });
  // The main process is gone already (it died while this one loaded): no instance to be a thread of.
  if (!process.connected) throw new StreamingError('SA_ERR_STREAMS_STATE', "this stream thread's main process is gone", { hint: 'start the instance again' });
  return parsed;
}

/**
 * A thread's id (its transactional.id, group.instance.id and client.id derive from it): the
 * instance's, with Kafka Streams' kind of suffix, so it does not read like another
 * instance's id ("a-1").
 */
export function threadInstanceId(instanceId: string, index: number): string {
  return `${instanceId}-thread-${index}`;
}

export function roleEnv(role: ThreadRole): Record<string, string> {
  return { [THREAD_ENV]: JSON.stringify(role) };
}

/** The thread's own configuration: its id and directory under the instance's, its share of the RocksDB budget, no listeners. */
export function threadConfig(config: ResolvedStreamsConfig, role: ThreadRole): ResolvedStreamsConfig {
  if (config.applicationId !== role.applicationId)
    throw new StreamingError(
      'SA_ERR_STREAMS_CONFIG',
      `this stream thread's process belongs to application "${role.applicationId}", but the program built an instance of "${config.applicationId}"`,
      {
        hint: 'a program with several stream threads must build the same KafkaStreams every time it runs: derive its options from configuration, not from chance',
      },
    );
  return {
    ...config,
    instanceId: threadInstanceId(role.instanceId, role.index),
    stateDir: join(role.stateDir, `thread-${role.index}`),
    rocksDbCacheBytes: Math.max(1 << 20, Math.floor(config.rocksDbCacheBytes / role.count)),
    rocksDbWriteBufferBytes: Math.max(1 << 20, Math.floor(config.rocksDbWriteBufferBytes / role.count)),
    handleSignals: false,
  };
}
