/**
 * CPU and memory of every process a benchmark involves (the application — with its
 * stream-thread processes —, the broker, the registry, the load generator), read from
 * /proc: CPU as a share of one core over a window of the run, RSS as the peak sampled
 * every 100 ms within it. A process that ends
 * inside a window (the pipeline's load) counts up to its last sample.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;
const PAGE = 4096;

/** The process's children, grandchildren, … (an application with several stream threads forks one process each). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of parents.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** A process with its descendants: CPU ticks and RSS added up (an application with stream-thread processes counts as one). */
export function readTree(pid: number): { ticks: number; rss: number } | undefined {
  const root = readProc(pid);
  if (!root) return undefined;
  for (const c of descendants(pid)) {
    const p = readProc(c);
    if (p) {
      root.ticks += p.ticks;
      root.rss += p.rss;
    }
  }
  return root;
}

/** utime + stime in clock ticks and the resident set in bytes, or undefined once the process is gone. */
export function readProc(pid: number): { ticks: number; rss: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ticks: Number(fields[11]) + Number(fields[12]), rss: Number(fields[21]) * PAGE };
}

export interface ProcUsage {
  /** Share of one core over the window, in percent. */
  cpu: number;
  /** Peak resident set in the window, MiB. */
  rssMiB: number;
}

interface Seen {
  first: number;
  last: number;
  peak: number;
}

interface Open {
  startedMs: number;
  seen: Map<string, Seen>;
}

export class ProcessMeter {
  private readonly open = new Set<Open>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: Map<string, number>) {
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  /** Follows one more process; open windows count it from its start (it was just started). */
  add(name: string, pid: number): void {
    this.pids.set(name, pid);
    for (const w of this.open) w.seen.set(name, { first: 0, last: 0, peak: 0 });
    this.sample();
  }

  /** Starts a window; its `end()` gives each process's usage over it. */
  window(): { end(): Record<string, ProcUsage> } {
    const w: Open = { startedMs: performance.now(), seen: new Map() };
    for (const [name, pid] of this.pids) {
      const p = this.read(name, pid);
      if (p) w.seen.set(name, { first: p.ticks, last: p.ticks, peak: p.rss });
    }
    this.open.add(w);
    return {
      end: () => {
        this.sample();
        this.open.delete(w);
        const seconds = Math.max((performance.now() - w.startedMs) / 1000, 0.001);
        const out: Record<string, ProcUsage> = {};
        for (const [name, s] of w.seen)
          out[name] = { cpu: Math.round(((s.last - s.first) / TICKS_PER_SECOND / seconds) * 100), rssMiB: Math.round(s.peak / 2 ** 20) };
        return out;
      },
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The application with its stream-thread processes; every other process alone. */
  private read(name: string, pid: number): { ticks: number; rss: number } | undefined {
    return name === 'app' ? readTree(pid) : readProc(pid);
  }

  private sample(): void {
    if (this.open.size === 0) return;
    for (const [name, pid] of this.pids) {
      const p = this.read(name, pid);
      if (!p) continue;
      for (const w of this.open) {
        const s = w.seen.get(name);
        if (!s) continue;
        s.last = p.ticks;
        s.peak = Math.max(s.peak, p.rss);
      }
    }
  }
}
