/**
 * The local cache of model versions downloaded from a registry: `<dir>/<name>/<version>/`.
 * A version is written into a hidden partial folder and renamed into place, so a partial
 * download is never loaded; concurrent requests for one version share one download.
 *
 * It keeps at most `maxVersions` versions. After each download the versions downloaded
 * longest ago are removed until no more than that remain — never one that is held. Every
 * registry (served, A/B variant, shadow) holds the version it serves: a catalogue's
 * `resolve()` hands out a hold with the version it found, and the registry releases it
 * when it stops serving that version (or does not take it). One cache is shared by all
 * catalogues of a process, so a download for one registry never removes another's model.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { insideDir, isPlainName, plainName } from './safe-path';

export const DEFAULT_CACHE_VERSIONS = 20;

export interface ModelCacheOptions {
  dir: string;
  /** Versions kept (default 20; STREAMING_REALTIME_ML__MODEL_CACHE_SIZE). */
  maxVersions?: number;
}

let partials = 0;

export class ModelCache {
  readonly dir: string;
  readonly maxVersions: number;
  private readonly holds = new Map<string, number>();
  private readonly filling = new Map<string, Promise<void>>();

  constructor(o: ModelCacheOptions) {
    this.dir = resolve(o.dir);
    this.maxVersions = o.maxVersions ?? DEFAULT_CACHE_VERSIONS;
    if (!Number.isInteger(this.maxVersions) || this.maxVersions < 1)
      throw new TypeError(`ModelCache: maxVersions must be a whole number ≥ 1, not ${String(o.maxVersions)}`);
  }

  /** `<dir>/<name>/<version>`: both plain names, and the result inside the cache. */
  versionDir(name: string, version: string): string {
    return insideDir(this.dir, plainName(name, 'the model name'), plainName(version, 'the model version'));
  }

  /** Whether a complete copy of the version is here. */
  has(directory: string): boolean {
    return existsSync(join(directory, 'model.onnx'));
  }

  /**
   * Downloads a version once: `write` puts its files into a fresh partial folder, which
   * then replaces `directory`. Calls for a directory being filled wait for that download.
   */
  fill(directory: string, write: (partial: string) => Promise<void>): Promise<void> {
    const running = this.filling.get(directory);
    if (running) return running;
    const filled = this.download(directory, write).finally(() => this.filling.delete(directory));
    this.filling.set(directory, filled);
    return filled;
  }

  /** Marks the version as in use until the returned function is called (holds are counted). */
  hold(directory: string): () => void {
    this.holds.set(directory, (this.holds.get(directory) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.holds.get(directory) ?? 1) - 1;
      if (left > 0) this.holds.set(directory, left);
      else this.holds.delete(directory);
    };
  }

  isHeld(directory: string): boolean {
    return this.holds.has(directory);
  }

  /** Removes the versions downloaded longest ago while more than `maxVersions` remain, skipping held ones; returns what it removed. */
  prune(): string[] {
    const versions = this.versions().sort((a, b) => a.downloaded - b.downloaded || a.directory.localeCompare(b.directory, 'en', { numeric: true }));
    let count = versions.length;
    const removed: string[] = [];
    for (const v of versions) {
      if (count <= this.maxVersions) break;
      if (this.holds.has(v.directory) || this.filling.has(v.directory)) continue;
      rmSync(v.directory, { recursive: true, force: true });
      removed.push(v.directory);
      count--;
    }
    return removed;
  }

  private async download(directory: string, write: (partial: string) => Promise<void>): Promise<void> {
    const partial = insideDir(dirname(directory), `.${basename(directory)}.partial-${process.pid}-${++partials}`);
    mkdirSync(partial, { recursive: true });
    try {
      await write(partial);
      rmSync(directory, { recursive: true, force: true });
      renameSync(partial, directory);
    } catch (err) {
      rmSync(partial, { recursive: true, force: true });
      throw err;
    }
    const now = new Date();
    utimesSync(directory, now, now); // the download time orders pruning
  }

  /** Every complete `<name>/<version>` folder (partial folders are hidden: their names start with "."). */
  private versions(): { directory: string; downloaded: number }[] {
    const list = (dir: string): string[] => {
      try {
        return readdirSync(dir)
          .filter(isPlainName)
          .filter((n) => !n.startsWith('.'));
      } catch {
        return [];
      }
    };
    return list(this.dir).flatMap((name) =>
      list(join(this.dir, name)).flatMap((version) => {
        const directory = join(this.dir, name, version);
        try {
          const s = statSync(directory);
          return s.isDirectory() ? [{ directory, downloaded: s.mtimeMs }] : [];
        } catch {
          return [];
        }
      }),
    );
  }
}
