/**
 * A local Apache Kafka cluster in KRaft mode: N combined broker+controller nodes on
 * 127.0.0.1, run from the jars Maven fetched. Internal topics use the replication a
 * cluster of N can give (so transactions work on one node), and each node's storage
 * is formatted once with a cluster id kept beside it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Config } from '../../src/config';
import { StreamingError } from '../../src/errors';
import { ensureJars } from './fetch';
import { requireTool } from './toolchain';

export interface BrokerNode {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  pidFile: string;
  logFile: string;
}

export function clusterDir(stack: Config['stack']): string {
  return join(stack.dir!, 'kafka', `${stack.nodes}-node`);
}

export function brokerNodes(stack: Config['stack']): BrokerNode[] {
  return Array.from({ length: stack.nodes }, (_, i) => {
    const dir = join(clusterDir(stack), `node-${i + 1}`);
    return {
      id: i + 1,
      port: stack.kafkaPort + i,
      controllerPort: stack.controllerPort + i,
      dir,
      pidFile: join(dir, 'broker.pid'),
      logFile: join(dir, 'server.log'),
    };
  });
}

/** Pid files of every local cluster size ever started in this stack folder (1-node, 3-node, …). */
export function allPidFiles(stack: Config['stack']): string[] {
  const root = join(stack.dir!, 'kafka');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => /^\d+-node$/.test(d))
    .flatMap((d) =>
      readdirSync(join(root, d))
        .filter((n) => /^node-\d+$/.test(n))
        .map((n) => join(root, d, n, 'broker.pid')),
    );
}

export function fetchKafka(stack: Config['stack'], say: (line: string) => void): string {
  return ensureJars(
    stack.dir!,
    {
      name: `kafka-${stack.kafkaVersion}`,
      label: `Apache Kafka ${stack.kafkaVersion}`,
      versionSetting: 'STREAMING_STACK__KAFKA_VERSION',
      mavenArgs: (out) => ['dependency:copy-dependencies', `-DoutputDirectory=${out}`, `-Dkafka.version=${stack.kafkaVersion}`],
    },
    say,
  );
}

function serverProperties(node: BrokerNode, all: BrokerNode[]): string {
  const n = all.length;
  const rf = Math.min(3, n);
  const isr = Math.min(2, n);
  const voters = all.map((b) => `${b.id}@127.0.0.1:${b.controllerPort}`).join(',');
  return [
    '# Written by ops/kafka/broker.ts; rewritten on every start.',
    'process.roles=broker,controller',
    `node.id=${node.id}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(node.dir, 'data')}`,
    // Topics are created on purpose (by the stack or by the engine), never by a typo.
    'auto.create.topics.enable=false',
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${isr}`,
    `offsets.topic.replication.factor=${rf}`,
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${isr}`,
    `share.coordinator.state.topic.replication.factor=${rf}`,
    `share.coordinator.state.topic.min.isr=${isr}`,
    // Fewer internal partitions than production: faster first start on a 2-core machine.
    'offsets.topic.num.partitions=10',
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n');
}

const LOG4J = [
  'rootLogger.level = INFO',
  'rootLogger.appenderRef.out.ref = out',
  'appender.out.type = Console',
  'appender.out.name = out',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = [%d] %p %m (%c)%n',
  'logger.kafka.name = kafka',
  'logger.kafka.level = INFO',
  'logger.state.name = state.change.logger',
  'logger.state.level = WARN',
  '',
].join('\n');

/** The way out of a cluster id and node storage that do not match: start the local cluster afresh. */
const PURGE_HINT =
  'run `npm run stack -- down --purge` (it stops the local stack and deletes its broker and registry data, including the cluster id; the fetched jars stay), then `npm run stack -- up`';

/** Writes each node's configuration and formats its storage on first use. */
export function prepareNodes(nodes: BrokerNode[], libs: string, stack: Config['stack']): void {
  requireTool('java');
  const clusterId = clusterIdOf(stack, nodes);
  for (const node of nodes) {
    mkdirSync(join(node.dir, 'data'), { recursive: true });
    writeFileSync(join(node.dir, 'server.properties'), serverProperties(node, nodes));
    writeFileSync(join(node.dir, 'log4j2.properties'), LOG4J);
    if (!existsSync(join(node.dir, 'data', 'meta.properties'))) formatStorage(node, libs, clusterId);
  }
}

/**
 * A cluster id as Kafka's `Uuid.randomUuid()` makes one: a version-4 UUID in base64url
 * without padding, never one that starts with "-" (kafka-storage would read it as an
 * option) and never the all-zero or metadata-topic ids.
 */
export function newClusterId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const b = random(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const id = b.toString('base64url');
    if (isClusterId(id)) return id;
  }
}

