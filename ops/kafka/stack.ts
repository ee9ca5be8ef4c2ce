/**
 * The local stack as one unit: the Kafka cluster, the schema registry and the seed's
 * topics. Whatever is configured to be external (STREAMING_KAFKA__BOOTSTRAP_SERVERS,
 * STREAMING_SCHEMA_REGISTRY__URL) is used as it is and never started or stopped here.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaClientConfig, localStackParts, type Config } from '../../src/config';
import { StreamingError } from '../../src/errors';
import { clusterInfo, createTopics } from './admin';
import { kafkaStatus, startKafka, stopKafka, type Say } from './kafka-service';
import { pruneTopics, seedTopics } from './prune';
import { registryDir, registryStatus, startRegistry, stopRegistry } from './registry';

type Env = Readonly<Record<string, string | undefined>>;

export interface StackStarted {
  /** Broker node ids this call started (empty when it reused a running cluster). */
  kafkaNodes: number[];
  registry: boolean;
}

/**
 * Starts what is not running. With `rollback`, a failure stops whatever this call had
 * started (tests use it; the CLI keeps a started broker so a re-run is quick).
 */
export async function stackUp(config: Config, env: Env, say: Say, opts: { rollback?: boolean } = {}): Promise<StackStarted> {
  const started: StackStarted = { kafkaNodes: [], registry: false };
  try {
    if (localStackParts(env).kafka) started.kafkaNodes = await startKafka(config, say);
    else say(`kafka: using the configured cluster at ${config.kafka.bootstrapServers.join(',')}`);
    if (localStackParts(env).registry) started.registry = await startRegistry(config, say);
    else say(`registry: using the configured registry at ${config.schemaRegistry.url}`);
    await ensureTopics(config, env, say);
    return started;
  } catch (err) {
    if (opts.rollback) await stopStarted(config, started, say);
    throw err;
  }
}

/**
 * `stack prune`: on the project's own local broker only, running from its pid files — never
 * on a configured cluster, nor on another program's broker that `up` would adopt.
 */
export async function stackPrune(config: Config, env: Env, say: Say): Promise<void> {
  if (!localStackParts(env).kafka)
    throw new StreamingError(
      'SA_ERR_USAGE',
      `prune deletes topics on the local stack only, and Kafka is configured at ${config.kafka.bootstrapServers.join(',')}`,
      {
        hint: 'unset STREAMING_KAFKA__BOOTSTRAP_SERVERS to prune the local broker; delete topics of another cluster with its own tools',
      },
    );
  if ((await kafkaStatus(config.stack)).some((n) => n.pid === undefined))
    throw new StreamingError(
      'SA_ERR_USAGE',
      'prune deletes topics on the broker this project started, and it does not run (a broker another program runs is never pruned)',
      {
        hint: '`npm run stack -- up` starts it; `npm run stack -- status` shows what runs',
      },
    );
  let failed: number;
  try {
    failed = (await pruneTopics(config, say)).failed.length;
  } catch (err) {
    throw new StreamingError('SA_ERR_STACK_TOPICS_FAILED', `could not list or delete topics: ${(err as Error).message}`, { cause: err, hint: PRUNE_HINT });
  }
  if (failed > 0) throw new StreamingError('SA_ERR_STACK_TOPICS_FAILED', `${failed} topic(s) could not be deleted (named above)`, { hint: PRUNE_HINT });
}

const PRUNE_HINT =
  'run `npm run stack -- prune` again once the broker answers (`npm run stack -- status` shows it); `npm run stack -- down --purge` deletes all local data instead';

/** Stops exactly what one stackUp call started. */
export async function stopStarted(config: Config, started: StackStarted, say: Say): Promise<void> {
  if (started.registry) await stopRegistry(config, say);
  if (started.kafkaNodes.length > 0) await stopKafka(config.stack, say, started.kafkaNodes);
}

