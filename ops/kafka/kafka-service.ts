/**
 * Starting, finding and stopping the local Kafka nodes. A node whose pid file points at
 * a live process is reused; a port held by a foreign Kafka broker means "use that one";
 * a port held by anything else is an error naming the port and the setting to change.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kafkaClientConfig, type Config } from '../../src/config';
import { StreamingError } from '../../src/errors';
import { clusterInfo } from './admin';
import { allPidFiles, brokerCommand, brokerNodes, fetchKafka, prepareNodes, type BrokerNode } from './broker';
import { portAccepts, portIsFree } from './ports';
import { removeFile, runningPid, startDetached, stopProcess, tail } from './process';

export type Say = (line: string) => void;

export interface NodeStatus {
  node: BrokerNode;
  pid: number | undefined;
  listening: boolean;
}

export function kafkaStatus(stack: Config['stack']): Promise<NodeStatus[]> {
  return Promise.all(
    brokerNodes(stack).map(async (node) => ({
      node,
      pid: runningPid(node.pidFile),
      listening: await portAccepts(node.port),
    })),
  );
}

/** Starts whatever nodes are not running; returns the ids of the nodes it started. */
export async function startKafka(config: Config, say: Say): Promise<number[]> {
  const stack = config.stack;
  const nodes = brokerNodes(stack);
  const toStart = nodes.filter((n) => runningPid(n.pidFile) === undefined);
  if (toStart.length < nodes.length) checkRunningPorts(nodes.filter((n) => !toStart.includes(n)));
  if (toStart.length === 0) {
    // Running is not ready: after a start that timed out, `up` again waits for it once more.
    await waitReady(config, nodes, libsDir(stack), say);
    say(`kafka: reusing the running ${nodes.length}-node cluster at ${config.kafka.bootstrapServers.join(',')}`);
    return [];
  }
  checkNoOtherClusterSize(stack, nodes);
  if (toStart.length === nodes.length && (await foreignKafka(config))) {
    say(`kafka: a broker not started by this project answers at ${config.kafka.bootstrapServers[0]}; using it`);
    return [];
  }
  for (const node of toStart) await checkPortsFree(node);
  const libs = fetchKafka(stack, say);
  prepareNodes(nodes, libs, stack);
  for (const node of toStart) {
    removeFile(node.pidFile);
    startDetached('java', brokerCommand(node, libs, stack.brokerHeapMb), node, node.dir);
  }
  say(`kafka: starting ${toStart.length} node(s) (${toStart.map((n) => `127.0.0.1:${n.port}`).join(', ')}), waiting until it accepts requests…`);
  await waitReady(config, nodes, libs, say);
  return toStart.map((n) => n.id);
}

/** A 1-node and a 3-node local cluster share ports: only one of them can run. */
function checkNoOtherClusterSize(stack: Config['stack'], nodes: BrokerNode[]): void {
  const mine = new Set(nodes.map((n) => n.pidFile));
  const others = allPidFiles(stack).filter((f) => !mine.has(f) && runningPid(f) !== undefined);
  if (others.length === 0) return;
  throw new StreamingError(
    'SA_ERR_STACK_PORT_IN_USE',
    `a local cluster of another size is running (${others.length} node(s), e.g. ${others[0]}) and holds the ports`,
    {
      hint: `run \`npm run stack -- down\` (it stops every local cluster size), then \`npm run stack -- up --nodes ${nodes.length}\``,
    },
  );
}

/**
 * A node started earlier with other port settings cannot be reused under these ones. Its
 * server.properties, written when it started, says which ports it took; a node that is
 * still starting has not opened them yet, and is waited for instead.
 */
