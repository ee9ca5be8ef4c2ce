/**
 * The local schema registry: Apicurio Registry (Karapace is not published on PyPI),
 * run from its Maven Central archive on the machine's Java, serving the
 * Confluent-compatible API at /apis/ccompat/v7. Schemas persist in an H2 file in the
 * stack folder; BACKWARD compatibility is set as the global rule, as in Confluent's default.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../src/config';
import { StreamingError } from '../../src/errors';
import { ensureJars } from './fetch';
import { answersOk, httpRequest } from './http';
import { portAccepts, portIsFree } from './ports';
import { commandLine, processesNaming, removeFile, runningPid, startDetached, stopProcess, tail } from './process';
import { requireTool } from './toolchain';

type Say = (line: string) => void;

export function registryDir(stack: Config['stack']): string {
  return join(stack.dir!, 'registry');
}

function files(stack: Config['stack']): { pidFile: string; logFile: string } {
  const dir = registryDir(stack);
  return { pidFile: join(dir, 'registry.pid'), logFile: join(dir, 'registry.log') };
}

function fetchRegistry(stack: Config['stack'], say: Say): string {
  const v = stack.registryVersion;
  return ensureJars(
    stack.dir!,
    {
      name: `apicurio-registry-${v}`,
      label: `Apicurio Registry ${v}`,
      versionSetting: 'STREAMING_STACK__REGISTRY_VERSION',
      // The parent pom of some versions is not on Maven Central, and dependency plugins from
      // 3.x read it even for a non-transitive `get`; 2.8's `get` does not. A
      // private local repository keeps the archive's path known, and is deleted after.
      mavenArgs: (out) => [
        'org.apache.maven.plugins:maven-dependency-plugin:2.8:get',
        '-Dtransitive=false',
        `-Dartifact=io.apicurio:apicurio-registry-app:${v}:tar.gz:all`,
        `-Dmaven.repo.local=${join(out, '.m2')}`,
      ],
      afterFetch: (out) => {
        const archive = join(out, '.m2', 'io', 'apicurio', 'apicurio-registry-app', v, `apicurio-registry-app-${v}-all.tar.gz`);
        const res = spawnSync('tar', ['-xzf', archive, '-C', out], { encoding: 'utf8' });
        if (res.status !== 0)
          throw new StreamingError('SA_ERR_STACK_FETCH_FAILED', `could not unpack ${archive}: ${res.stderr}`, {
            hint: 'the download was damaged or the disk is full: run `npm run stack -- up` again (it fetches the archive again)',
          });
        rmSync(join(out, '.m2'), { recursive: true, force: true });
      },
    },
    say,
  );
}

/** 3.0.x ships `<artifact>-runner.jar`, later versions the Quarkus `quarkus-run.jar`. */
function runnerJar(dir: string, version: string): string {
  for (const name of [`apicurio-registry-app-${version}-runner.jar`, 'quarkus-run.jar']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new StreamingError('SA_ERR_STACK_START_FAILED', `no runnable jar in ${dir}`, {
    hint: `remove ${dir} (it is fetched again), then run \`npm run stack -- up\``,
  });
}

function registryArgs(config: Config, jar: string): string[] {
  const port = config.stack.registryPort;
  return [
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-Dquarkus.http.host=127.0.0.1',
    `-Dquarkus.http.port=${port}`,
    // Health on the API port, and no second listener on 0.0.0.0.
    '-Dquarkus.management.enabled=false',
    `-Dapicurio.datasource.url=jdbc:h2:file:${join(registryDir(config.stack), 'data', 'registry')}`,
    '-jar',
    jar,
  ];
}

const healthUrl = (port: number): string => `http://127.0.0.1:${port}/health/ready`;

function answersAsRegistry(port: number): Promise<boolean> {
  return answersOk(`http://127.0.0.1:${port}/apis/ccompat/v7/subjects`);
}

/** Starts the registry unless it runs; returns true when this call started it. */
export async function startRegistry(config: Config, say: Say): Promise<boolean> {
  const stack = config.stack;
  const f = files(stack);
  const port = stack.registryPort;
  const running = runningPid(f.pidFile);
  if (running !== undefined) {
    const startedOn = /-Dquarkus\.http\.port=(\d+)/.exec(commandLine(running) ?? '')?.[1];
    if (startedOn !== undefined ? Number(startedOn) !== port : !(await portAccepts(port))) {
      throw new StreamingError(
        'SA_ERR_STACK_PORT_IN_USE',
        `the local registry is running${startedOn ? ` on port ${startedOn}` : ''}, not on port ${port}: it was started with other port settings`,
        {
          hint: 'run `npm run stack -- down` (it finds the registry by pid file, whatever its port), then `npm run stack -- up` with the port settings you want',
        },
      );
    }
    // Running is not ready: after a start that timed out, `up` again waits for it once more.
    await waitReady(config);
    say(`registry: reusing the running registry at ${config.schemaRegistry.url}`);
    return false;
  }
  if (!(await portIsFree(port))) {
    if (await answersAsRegistry(port)) {
      say(`registry: a registry not started by this project answers on port ${port}; using it`);
      await setGlobalCompatibility(port, 'BACKWARD', true);
      return false;
    }
    throw new StreamingError('SA_ERR_STACK_PORT_IN_USE', `port ${port} (schema registry) is already in use by another program`, {
      hint: 'stop that program, or set STREAMING_STACK__REGISTRY_PORT to a free port',
    });
  }
  const dir = fetchRegistry(stack, say);
  requireTool('java');
  mkdirSync(join(registryDir(stack), 'data'), { recursive: true });
  removeFile(f.pidFile);
  startDetached('java', registryArgs(config, runnerJar(dir, stack.registryVersion)), f, registryDir(stack));
  say(`registry: starting Apicurio Registry ${stack.registryVersion} on 127.0.0.1:${port}, waiting until it is ready…`);
  await waitReady(config);
  await setGlobalCompatibility(port, 'BACKWARD');
  return true;
}

/** Confluent's default rule; Apicurio's is NONE, and not every version reads it from a property. */
async function setGlobalCompatibility(port: number, level: string, foreign = false): Promise<void> {
  const res = await httpRequest(`http://127.0.0.1:${port}/apis/ccompat/v7/config`, {
    method: 'PUT',
    body: JSON.stringify({ compatibility: level }),
    timeoutMs: 5000,
  });
  if (res.status !== 200) {
    throw new StreamingError(
      'SA_ERR_STACK_START_FAILED',
      `the registry on port ${port} refused the global ${level} rule: HTTP ${res.status} ${res.body.slice(0, 300)}`,
      {
        hint: foreign
          ? `that registry was not started by this project: to use it as it is, set STREAMING_SCHEMA_REGISTRY__URL (the stack then leaves it alone); or stop it, or set STREAMING_STACK__REGISTRY_PORT to a free port, so the stack starts its own`
          : 'run `npm run stack -- down`, then `npm run stack -- up` (its log is in the registry folder of `npm run stack -- status`)',
      },
    );
  }
}

async function waitReady(config: Config, timeoutMs = 120_000): Promise<void> {
  const f = files(config.stack);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (runningPid(f.pidFile) === undefined) throw startFailed(f.logFile, 'exited during start-up', exitHint(config, f.logFile));
    if (await answersOk(healthUrl(config.stack.registryPort))) return;
    await sleep(300);
  }
  throw startFailed(
    f.logFile,
    `was not ready within ${timeoutMs / 1000} s`,
    `it is still running: \`npm run stack -- up\` again waits for it once more, \`npm run stack -- down\` stops it (its log: ${f.logFile})`,
  );
}