async function ensureTopics(config: Config, env: Env, say: Say): Promise<void> {
  const specs = seedTopics(config).map((name) => ({ name, partitions: config.topics.partitions, replicationFactor: config.topics.replicationFactor }));
  try {
    const created = await createTopics(kafkaClientConfig(config.kafka), specs);
    say(created.length > 0 ? `topics: created ${created.join(', ')} (${config.topics.partitions} partitions)` : 'topics: all present');
  } catch (err) {
    throw new StreamingError('SA_ERR_STACK_TOPICS_FAILED', `could not create topics: ${(err as Error).message}`, {
      cause: err,
      hint: topicsHint(err, config, localStackParts(env).kafka),
    });
  }
}

/** librdkafka's error codes (the broker's) for the causes a user can fix. */
const INVALID_REPLICATION_FACTOR = 38;
const AUTHORIZATION_FAILED = [29, 31];

function topicsHint(err: unknown, config: Config, local: boolean): string {
  const { code, message } = err as { code?: number; message?: string };
  const rf = config.topics.replicationFactor;
  if (code === INVALID_REPLICATION_FACTOR || /replication factor/i.test(message ?? '')) {
    return `STREAMING_TOPICS__REPLICATION_FACTOR (${rf}) is more than the cluster has brokers: set it to at most their number (-1: the broker default)${local ? `, or run more local brokers: \`npm run stack -- down\`, then \`npm run stack -- up --nodes ${Math.min(rf, 5)}\`` : ''}`;
  }
  if (AUTHORIZATION_FAILED.includes(code ?? 0) || /authoriz/i.test(message ?? '')) {
    return 'this client may not create topics: grant its principal CREATE on the cluster (or on these topics), or create them beforehand';
  }
  return local
    ? 'the local cluster does not answer: `npm run stack -- status` shows what runs; `npm run stack -- down`, then `npm run stack -- up` restarts it'
    : `check that ${config.kafka.bootstrapServers.join(',')} is reachable with the STREAMING_KAFKA__* settings, and that this client may create topics`;
}

export async function stackDown(config: Config, say: Say, opts: { purge?: boolean } = {}): Promise<void> {
  const registry = await stopRegistry(config, say);
  const nodes = await stopKafka(config.stack, say);
  if (registry + nodes === 0) say('nothing started by this project is running');
  if (opts.purge) {
    // Data only: the fetched jars under lib/ stay for the next `up`.
    rmSync(join(config.stack.dir!, 'kafka'), { recursive: true, force: true });
    rmSync(registryDir(config.stack), { recursive: true, force: true });
    say(`purged broker and registry data under ${config.stack.dir} (the fetched jars are kept)`);
  }
}

export async function stackStatus(config: Config, env: Env, say: Say): Promise<void> {
  say(`stack folder: ${config.stack.dir}`);
  if (localStackParts(env).kafka) {
    for (const s of await kafkaStatus(config.stack)) {
      const state = s.pid ? `running, pid ${s.pid}` : s.listening ? 'port taken by a process not started by this project' : 'stopped';
      say(`kafka node ${s.node.id}: 127.0.0.1:${s.node.port} (controller :${s.node.controllerPort}) — ${state}; log ${s.node.logFile}`);
    }
  } else say(`kafka: external, ${config.kafka.bootstrapServers.join(',')}`);
  if (localStackParts(env).registry) {
    const r = await registryStatus(config);
    const state = r.pid ? `running, pid ${r.pid}` : r.listening ? 'port taken by a process not started by this project' : 'stopped';
    say(`registry: ${config.schemaRegistry.url} — ${state}; log ${r.logFile}`);
  } else say(`registry: external, ${config.schemaRegistry.url}`);
  await topicStatus(config, say);
}

async function topicStatus(config: Config, say: Say): Promise<void> {
  try {
    const info = await clusterInfo(kafkaClientConfig(config.kafka), 3000);
    const line = seedTopics(config).map((t) => {
      const topic = info.topics.get(t);
      return `${t} (${topic ? `${topic.partitions} partitions, ${topic.replicas} replica${topic.replicas === 1 ? '' : 's'}` : 'missing'})`;
    });
    say(`topics: ${line.join(', ')}`);
  } catch {
    say('topics: unknown (no broker answers)');
  }
}
