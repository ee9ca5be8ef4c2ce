/** The harness's report: one row per run, then each side's median with its spread, and the ratio. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunResult } from './run';
import { SIDE_NAMES, type Side } from './sides';

const n = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x)}` : '–');

export function spread(values: number[]): { median: number; min: number; max: number } {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(v.length / 2);
  return { median: v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2, min: v[0]!, max: v.at(-1)! };
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)];
}

/** One Markdown table of every run: throughput and its CPU/RSS, then latency at each rate. */
export function runTable(results: readonly RunResult[]): string[] {
  const rates = [...new Set(results.flatMap((r) => r.latency.map((l) => l.rate)))];
  const head = ['side', 'run', 'events/s', 'app CPU %', 'app RSS MiB', 'broker CPU %', 'load CPU %', 'commits: n, mean ms, % of time', 'inference p95 ms'];
  for (const rate of rates) head.push(`p50/p95/p99 ms at ${n(rate)}/s`, `app CPU % at ${n(rate)}/s`);
  const rows = results.map((r) => {
    const load = r.procs.load ?? r.procs.harness;
    const row = [
      SIDE_NAMES[r.side],
      String(r.run),
      n(r.eventsPerSecond),
      n(r.procs.app?.cpu ?? NaN),
      n(r.procs.app?.rssMiB ?? NaN),
      n(r.procs.broker?.cpu ?? NaN),
      n(load?.cpu ?? NaN),
      r.commits ? `${r.commits.count}, ${r.commits.meanMs.toFixed(1)}, ${Math.round(r.commits.wallShare * 100)}%` : '–',
      r.inference ? r.inference.p95.toFixed(2) : '–',
    ];
    for (const rate of rates) {
      const l = r.latency.find((x) => x.rate === rate);
      row.push(l ? `${ms(l.p50)}/${ms(l.p95)}/${ms(l.p99)}` : '–', l ? n(l.procs.app?.cpu ?? NaN) : '–');
    }
    return row;
  });
  return table(head, rows);
}

export interface SideSummary {
  side: Side;
  eventsPerSecond: { median: number; min: number; max: number };
  p95ByRate: Record<string, { median: number; min: number; max: number }>;
}

export function summarise(results: readonly RunResult[], sides: readonly Side[]): SideSummary[] {
  return sides.map((side) => {
    const mine = results.filter((r) => r.side === side);
    const p95ByRate: SideSummary['p95ByRate'] = {};
    for (const rate of new Set(mine.flatMap((r) => r.latency.map((l) => l.rate))))
      p95ByRate[rate] = spread(mine.map((r) => r.latency.find((l) => l.rate === rate)?.p95 ?? NaN));
    return { side, eventsPerSecond: spread(mine.map((r) => r.eventsPerSecond)), p95ByRate };
  });
}

/** Lines under the table: each side's median (min–max) and, with two sides, the ratio of medians and of each pair. */
export function summaryLines(results: readonly RunResult[], sides: readonly Side[]): string[] {
  const out: string[] = [];
  const sums = summarise(results, sides);
  for (const s of sums) {
    const e = s.eventsPerSecond;
    const lat = Object.entries(s.p95ByRate).map(([rate, p]) => `p95 at ${n(Number(rate))}/s ${ms(p.median)} ms (${ms(p.min)}–${ms(p.max)})`);
    out.push(
      `${SIDE_NAMES[s.side]}: ${n(e.median)} events/s median (${n(e.min)}–${n(e.max)}) over ${results.filter((r) => r.side === s.side).length} runs${lat.length ? `; ${lat.join('; ')}` : ''}`,
    );
  }
  if (sums.length === 2) {
    const [a, b] = sums as [SideSummary, SideSummary];
    const pairs = [...new Set(results.map((r) => r.run))]
      .map((run) => {
        const x = results.find((r) => r.run === run && r.side === a.side);
        const y = results.find((r) => r.run === run && r.side === b.side);
        return x && y ? x.eventsPerSecond / y.eventsPerSecond : NaN;
      })
      .filter(Number.isFinite);
    const p = spread(pairs);
    out.push(
      `ratio ${SIDE_NAMES[a.side]} / ${SIDE_NAMES[b.side]}: ${(a.eventsPerSecond.median / b.eventsPerSecond.median).toFixed(2)}× throughput (medians); run by run ${p.min.toFixed(2)}×–${p.max.toFixed(2)}×`,
    );
  }
  return out;
}

/** Writes the report as JSON under bench/results/; returns the path. */
export function writeJson(name: string, report: object): string {
  const dir = resolve(__dirname, '..', '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
