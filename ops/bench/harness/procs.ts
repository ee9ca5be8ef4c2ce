/**
 * CPU and memory of every process a benchmark involves (the application — with its
 * stream-thread processes —, the broker, the registry, the load generator), read from
 * /proc: CPU as a share of one core over a window of the run, RSS as the peak sampled
 * every 100 ms within it. CPU is counted per process id, so a process that ends inside a
 * window (the pipeline's load, a thread) counts up to its last sample, never negatively.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;
const PAGE = 4096;
/** How often the application's process tree is looked up again (a whole /proc scan). */
const TREE_EVERY_MS = 1_000;

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

/** The process's children, grandchildren, … (an application with several stream threads forks one process each). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

export interface ProcUsage {
  /** Share of one core over the window, in percent. */
  cpu: number;
  /** Peak resident set in the window, MiB. */
  rssMiB: number;
}

/** One named process (or tree) in one window: ticks per pid when first and last seen, the peak RSS of the whole. */
interface Seen {
  ticks: Map<number, { first: number; last: number }>;
  peak: number;
  /** After the window's first sample, a new pid is a process that started inside the window. */
  started: boolean;
}

interface Open {
  startedMs: number;
  seen: Map<string, Seen>;
}

export class ProcessMeter {
  private readonly open = new Set<Open>();
  private readonly timer: NodeJS.Timeout;
  private tree: { at: number; pids: number[] } = { at: 0, pids: [] };

  constructor(private readonly pids: Map<string, number>) {
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  /** Follows one more process; open windows count it from its start (it was just started). */
  add(name: string, pid: number): void {
    this.pids.set(name, pid);
    for (const w of this.open) w.seen.set(name, { ticks: new Map([[pid, { first: 0, last: 0 }]]), peak: 0, started: true });
    this.sample();
  }

  /** Starts a window; its `end()` gives each process's usage over it. */
  window(): { end(): Record<string, ProcUsage> } {
    const w: Open = { startedMs: performance.now(), seen: new Map() };
    for (const name of this.pids.keys()) w.seen.set(name, { ticks: new Map(), peak: 0, started: false });
    this.open.add(w);
    this.sample();
    return {
      end: () => {
        this.sample();
        this.open.delete(w);
        const seconds = Math.max((performance.now() - w.startedMs) / 1000, 0.001);
        const out: Record<string, ProcUsage> = {};
        for (const [name, s] of w.seen) {
          if (s.ticks.size === 0) continue;
          const used = [...s.ticks.values()].reduce((n, t) => n + (t.last - t.first), 0);
          out[name] = { cpu: Math.round((used / TICKS_PER_SECOND / seconds) * 100), rssMiB: Math.round(s.peak / 2 ** 20) };
        }
        return out;
      },
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The application with its stream-thread processes; every other process alone. */
  private members(name: string, pid: number): number[] {
    if (name !== 'app') return [pid];
    if (performance.now() - this.tree.at > TREE_EVERY_MS) this.tree = { at: performance.now(), pids: descendants(pid) };
    return [pid, ...this.tree.pids];
  }

  private sample(): void {
    if (this.open.size === 0) return;
    for (const [name, root] of this.pids) {
      let rss = 0;
      const now = new Map<number, number>();
      for (const pid of this.members(name, root)) {
        const p = readProc(pid);
        if (!p) continue;
        rss += p.rss;
        now.set(pid, p.ticks);
      }
      for (const w of this.open) {
        const s = w.seen.get(name);
        if (!s) continue;
        s.peak = Math.max(s.peak, rss);
        for (const [pid, ticks] of now) {
          const t = s.ticks.get(pid);
          if (t) t.last = ticks;
          // A process first seen after the window's first sample started inside it (a new thread, the load): from zero.
          else s.ticks.set(pid, { first: s.started ? 0 : ticks, last: ticks });
        }
        s.started = true;
      }
    }
  }
}
