/**
 * What KafkaStreams drives: one StreamThread in this process, or, with numStreamThreads
 * above 1, a ThreadHost whose threads are processes of their own (threads/). Both answer
 * the same questions, so the instance's health, metrics and query API do not care which.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import type { TopologyGraph } from '../streams/internals/graph';
import type { TaskStores } from '../streams/internals/task-stores';
import { StreamThread, type ThreadListener } from './stream-thread';
import type { ResolvedStreamsConfig } from './streams-config';
import { ThreadHost } from './threads/host';
import { threadEntry } from './threads/entry';

export interface Processing {
  start(): Promise<void>;
  close(): Promise<void>;
  forceClose(): Promise<void>;
  metrics(): Registry;
  /** New tasks restore their stores (queries answer 503 meanwhile). */
  restoring(): boolean;
  /** What the schema registry is awaited for, while it does not answer. */
  waitingFor(): string | undefined;
  localTasks(): string[];
  /** A task's stores in this process (none when the threads are processes of their own). */
  localStores(taskId: string): TaskStores | undefined;
  mismatchedTopics(): string[];
  /** The stream thread of this instance that runs a task in another process: its loopback query listener. */
  siblingOwner(taskId: string): { instanceId: string; url: string } | undefined;
  /** Each stream thread's active tasks. */
  threads(): ThreadMetadata[];
  /** Whether every stream thread still answers (/healthz); one in this process always does while this code runs. */
  alive(): { ok: true } | { ok: false; why: string };
}

/** One stream thread and the tasks it runs (Kafka Streams' ThreadMetadata, its names). */
export interface ThreadMetadata {
  threadName: string;
  activeTasks: string[];
}

export function processingFor(graph: TopologyGraph, config: ResolvedStreamsConfig, log: Logger, listener: ThreadListener): Processing {
  if (config.numStreamThreads > 1) {
    const host = new ThreadHost(config, config.numStreamThreads, threadEntry(config.streamThreadEntry), log, listener);
    return {
      start: () => host.start(),
      close: () => host.close(),
      forceClose: () => host.forceClose(),
      metrics: () => host.metrics,
      restoring: () => host.restoring,
      waitingFor: () => host.waitingFor,
      localTasks: () => host.localTasks(),
      localStores: () => undefined,
      mismatchedTopics: () => host.mismatchedTopics(),
      siblingOwner: (taskId) => host.ownerOf(taskId),
      threads: () => host.threads(),
      alive: () => host.alive(),
    };
  }
  const thread = new StreamThread(graph, config, log, listener);
  return {
    start: () => thread.start(),
    close: () => thread.close(),
    forceClose: () => thread.forceClose(),
    metrics: () => thread.metrics.registry,
    restoring: () => thread.restoring,
    waitingFor: () => thread.registry.waitingFor,
    localTasks: () => thread.localTasks(),
    localStores: (taskId) => thread.localStores(taskId),
    mismatchedTopics: () => thread.partitioners.topics(),
    siblingOwner: () => undefined,
    threads: () => [{ threadName: 'stream-thread-1', activeTasks: thread.localTasks() }],
    alive: () => ({ ok: true }),
  };
}
