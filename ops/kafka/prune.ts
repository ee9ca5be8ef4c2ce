/**
 * Topics left behind. Tests and benchmarks create topics with fresh names on every run;
 * on the local broker they used to stay, and a broker with thousands of partitions takes
 * minutes to start (it loads each one). So a test run and a benchmark delete the topics
 * that appeared while they ran, and `npm run stack -- prune` deletes whatever earlier runs
 * left.
 */
import { kafkaClientConfig, type Config } from '../../src/config';
import type { TopicDeletion } from '../../src/kafka';
import { clusterInfo, deleteTopics } from './admin';
import type { Say } from './kafka-service';

export function seedTopics(config: Config): string[] {
  const t = config.topics;
  return [t.events, t.predictions, t.alerts, t.metrics];
}

/**
 * Never deleted here: internal topics (`_…`), the seed's, the shadow model's, and the
 * processor's own (its application id's prefix: changelogs, repartition topics, the dead
 * letters and the query directory).
 */
export function keptTopic(config: Config, name: string): boolean {
  return (
    name.startsWith('_') || seedTopics(config).includes(name) || name === config.realtimeMl.shadowTopic || name.startsWith(`${config.processor.applicationId}-`)
  );
}

export async function topicNames(config: Config, timeoutMs = 10_000): Promise<Set<string>> {
  return new Set((await clusterInfo(kafkaClientConfig(config.kafka), timeoutMs)).topics.keys());
}

/** Deletes every topic of the local stack but the kept ones (`only` narrows them further). */
export async function pruneTopics(config: Config, say: Say, only: (name: string) => boolean = () => true): Promise<TopicDeletion> {
  const names = [...(await topicNames(config))].filter((n) => !keptTopic(config, n) && only(n));
  if (names.length === 0) {
    say('prune: no topic to delete');
    return { deleted: [], failed: [] };
  }
  say(`prune: deleting ${names.length} topic(s); keeping ${seedTopics(config).join(', ')}, ${config.processor.applicationId}-* and internal ones`);
  const result = await deleteTopics(kafkaClientConfig(config.kafka), names, PRUNE_BUDGET_MS);
  say(`prune: deleted ${result.deleted.length} topic(s); the broker removes their files within a minute${failures(result)}`);
  return result;
}

/**
 * Deletes the topics that exist now but not in `before` (those that appeared while a test
 * run or benchmark ran), except kept ones and those `mine` leaves out. Within a budget:
 * what is left is for `prune`.
 */
export async function deleteNewTopics(config: Config, before: ReadonlySet<string>, say: Say, who: string, mine: (name: string) => boolean): Promise<void> {
  const created = [...(await topicNames(config))].filter((n) => !before.has(n) && !keptTopic(config, n) && mine(n));
  if (created.length === 0) return;
  const result = await deleteTopics(kafkaClientConfig(config.kafka), created, CLEAN_UP_BUDGET_MS);
  say(`${who}: deleted the ${result.deleted.length} topic(s) it created${failures(result)}`);
}

const PRUNE_BUDGET_MS = 30 * 60_000;
const CLEAN_UP_BUDGET_MS = 120_000;

function failures(result: TopicDeletion): string {
  if (result.failed.length === 0) return '';
  const first = result.failed[0]!;
  return `; ${result.failed.length} not (${first.topic}: ${first.reason}); \`npm run stack -- prune\` tries again`;
}