/** 22 base64url characters (16 bytes), not starting with "-", not the reserved all-zero (AAAA…) or metadata-topic (AAAA…AQ) ids. */
export function isClusterId(id: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_-]{20}[AQgw]$/.test(id) && !/^A{21}[AQ]$/.test(id);
}

/**
 * The id kept beside the nodes. One that kafka-storage cannot take (written by an older
 * version of this script, or damaged) is replaced while no node is formatted with it yet;
 * one that is missing or damaged while nodes are formatted is taken back from their
 * meta.properties when they agree on a valid one.
 */
export function clusterIdOf(stack: Config['stack'], nodes: readonly BrokerNode[], random: (n: number) => Buffer = randomBytes): string {
  const idFile = join(clusterDir(stack), 'cluster.id');
  mkdirSync(clusterDir(stack), { recursive: true });
  const kept = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : '';
  if (isClusterId(kept)) return kept;
  const formatted = nodes.filter((n) => existsSync(join(n.dir, 'data', 'meta.properties')));
  if (formatted.length > 0) {
    const ids = new Set(formatted.map((n) => /^cluster\.id=(.*)$/m.exec(readFileSync(join(n.dir, 'data', 'meta.properties'), 'utf8'))?.[1]?.trim()));
    const [only] = ids;
    if (ids.size === 1 && only !== undefined && isClusterId(only)) {
      writeFileSync(idFile, only);
      return only;
    }
    throw new StreamingError(
      'SA_ERR_STACK_START_FAILED',
      `the cluster id in ${idFile} is not valid, but node(s) ${formatted.map((n) => n.id).join(', ')} were formatted with another one`,
      {
        hint: PURGE_HINT,
      },
    );
  }
  const id = newClusterId(random);
  writeFileSync(idFile, id);
  return id;
}

function formatStorage(node: BrokerNode, libs: string, clusterId: string): void {
  // --cluster-id=<id> in one argument: an id can never be taken for an option.
  const args = [
    ...jvmLogArgs(node),
    '-cp',
    `${libs}/*`,
    'kafka.tools.StorageTool',
    'format',
    `--cluster-id=${clusterId}`,
    '--config',
    join(node.dir, 'server.properties'),
  ];
  const res = spawnSync('java', args, { encoding: 'utf8' });
  if (res.status !== 0) {
    const output = `${res.stdout}${res.stderr}`.trim();
    const jarsBroken = /Could not find or load main class|ClassNotFoundException|NoClassDefFoundError/.test(output);
    throw new StreamingError('SA_ERR_STACK_START_FAILED', `formatting the storage of broker ${node.id} failed:\n${output.split('\n').slice(-15).join('\n')}`, {
      hint: jarsBroken ? `the broker jars in ${libs} are incomplete: remove that folder (it is fetched again), then run \`npm run stack -- up\`` : PURGE_HINT,
    });
  }
}

function jvmLogArgs(node: BrokerNode): string[] {
  return [`-Dlog4j2.configurationFile=${join(node.dir, 'log4j2.properties')}`, `-Dkafka.logs.dir=${node.dir}`];
}

export function brokerCommand(node: BrokerNode, libs: string, heapMb: number): string[] {
  return [
    `-Xms${heapMb}m`,
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    ...jvmLogArgs(node),
    '-cp',
    `${libs}/*`,
    'kafka.Kafka',
    join(node.dir, 'server.properties'),
  ];
}
