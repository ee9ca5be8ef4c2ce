/**
 * Fetches jars from Maven Central with Maven (dependency:copy-dependencies) into the
 * stack cache folder, once per version: a `.complete` marker makes later runs reuse
 * the folder, and a half-finished download is never mistaken for a complete one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StreamingError } from '../../src/errors';
import { requireTool } from './toolchain';

export interface JarSet {
  /** Folder name under <stack dir>/lib, e.g. kafka-4.1.1. */
  name: string;
  label: string;
  /** The setting that chose the version (named in the hint when the fetch fails). */
  versionSetting: string;
  /** Maven arguments that put the artifacts into `outputDir`. */
  mavenArgs: (outputDir: string) => string[];
  /** Runs after Maven succeeded, inside the not-yet-published output folder. */
  afterFetch?: (outputDir: string) => void;
}

/** The pom that pins the plugin versions (and lists the broker jars). */
export const OPS_POM = resolve(__dirname, 'pom.xml');

export function ensureJars(stackDir: string, set: JarSet, say: (line: string) => void): string {
  const target = join(stackDir, 'lib', set.name);
  if (existsSync(join(target, '.complete'))) return target;
  requireTool('mvn');
  say(`fetching ${set.label} from Maven Central into ${target} (first run only)…`);
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const started = Date.now();
  const res = spawnSync('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', OPS_POM, ...set.mavenArgs(partial)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    const output = `${res.stdout}${res.stderr}`.trim().split('\n').slice(-15).join('\n');
    const missing = /Could not find artifact|was not found in|Failure to find/.test(output);
    throw new StreamingError('SA_ERR_STACK_FETCH_FAILED', `Maven could not fetch ${set.label}:\n${output}`, {
      hint: missing
        ? `Maven Central has no ${set.label}: set ${set.versionSetting} to a released version, then run \`npm run stack -- up\``
        : `check that Maven Central (repo.maven.apache.org) is reachable from here — a proxy goes in ~/.m2/settings.xml — then run \`npm run stack -- up\` again`,
    });
  }
  try {
    set.afterFetch?.(partial);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  writeFileSync(join(partial, '.complete'), new Date().toISOString());
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(stackDir, 'lib'), { recursive: true });
  renameSync(partial, target);
  say(`fetched ${set.label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return target;
}