function checkRunningPorts(running: BrokerNode[]): void {
  for (const node of running) {
    const listener = /^listeners=PLAINTEXT:\/\/[^:]+:(\d+),CONTROLLER:\/\/[^:]+:(\d+)$/m.exec(readOrEmpty(join(node.dir, 'server.properties')));
    if (!listener || (Number(listener[1]) === node.port && Number(listener[2]) === node.controllerPort)) continue;
    throw new StreamingError(
      'SA_ERR_STACK_PORT_IN_USE',
      `kafka node ${node.id} is running on ports ${listener[1]}/${listener[2]}, not ${node.port}/${node.controllerPort}: it was started with other port settings`,
      {
        hint: 'run `npm run stack -- down` (it finds the nodes by pid file, whatever their ports), then `npm run stack -- up` with the port settings you want',
      },
    );
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Where the broker jars of the configured version are (fetch.ts). */
function libsDir(stack: Config['stack']): string {
  return join(stack.dir!, 'lib', `kafka-${stack.kafkaVersion}`);
}

async function foreignKafka(config: Config): Promise<boolean> {
  if (!(await portAccepts(config.stack.kafkaPort))) return false;
  try {
    await clusterInfo(kafkaClientConfig(config.kafka), 3000);
    return true;
  } catch {
    return false;
  }
}

async function checkPortsFree(node: BrokerNode): Promise<void> {
  const ports: [number, string][] = [
    [node.port, 'STREAMING_STACK__KAFKA_PORT'],
    [node.controllerPort, 'STREAMING_STACK__CONTROLLER_PORT'],
  ];
  for (const [port, setting] of ports) {
    if (await portIsFree(port)) continue;
    throw new StreamingError('SA_ERR_STACK_PORT_IN_USE', `port ${port} (kafka node ${node.id}) is already in use by another program`, {
      hint: `stop that program, or set ${setting} to a free port (node n uses the port + n - 1)`,
    });
  }
}

/**
 * A broker loads every partition it holds before it answers: seconds for the seed's
 * topics, minutes for thousands left behind by earlier runs (`npm run stack -- prune`
 * deletes those). So the wait grows with the partitions on disk, and says how it goes.
 */
async function waitReady(config: Config, nodes: BrokerNode[], libs: string, say: Say): Promise<void> {
  const partitions = Math.max(...nodes.map(partitionDirs));
  const timeoutMs = startBudgetMs(partitions);
  const deadline = Date.now() + timeoutMs;
  const client = kafkaClientConfig(config.kafka);
  const started = Date.now();
  let nextNote = started + NOTE_EVERY_MS;
  while (Date.now() < deadline) {
    const dead = nodes.find((n) => runningPid(n.pidFile) === undefined);
    if (dead) throw startFailed(dead, 'exited during start-up', startHint(dead, libs, config.stack));
    try {
      const info = await clusterInfo(client, 2000);
      if (info.brokers.length >= nodes.length) {
        return;
      }
    } catch {
      // not ready yet
    }
    if (Date.now() >= nextNote) {
      nextNote += NOTE_EVERY_MS;
      say(
        `kafka: still starting after ${Math.round((Date.now() - started) / 1000)} s (it loads ${partitions} partition(s) from disk; waiting up to ${Math.round(timeoutMs / 1000)} s)`,
      );
    }
    await sleep(500);
  }
  const node = nodes[0]!;
  throw startFailed(
    node,
    `did not accept requests within ${Math.round((Date.now() - started) / 1000)} s`,
    `it is still running: \`npm run stack -- up\` again waits for it once more, \`npm run stack -- status\` shows it, \`npm run stack -- down\` stops it (its log: ${node.logFile}); ${partitions} partitions on disk: \`npm run stack -- prune\` deletes the topics earlier test and bench runs left behind`,
  );
}

const BASE_START_MS = 120_000;
/** Measured here: about 13,900 partitions took 141 s to load on 2 cores (10 ms each); three times that. */
const START_MS_PER_PARTITION = 30;
const MAX_START_MS = 30 * 60_000;
const NOTE_EVERY_MS = 30_000;

/** How long a start may take with this many partitions on disk. */
export function startBudgetMs(partitions: number): number {
  return Math.min(MAX_START_MS, BASE_START_MS + partitions * START_MS_PER_PARTITION);
}

/** Partition folders in a node's data folder (topic-N). */
export function partitionDirs(node: Pick<BrokerNode, 'dir'>): number {
  try {
    return readdirSync(join(node.dir, 'data')).filter((d) => /-\d+$/.test(d)).length;
  } catch {
    return 0;
  }
}

function startFailed(node: BrokerNode, what: string, hint: string): StreamingError {
  return new StreamingError('SA_ERR_STACK_START_FAILED', `kafka node ${node.id} ${what}. Last lines of ${node.logFile}:\n${tail(node.logFile)}`, { hint });
}

/** What to do about a node that died at start-up, from the causes its log names. */
function startHint(node: BrokerNode, libs: string, stack: Config['stack']): string {
  const log = tail(node.logFile, 200);
  if (/Could not find or load main class|ClassNotFoundException|NoClassDefFoundError/.test(log)) {
    return `the broker jars in ${libs} are incomplete: remove that folder (it is fetched again), then run \`npm run stack -- up\``;
  }
  if (/Invalid cluster\.id|INCONSISTENT_CLUSTER_ID|No readable meta\.properties/.test(log)) {
    return "the node's storage does not match the cluster id kept beside it: run `npm run stack -- down --purge` (it deletes the local broker and registry data; the jars stay), then `npm run stack -- up`";
  }
  if (/Address already in use/.test(log)) {
    return `another program took port ${node.port} or ${node.controllerPort} meanwhile: stop it, or set STREAMING_STACK__KAFKA_PORT / STREAMING_STACK__CONTROLLER_PORT to free ports (node n uses the port + n - 1)`;
  }
  if (/OutOfMemoryError|Could not reserve enough space/.test(log)) {
    return `the broker's heap (${stack.brokerHeapMb} MiB) does not fit: set STREAMING_STACK__BROKER_HEAP_MB, then run \`npm run stack -- up\``;
  }
  return 'fix the cause above, then run `npm run stack -- up` again';
}

/**
 * Stops local nodes found by pid file, all at once: with `only`, those node ids of the
 * configured cluster; without, every node of every cluster size this folder ran.
 */
export async function stopKafka(stack: Config['stack'], say: Say, only?: readonly number[]): Promise<number> {
  const pidFiles =
    only === undefined
      ? allPidFiles(stack)
      : brokerNodes(stack)
          .filter((n) => only.includes(n.id))
          .map((n) => n.pidFile);
  const running = pidFiles.map((pidFile) => ({ pidFile, pid: runningPid(pidFile) })).filter((r) => r.pid !== undefined);
  if (running.length === 0) return 0;
  say(`kafka: stopping ${running.length} node(s)…`);
  // All at once: a node stopped alone would wait for a controller quorum that is leaving too.
  const results = await Promise.all(
    running.map(async ({ pidFile, pid }) => {
      const how = await stopProcess(pid!, 30_000);
      removeFile(pidFile);
      return how;
    }),
  );
  if (results.includes('killed')) say('kafka: a node did not stop within 30 s and was killed');
  return running.length;
}
