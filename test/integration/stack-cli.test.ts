import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { isClusterId } from '../../ops/kafka/broker';
import { deleteNewTopics, pruneTopics, seedTopics, topicNames } from '../../ops/kafka/prune';
import { kafkaClientConfig, loadConfig } from '../../src/config';
import { createTopics, deleteTopics } from '../../src/kafka';
import { cleanEnv, runTs, STACK_TRACE } from '../support/cli';
import { useStack } from '../support/stack';

const CLI = 'ops/kafka/cli.ts';

function listen(): Promise<Server & { port: number }> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.destroy());
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(Object.assign(server, { port: typeof address === 'object' && address ? address.port : 0 }));
    });
  });
}

async function freePort(): Promise<number> {
  const s = await listen();
  await new Promise((r) => s.close(r));
  return s.port;
}

const made: string[] = [];
after(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A stack folder whose Kafka jars are "already fetched" but empty, to reach later steps fast. */
function fakeStackDir(kafkaVersion = '4.1.1'): string {
  const dir = mkdtempSync(join(tmpdir(), 'sa-stack-'));
  made.push(dir);
  mkdirSync(join(dir, 'lib', `kafka-${kafkaVersion}`), { recursive: true });
  writeFileSync(join(dir, 'lib', `kafka-${kafkaVersion}`, '.complete'), 'test');
  return dir;
}

describe('npm run stack (real processes)', function () {
  this.timeout(120_000);

  describe('with the stack up', () => {
    useStack();
    it('status says what runs where', async () => {
      const res = await runTs(CLI, ['status'], process.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /kafka node 1: 127\.0\.0\.1:\d+ .* running, pid \d+/);
      assert.match(res.stdout, /registry: http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7 — running, pid \d+/);
      assert.match(
        res.stdout,
        /topics: analytics-events \(6 partitions, 1 replica\), ml-predictions \(6 partitions, 1 replica\), streaming-alerts \(6 partitions, 1 replica\), streaming-metrics \(6 partitions, 1 replica\)/,
      );
    });

    it('up again reuses what runs instead of starting a second copy', async () => {
      const res = await runTs(CLI, ['up'], process.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /kafka: (reusing the running|a broker not started by this project)/);
      assert.match(res.stdout, /registry: (reusing the running|a registry not started by this project)/);
      assert.match(res.stdout, /topics: all present/);
    });

    it("prune deletes the topics runs left behind, and keeps the seed topics and the processor's own", async () => {
      const config = loadConfig();
      const client = kafkaClientConfig(config.kafka);
      const tag = randomUUID().slice(0, 8);
      const leftover = `prune-left-${tag}`;
      const own = `${config.processor.applicationId}-prune-${tag}-changelog`;
      await createTopics(
        client,
        [leftover, own].map((name) => ({ name, partitions: 1, replicationFactor: -1 })),
      );
      try {
        // Narrowed to this test's names: a whole prune here would also take a concurrent benchmark's topics.
        const said: string[] = [];
        const result = await pruneTopics(
          config,
          (line) => said.push(line),
          (n) => n.includes(tag) || seedTopics(config).includes(n),
        );
        assert.deepEqual(result, { deleted: [leftover], failed: [] });
        assert.match(said.join('\n'), /prune: deleting 1 topic\(s\); keeping .*\nprune: deleted 1 topic\(s\)/);
        const left = await topicNames(config);
        assert.ok(!left.has(leftover), 'the leftover topic is deleted');
        assert.ok(left.has(own), "the processor's own topic stays");
        for (const seed of seedTopics(config)) assert.ok(left.has(seed), `${seed} stays`);
      } finally {
        await deleteTopics(client, [own], 30_000);
      }
    });

    it('a run deletes the topics it created and no other (the test runner and benchmarks do this at their end)', async () => {
      const config = loadConfig();
      const client = kafkaClientConfig(config.kafka);
      const tag = randomUUID().slice(0, 8);
      await createTopics(client, [{ name: `before-${tag}`, partitions: 1, replicationFactor: -1 }]);
      const before = await topicNames(config);
      await createTopics(client, [{ name: `during-${tag}`, partitions: 1, replicationFactor: -1 }]);
      const said: string[] = [];
      await deleteNewTopics(
        config,
        before,
        (line) => said.push(line),
        'this run',
        (n) => n.endsWith(tag),
      );
      const left = await topicNames(config);
      assert.ok(!left.has(`during-${tag}`));
      assert.ok(left.has(`before-${tag}`), 'a topic that was there before the run stays');
      assert.match(said.join('\n'), /this run: deleted the [1-9]\d* topic\(s\) it created/);
      await deleteTopics(client, [`before-${tag}`], 30_000);
    });
  });

  describe('bad input', () => {
    it('an unknown command prints the usage and exits 2', async () => {
      const res = await runTs(CLI, ['start'], cleanEnv({}));
      assert.equal(res.code, 2);
      assert.match(
        res.stderr,
        /^SA_ERR_USAGE: unknown command "start"\n {2}→ usage: npm run stack -- up \[--nodes N\] \[--partitions N\] \| down \[--purge\] \| status/,
      );
      assert.doesNotMatch(res.stderr, STACK_TRACE);
    });

    it('prune refuses a Kafka cluster that is not the local stack', async () => {
      const res = await runTs(CLI, ['prune'], cleanEnv({ STREAMING_KAFKA__BOOTSTRAP_SERVERS: 'kafka.example:9092' }));
      assert.equal(res.code, 2);
      assert.match(res.stderr, /^SA_ERR_USAGE: prune deletes topics on the local stack only, and Kafka is configured at kafka\.example:9092/);
      assert.match(res.stderr, /unset STREAMING_KAFKA__BOOTSTRAP_SERVERS/);
      assert.doesNotMatch(res.stderr, STACK_TRACE);
    });

    it('prune refuses a broker this project did not start (one another program runs on the port is never pruned)', async () => {
      const res = await runTs(CLI, ['prune'], cleanEnv({ STREAMING_STACK__DIR: fakeStackDir() }));
      assert.equal(res.code, 2);
      assert.match(res.stderr, /^SA_ERR_USAGE: prune deletes topics on the broker this project started, and it does not run/);
      assert.match(res.stderr, /npm run stack -- up/);
      assert.doesNotMatch(res.stderr, STACK_TRACE);
    });

    it('invalid configuration exits 2 with one line per bad variable and no stack trace', async () => {
      const res = await runTs(CLI, ['status'], cleanEnv({ STREAMING_STACK__KAFKA_PORT: 'ninety', STREAMING_TOPICS__PARTITIONS: '-1' }));
      assert.equal(res.code, 2);
      const lines = res.stderr.trim().split('\n');
      assert.equal(lines[0], 'SA_ERR_CONFIG_INVALID: invalid configuration (2 problems):');
      assert.equal(lines[1], '  STREAMING_TOPICS__PARTITIONS: got "-1"; expected an integer from 1 to 10000');
      assert.equal(lines[2], '  STREAMING_STACK__KAFKA_PORT: got "ninety"; expected an integer from 1024 to 65000');
      assert.doesNotMatch(res.stderr, STACK_TRACE);
    });

    it('a Kafka port taken by another program names the port and the setting to change', async () => {
      const squatter = await listen();
      try {
        const env = cleanEnv({
          STREAMING_STACK__DIR: fakeStackDir(),
          STREAMING_STACK__KAFKA_PORT: String(squatter.port),
          STREAMING_STACK__CONTROLLER_PORT: String(await freePort()),
        });
        const res = await runTs(CLI, ['up'], env);
        assert.equal(res.code, 1);
        assert.match(res.stderr, new RegExp(`^SA_ERR_STACK_PORT_IN_USE: port ${squatter.port} \\(kafka node 1\\) is already in use by another program`));
        assert.match(res.stderr, /set STREAMING_STACK__KAFKA_PORT to a free port/);
        assert.doesNotMatch(res.stderr, STACK_TRACE);
      } finally {
        squatter.close();
      }
    });

    it('a registry port taken by another program names the port and the setting to change', async () => {
      const squatter = await listen();
      try {
        const env = cleanEnv({
          STREAMING_STACK__DIR: fakeStackDir(),
          // Kafka is "external" here, so only the registry is started.
          STREAMING_KAFKA__BOOTSTRAP_SERVERS: `127.0.0.1:${await freePort()}`,
          STREAMING_STACK__REGISTRY_PORT: String(squatter.port),
        });
        const res = await runTs(CLI, ['up'], env);
        assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
        assert.match(res.stderr, new RegExp(`^SA_ERR_STACK_PORT_IN_USE: port ${squatter.port} \\(schema registry\\)`));
        assert.match(res.stderr, /set STREAMING_STACK__REGISTRY_PORT to a free port/);
      } finally {
        squatter.close();
      }
    });

    it('a second cluster size on the same ports is refused, with how to switch', async () => {
      // A live process standing in for a running 1-node cluster: its pid file, and a
      // command line that names the node folder, as a real broker's does.
      const dir = fakeStackDir();
      const nodeDir = join(dir, 'kafka', '1-node', 'node-1');
      mkdirSync(nodeDir, { recursive: true });
      const standIn = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', nodeDir], { stdio: 'ignore' });
      try {
        writeFileSync(join(nodeDir, 'broker.pid'), String(standIn.pid));
        const env = cleanEnv({
          STREAMING_STACK__DIR: dir,
          STREAMING_STACK__KAFKA_PORT: String(await freePort()),
          STREAMING_STACK__CONTROLLER_PORT: String(await freePort()),
        });
        const res = await runTs(CLI, ['up', '--nodes', '3'], env);
        assert.equal(res.code, 1);
        assert.match(res.stderr, /^SA_ERR_STACK_PORT_IN_USE: a local cluster of another size is running \(1 node\(s\)/);
        assert.match(res.stderr, /run `npm run stack -- down` \(it stops every local cluster size\), then `npm run stack -- up --nodes 3`/);
      } finally {
        standIn.kill();
      }
    });

    it('missing Maven is one line naming what to install', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sa-stack-'));
      const env = cleanEnv({
        PATH: '/nonexistent',
        STREAMING_STACK__DIR: dir,
        STREAMING_STACK__KAFKA_PORT: String(await freePort()),
        STREAMING_STACK__CONTROLLER_PORT: String(await freePort()),
      });
      const res = await runTs(CLI, ['up'], env);
      assert.equal(res.code, 1);
      assert.equal(
        res.stderr.trim(),
        'SA_ERR_STACK_TOOL_MISSING: mvn was not found on PATH\n  → install Apache Maven 3.6+ (Debian/Ubuntu: apt-get install maven)',
      );
    });

    it('missing Java is one line naming what to install', async () => {
      const env = cleanEnv({
        PATH: '/nonexistent',
        STREAMING_STACK__DIR: fakeStackDir(),
        STREAMING_STACK__KAFKA_PORT: String(await freePort()),
        STREAMING_STACK__CONTROLLER_PORT: String(await freePort()),
      });
      const res = await runTs(CLI, ['up'], env);
      assert.equal(res.code, 1);
      assert.equal(
        res.stderr.trim(),
        'SA_ERR_STACK_TOOL_MISSING: java was not found on PATH\n  → install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless, or openjdk-21-jre-headless where 17 is gone)',
      );
    });

    it('a broker that dies at start-up is reported with the tail of its log and a non-zero exit', async () => {
      const dir = fakeStackDir();
      // Storage that looks formatted, so the (empty) broker jar folder is only found out at start.
      const nodeDir = join(dir, 'kafka', '1-node', 'node-1', 'data');
      mkdirSync(nodeDir, { recursive: true });
      writeFileSync(join(nodeDir, 'meta.properties'), 'version=1\ncluster.id=J2bFGuoRTn-y9pD3PLfJ3A\nnode.id=1\n');
      const env = cleanEnv({
        STREAMING_STACK__DIR: dir,
        STREAMING_STACK__KAFKA_PORT: String(await freePort()),
        STREAMING_STACK__CONTROLLER_PORT: String(await freePort()),
      });
      const res = await runTs(CLI, ['up'], env);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^SA_ERR_STACK_START_FAILED: kafka node 1 exited during start-up\. Last lines of .*server\.log:/);
      assert.match(res.stderr, /Could not find or load main class kafka\.Kafka/);
      assert.match(
        res.stderr,
        new RegExp(
          `→ the broker jars in ${join(dir, 'lib', 'kafka-4.1.1')} are incomplete: remove that folder \\(it is fetched again\\), then run \`npm run stack -- up\``,
        ),
      );
      assert.doesNotMatch(res.stderr, STACK_TRACE);
    });
  });

  describe('every hint names a command, flag, setting or folder that fixes the failure', () => {
    const ports = async (): Promise<Record<string, string>> => ({
      STREAMING_STACK__KAFKA_PORT: String(await freePort()),
      STREAMING_STACK__CONTROLLER_PORT: String(await freePort()),
    });

    it('damaged broker jars at the first format: the hint names their folder, not the node data; a bad stored cluster id is replaced first', async () => {
      const dir = fakeStackDir();
      const idFile = join(dir, 'kafka', '1-node', 'cluster.id');
      mkdirSync(join(dir, 'kafka', '1-node'), { recursive: true });
      writeFileSync(idFile, '-aGVsbG8gd29ybGQgaGk'); // what the old script could write
      const res = await runTs(CLI, ['up'], cleanEnv({ STREAMING_STACK__DIR: dir, ...(await ports()) }));
      assert.equal(res.code, 1);
      assert.match(
        res.stderr,
        /^SA_ERR_STACK_START_FAILED: formatting the storage of broker 1 failed:\nError: Could not find or load main class kafka\.tools\.StorageTool/,
      );
      assert.match(res.stderr, new RegExp(`→ the broker jars in ${join(dir, 'lib', 'kafka-4.1.1')} are incomplete: remove that folder`));
      assert.ok(isClusterId(readFileSync(idFile, 'utf8')), 'the unusable id was replaced before formatting');
    });

    it('a bad stored cluster id under formatted storage: `down --purge` (the hint) removes both, and the next id is valid', async () => {
      const dir = fakeStackDir();
      const data = join(dir, 'kafka', '1-node', 'node-1', 'data');
      mkdirSync(data, { recursive: true });
      writeFileSync(join(data, 'meta.properties'), 'version=1\n');
      writeFileSync(join(dir, 'kafka', '1-node', 'cluster.id'), '-aGVsbG8gd29ybGQgaGk');
      const env = cleanEnv({ STREAMING_STACK__DIR: dir, ...(await ports()) });
      const res = await runTs(CLI, ['up'], env);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^SA_ERR_STACK_START_FAILED: the cluster id in .*cluster\.id is not valid, but node\(s\) 1 were formatted with another one/);
      assert.match(res.stderr, /→ run `npm run stack -- down --purge` .*, then `npm run stack -- up`/);
      const purge = await runTs(CLI, ['down', '--purge'], env);
      assert.equal(purge.code, 0, purge.stderr);
      assert.ok(!existsSync(join(dir, 'kafka')), 'the id and the node data are gone');
      assert.ok(existsSync(join(dir, 'lib', 'kafka-4.1.1', '.complete')), 'the jars stay');
    });

    it('a node running with other port settings is named with its ports, and `down` finds it by pid file', async () => {
      const dir = fakeStackDir();
      const nodeDir = join(dir, 'kafka', '1-node', 'node-1');
      mkdirSync(nodeDir, { recursive: true });
      writeFileSync(join(nodeDir, 'server.properties'), 'listeners=PLAINTEXT://127.0.0.1:1111,CONTROLLER://127.0.0.1:2222\n');
      const standIn = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', nodeDir], { stdio: 'ignore' });
      try {
        writeFileSync(join(nodeDir, 'broker.pid'), String(standIn.pid));
        const env = cleanEnv({ STREAMING_STACK__DIR: dir, ...(await ports()), STREAMING_SCHEMA_REGISTRY__URL: 'http://127.0.0.1:1/apis/ccompat/v7' });
        const res = await runTs(CLI, ['up'], env);
        assert.equal(res.code, 1);
        assert.match(
          res.stderr,
          /^SA_ERR_STACK_PORT_IN_USE: kafka node 1 is running on ports 1111\/2222, not \d+\/\d+: it was started with other port settings/,
        );
        assert.match(res.stderr, /→ run `npm run stack -- down` \(it finds the nodes by pid file, whatever their ports\), then `npm run stack -- up`/);
        const exited = new Promise((r) => standIn.once('exit', r));
        const down = await runTs(CLI, ['down'], env);
        assert.equal(down.code, 0, down.stderr);
        assert.match(down.stdout, /kafka: stopping 1 node\(s\)/);
        await exited;
      } finally {
        standIn.kill();
      }
    });

    it('a Java that is there but broken is not called missing', async () => {
      const bin = mkdtempSync(join(tmpdir(), 'sa-bin-'));
      made.push(bin);
      writeFileSync(join(bin, 'java'), '#!/bin/sh\necho "Error: could not open jvm.cfg" >&2\nexit 1\n');
      chmodSync(join(bin, 'java'), 0o755);
      const res = await runTs(CLI, ['up'], cleanEnv({ PATH: `${bin}:/usr/bin:/bin`, STREAMING_STACK__DIR: fakeStackDir(), ...(await ports()) }));
      assert.equal(res.code, 1);
      assert.match(
        res.stderr,
        /^SA_ERR_STACK_TOOL_MISSING: `java -version` failed \(exit 1\):\nError: could not open jvm\.cfg\n {2}→ the java on PATH is broken: install a Java 17\+ runtime/,
      );
    });

    it('a Kafka version Maven Central does not have names the setting to change (real Maven)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sa-stack-'));
      made.push(dir);
      const res = await runTs(CLI, ['up'], cleanEnv({ STREAMING_STACK__DIR: dir, STREAMING_STACK__KAFKA_VERSION: '4.1.99', ...(await ports()) }), 110_000);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^SA_ERR_STACK_FETCH_FAILED: Maven could not fetch Apache Kafka 4\.1\.99:/);
      assert.match(res.stderr, /→ Maven Central has no Apache Kafka 4\.1\.99: set STREAMING_STACK__KAFKA_VERSION to a released version/);
      assert.ok(!existsSync(join(dir, 'lib', 'kafka-4.1.99')), 'nothing half-fetched is left to be taken for complete');
    });
  });

  describe('topics, with the stack up', () => {
    useStack();
    it('a replication factor above the broker count names the setting (nothing is created)', async () => {
      const res = await runTs(CLI, ['up'], {
        ...process.env,
        STREAMING_TOPICS__REPLICATION_FACTOR: '3',
        STREAMING_TOPICS__EVENTS: `sa-rf-hint-${process.pid}`,
        STREAMING_STACK__DIR: fakeStackDir(),
        // The running stack, used as external: this test starts and stops nothing.
        STREAMING_KAFKA__BOOTSTRAP_SERVERS: process.env.STREAMING_KAFKA__BOOTSTRAP_SERVERS ?? '127.0.0.1:9092',
        STREAMING_SCHEMA_REGISTRY__URL: process.env.STREAMING_SCHEMA_REGISTRY__URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
      });
      assert.equal(res.code, 1, res.stdout);
      assert.match(res.stderr, /^SA_ERR_STACK_TOPICS_FAILED: could not create topics: .*replication factor of 3/);
      assert.match(res.stderr, /→ STREAMING_TOPICS__REPLICATION_FACTOR \(3\) is more than the cluster has brokers: set it to at most their number/);
    });
  });
});
