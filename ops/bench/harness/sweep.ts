/**
 * `--sweep`: latency against offered rate, drawn as an SVG line chart (p50 dashed, p95
 * solid, one colour per side, latency on a log scale) so the knee of each curve shows.
 * Each point is the median over the runs at that rate.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CompareOptions } from './compare';
import type { RunResult } from './run';
import { SIDE_NAMES, type Side } from './sides';
import { spread } from './table';

const COLOURS: Record<Side, string> = { node: '#1f77b4', peer: '#d62728' };
const W = 720;
const H = 420;
const M = { left: 70, right: 20, top: 40, bottom: 50 };

interface Point {
  rate: number;
  p50: number;
  p95: number;
}

export function sweepPoints(results: readonly RunResult[], side: Side): Point[] {
  const mine = results.filter((r) => r.side === side);
  const rates = [...new Set(mine.flatMap((r) => r.latency.map((l) => l.rate)))].sort((a, b) => a - b);
  return rates.map((rate) => {
    const at = mine.map((r) => r.latency.find((l) => l.rate === rate)).filter((l) => l !== undefined);
    return { rate, p50: spread(at.map((l) => l.p50)).median, p95: spread(at.map((l) => l.p95)).median };
  });
}

/** The chart as an SVG document. */
export function sweepSvg(title: string, series: { side: Side; points: Point[] }[]): string {
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p.rate)) * 1.05;
  const lat = all.flatMap((p) => [p.p50, p.p95]).filter((v) => Number.isFinite(v) && v > 0);
  const yMin = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...lat, 10))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...lat, 100)));
  const x = (v: number): number => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number): number =>
    H - M.bottom - ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (H - M.top - M.bottom);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${xmlText(title)}</text>`,
  ];
  for (let d = yMin; d <= yMax; d *= 10) {
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y(d) + 4}" text-anchor="end">${d} ms</text>`,
    );
  }
  const step = niceStep(xMax / 5);
  for (let v = 0; v <= xMax; v += step) {
    out.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" stroke="#999"/>`);
    out.push(`<text x="${x(v)}" y="${H - M.bottom + 16}" text-anchor="middle">${Math.round(v).toLocaleString('en-US')}</text>`);
  }
  out.push(`<text x="${W / 2}" y="${H - 10}" text-anchor="middle">offered events/s</text>`);
  series.forEach((s, i) => {
    for (const [key, dash] of [
      ['p95', ''],
      ['p50', ' stroke-dasharray="5 4"'],
    ] as const) {
      const pts = s.points.filter((p) => Number.isFinite(p[key])).map((p) => `${x(p.rate).toFixed(1)},${y(p[key]).toFixed(1)}`);
      if (pts.length) out.push(`<polyline fill="none" stroke="${COLOURS[s.side]}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
      for (const pt of pts) out.push(`<circle cx="${pt.split(',')[0]}" cy="${pt.split(',')[1]}" r="3" fill="${COLOURS[s.side]}"/>`);
    }
    out.push(`<text x="${M.left + 10}" y="${M.top + 14 + i * 16}" fill="${COLOURS[s.side]}">${xmlText(SIDE_NAMES[s.side])}: p95 solid, p50 dashed</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** 1, 2 or 5 times a power of ten: axis ticks a reader can add up. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
}

const xmlText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function writeSweepChart(o: CompareOptions, results: readonly RunResult[], say: (line: string) => void): string {
  const series = o.sides.map((side) => ({ side, points: sweepPoints(results, side) }));
  for (const s of series)
    say(
      `sweep, ${SIDE_NAMES[s.side]}: ${s.points.map((p) => `${p.rate.toLocaleString('en-US')}/s → p50 ${Math.round(p.p50)} ms, p95 ${Math.round(p.p95)} ms`).join('; ')}`,
    );
  const dir = resolve(__dirname, '..', '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `sweep-${o.scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}.svg`);
  writeFileSync(path, sweepSvg(`${o.scenario}: end-to-end latency against offered rate (${o.threads} stream thread(s))`, series));
  say(`chart: ${path}`);
  return path;
}
