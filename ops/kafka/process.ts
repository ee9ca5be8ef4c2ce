/**
 * Background services (broker nodes, the registry) run detached from the command that
 * started them, with a pid file and a log file in the stack folder, so that `stack up`
 * can return and a later `stack down` or `stack status` can find them.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServiceFiles {
  pidFile: string;
  logFile: string;
}

export function startDetached(command: string, args: string[], files: ServiceFiles, cwd: string): number {
  rotateLog(files.logFile);
  const out = openSync(files.logFile, 'a');
  try {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', out, out] });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    writeFileSync(files.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The pid from the pid file if that process still runs and its command line names the
 * pid file's folder (every service is started with paths in its own folder). A stale
 * pid file may name a pid the system has since given to an unrelated process.
 */
export function runningPid(pidFile: string): number | undefined {
  const pid = readPid(pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  const cmd = commandLine(pid);
  return cmd === undefined || cmd.includes(dirname(pidFile)) ? pid : undefined;
}

/** The process's command line (arguments joined by spaces), where /proc shows it. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined; // no /proc (macOS): trust the pid file
  }
}

/** Live processes (other than this one) whose command line contains `text`, where /proc lists them; undefined without /proc. */
export function processesNaming(text: string): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  return entries.map(Number).filter((pid) => pid !== process.pid && (commandLine(pid) ?? '').includes(text));
}

/** SIGTERM (the JVM runs its shutdown hooks), then SIGKILL after `graceMs`. */
export async function stopProcess(pid: number, graceMs: number): Promise<'stopped' | 'killed'> {
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(200);
  }
  signal(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  return 'killed';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

/** How much of a log's end tail() reads: a broker's log can grow to gigabytes. */
const TAIL_BYTES = 256 * 1024;

/** The last lines of a log, for error messages when a service dies at start-up; never throws. */
export function tail(path: string, lines = 25): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? '(no log file)' : `(the log cannot be read: ${(err as Error).message})`;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(length);
    const read = readSync(fd, buf, 0, length, size - length);
    const all = buf.subarray(0, read).toString('utf8').trimEnd().split('\n');
    if (length < size && all.length > 1) all.shift(); // the first line is probably cut
    return all.slice(-lines).join('\n');
  } catch (err) {
    return `(the log cannot be read: ${(err as Error).message})`;
  } finally {
    closeSync(fd);
  }
}

/** Logs are appended to across starts; one over this size is moved to `<log>.1` first (replacing the older one). */
const ROTATE_BYTES = 64 * 1024 * 1024;

export function rotateLog(path: string, limit = ROTATE_BYTES): void {
  try {
    if (statSync(path).size > limit) renameSync(path, `${path}.1`);
  } catch {
    // no log yet
  }
}