function startFailed(logFile: string, what: string, hint: string): StreamingError {
  return new StreamingError('SA_ERR_STACK_START_FAILED', `the schema registry ${what}. Last lines of ${logFile}:\n${tail(logFile)}`, { hint });
}

/** What to do about a registry that died at start-up, from the causes its log names. */
function exitHint(config: Config, logFile: string): string {
  const log = tail(logFile, 200);
  const stack = config.stack;
  if (/Database may be already in use|file is locked/i.test(log)) {
    const data = join(registryDir(stack), 'data');
    const holders = processesNaming(data);
    const stop =
      holders === undefined ? `find it with \`pgrep -af ${data}\` and stop it` : holders.length > 0 ? `stop it (\`kill ${holders.join(' ')}\`)` : 'stop it';
    return `another registry process holds ${data} (its pid file is gone): ${stop}, then run \`npm run stack -- up\``;
  }
  if (/Address already in use|Port already bound|port .* (is )?(already )?in use/i.test(log)) {
    return `another program took port ${stack.registryPort} meanwhile: stop it, or set STREAMING_STACK__REGISTRY_PORT to a free port`;
  }
  if (/Could not find or load main class|ClassNotFoundException|NoClassDefFoundError|Invalid or corrupt jarfile|Unable to access jarfile/.test(log)) {
    return `the registry files in ${join(stack.dir!, 'lib', `apicurio-registry-${stack.registryVersion}`)} are incomplete: remove that folder (it is fetched again), then run \`npm run stack -- up\``;
  }
  return 'fix the cause above, then run `npm run stack -- up` again';
}

export async function registryStatus(config: Config): Promise<{ pid: number | undefined; listening: boolean; logFile: string }> {
  const f = files(config.stack);
  return { pid: runningPid(f.pidFile), listening: await portAccepts(config.stack.registryPort), logFile: f.logFile };
}

/** Stops the registry if this project started it; returns how many processes it stopped. */
export async function stopRegistry(config: Config, say: Say): Promise<number> {
  const f = files(config.stack);
  const pid = runningPid(f.pidFile);
  if (pid === undefined) return 0;
  say('registry: stopping…');
  await stopProcess(pid, 30_000);
  removeFile(f.pidFile);
  return 1;
}
