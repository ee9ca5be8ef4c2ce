import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** A stack folder whose Kafka jars are "already fetched" but empty, to reach later steps fast. */
function fakeStackDir(kafkaVersion = '4.1.1'): string {
  const dir = mkdtempSync(join(tmpdir(), 'sa-stack-'));
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
      assert.match(res.stdout, /topics: analytics-events \(6 partitions, 1 replica\), ml-predictions \(6 partitions, 1 replica\), streaming-alerts \(6 partitions, 1 replica\), streaming-metrics \(6 partitions, 1 replica\)/);
    });

    it('up again reuses what runs instead of starting a second copy', async () => {
      const res = await runTs(CLI, ['up'], process.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /kafka: (reusing the running|a broker not started by this project)/);
      assert.match(res.stdout, /registry: (reusing the running|a registry not started by this project)/);
      assert.match(res.stdout, /topics: all present/);
    });
  });

  describe('bad input', () => {
    it('an unknown command prints the usage and exits 1', async () => {
      const res = await runTs(CLI, ['start'], cleanEnv({}));
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^SA_ERR_USAGE: unknown command "start"\n  → usage: npm run stack -- up\|down\|status/);
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
        const env = cleanEnv({ STREAMING_STACK__DIR: fakeStackDir(), STREAMING_STACK__KAFKA_PORT: String(squatter.port), STREAMING_STACK__CONTROLLER_PORT: String(await freePort()) });
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
        const env = cleanEnv({ STREAMING_STACK__DIR: dir, STREAMING_STACK__KAFKA_PORT: String(await freePort()), STREAMING_STACK__CONTROLLER_PORT: String(await freePort()) });
        const res = await runTs(CLI, ['up', '--nodes', '3'], env);
        assert.equal(res.code, 1);
        assert.match(res.stderr, /^SA_ERR_STACK_PORT_IN_USE: a local cluster of another size is running \(1 node\(s\)/);
        assert.match(res.stderr, /run `npm run stack -- down` first/);
      } finally {
        standIn.kill();
      }
    });

    it('missing Maven is one line naming what to install', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sa-stack-'));
      const env = cleanEnv({ PATH: '/nonexistent', STREAMING_STACK__DIR: dir, STREAMING_STACK__KAFKA_PORT: String(await freePort()), STREAMING_STACK__CONTROLLER_PORT: String(await freePort()) });
      const res = await runTs(CLI, ['up'], env);
      assert.equal(res.code, 1);
      assert.equal(res.stderr.trim(), 'SA_ERR_STACK_TOOL_MISSING: mvn was not found on PATH\n  → install Apache Maven 3.6+ (Debian/Ubuntu: apt-get install maven)');
    });

    it('missing Java is one line naming what to install', async () => {
      const env = cleanEnv({ PATH: '/nonexistent', STREAMING_STACK__DIR: fakeStackDir(), STREAMING_STACK__KAFKA_PORT: String(await freePort()), STREAMING_STACK__CONTROLLER_PORT: String(await freePort()) });
      const res = await runTs(CLI, ['up'], env);
      assert.equal(res.code, 1);
      assert.equal(res.stderr.trim(), 'SA_ERR_STACK_TOOL_MISSING: java was not found on PATH\n  → install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)');
    });

    it('a broker that dies at start-up is reported with the tail of its log and a non-zero exit', async () => {
      const dir = fakeStackDir();
      // Storage that looks formatted, so the (empty) broker jar folder is only found out at start.
      const nodeDir = join(dir, 'kafka', '1-node', 'node-1', 'data');
      mkdirSync(nodeDir, { recursive: true });
      writeFileSync(join(nodeDir, 'meta.properties'), 'version=1\n');
      const env = cleanEnv({ STREAMING_STACK__DIR: dir, STREAMING_STACK__KAFKA_PORT: String(await freePort()), STREAMING_STACK__CONTROLLER_PORT: String(await freePort()) });
      const res = await runTs(CLI, ['up'], env);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^SA_ERR_STACK_START_FAILED: kafka node 1 exited during start-up\. Last lines of .*server\.log:/);
      assert.match(res.stderr, /Could not find or load main class kafka\.Kafka/);
      assert.doesNotMatch(res.stderr, STACK_TRACE);
    });
  });
});
