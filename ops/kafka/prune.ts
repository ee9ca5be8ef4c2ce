/**
 * Topics left behind. Tests and benchmarks create topics with fresh names on every run;
 * on the local broker they used to stay, and a broker with thousands of partitions takes
 * minutes to start (it loads each one). So a test run and a benchmark delete the topics
 * they created, and `npm run stack -- prune` deletes whatever earlier runs left.
 */
import { kafkaClientConfig, type Config } from '../../src/config';
import { clusterInfo, deleteTopics } from './admin';
import type { Say } from './kafka-service';

export function seedTopics(config: Config): string[] {
  const t = config.topics;
  return [t.events, t.predictions, t.alerts, t.metrics];
}

/** The seed's topics, the processor's own (its application id's prefix) and internal ones (`_…`) are never deleted here. */
export function keptTopic(config: Config, name: string): boolean {
  return name.startsWith('_') || seedTopics(config).includes(name) || name.startsWith(`${config.processor.applicationId}-`);
}

export async function topicNames(config: Config, timeoutMs = 10_000): Promise<Set<string>> {
  return new Set((await clusterInfo(kafkaClientConfig(config.kafka), timeoutMs)).topics.keys());
}

/** Deletes every topic of the local stack but the kept ones. */
export async function pruneTopics(config: Config, say: Say): Promise<void> {
  const names = [...(await topicNames(config))].filter((n) => !keptTopic(config, n));
  if (names.length === 0) return say('prune: no topic to delete');
  say(`prune: deleting ${names.length} topic(s); keeping ${seedTopics(config).join(', ')}, ${config.processor.applicationId}-* and internal ones`);
  const deleted = await deleteTopics(kafkaClientConfig(config.kafka), names, 30_000);
  say(`prune: deleted ${deleted.length} topic(s); the broker removes their files within a minute`);
}

/**
 * Deletes the topics that exist now but not in `before` (those a test run or benchmark
 * made), except kept ones; `mine` narrows them to the caller's names.
 */
export async function deleteNewTopics(
  config: Config,
  before: ReadonlySet<string>,
  say: Say,
  who: string,
  mine: (name: string) => boolean = () => true,
): Promise<void> {
  const created = [...(await topicNames(config))].filter((n) => !before.has(n) && !keptTopic(config, n) && mine(n));
  if (created.length === 0) return;
  const deleted = await deleteTopics(kafkaClientConfig(config.kafka), created, 30_000);
  say(`${who}: deleted the ${deleted.length} topic(s) it created`);
}
