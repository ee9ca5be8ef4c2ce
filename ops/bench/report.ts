/** Small helpers for benchmark reports. */

export function percentiles(values: number[], ps: number[]): number[] {
  if (values.length === 0) return ps.map(() => NaN);
  const sorted = [...values].sort((a, b) => a - b);
  return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number | undefined;
}

/** Top functions by self time (share of samples) from a V8 CPU profile. */
export function summariseProfile(profile: { nodes: ProfileNode[]; samples?: number[] | undefined }, top: number): string[] {
  const hits = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const count = n.hitCount ?? 0;
    total += count;
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*\/(node_modules\/[^/]+|src|ops)\//, '$1/')}:${n.callFrame.lineNumber + 1}` : '(native)';
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`;
    hits.set(key, (hits.get(key) ?? 0) + count);
  }
  return [...hits.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${((v / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%  ${k}`);
}
