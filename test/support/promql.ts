/**
 * What a PromQL expression reads: the metric names, and the labels it matches on or
 * groups by — enough to check that rules and dashboards use metrics the services export
 * (test/integration/metrics-contract.test.ts). Not a PromQL parser: quoted strings,
 * ranges, numbers and function calls are removed, and what is left are names.
 */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
/** Labels the scrape adds (target labels), not the services. */
const TARGET_LABELS = new Set(['pod', 'instance', 'job', 'namespace', 'service', 'container', 'endpoint']);

export interface PromqlUse {
  metrics: string[];
  /** Labels per metric from its matchers, e.g. per="batch" on ml_inference_duration_ms_count. */
  matchers: Map<string, string[]>;
  /** Labels in by (…) / without (…) / on (…): at least one metric of the expression must have each. */
  grouping: string[];
}

export function promqlUse(expr: string): PromqlUse {
  let text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, ' ');
  const matchers = new Map<string, string[]>();
  text = text.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\{([^}]*)\}/g, (_m, name: string | undefined, body: string) => {
    const labels = body
      .split(',')
      .map((p) => p.trim().split(/\s*(?:=~|!=|!~|=)\s*/)[0]!)
      .filter(Boolean);
    if (name) matchers.set(name, [...(matchers.get(name) ?? []), ...labels]);
    return ` ${name ?? ''} `;
  });
  const grouping: string[] = [];
  text = text.replace(/\b(by|without|on|ignoring)\s*\(([^)]*)\)/g, (_m, _k, body: string) => {
    grouping.push(
      ...body
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    );
    return ' ';
  });
  const metrics = new Set<string>();
  for (const m of text.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase()) || /^\d/.test(name!)) continue;
    metrics.add(name!);
  }
  return { metrics: [...metrics], matchers, grouping: grouping.filter((l) => l !== 'le' && !TARGET_LABELS.has(l)) };
}

/** The `expr:` values of a Prometheus rules file (single-line, or a `|` block). */
export function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (m[2] !== '|' && m[2] !== '>') {
      out.push(m[2]!);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > m[1]!.length)) block.push(lines[++i]!.trim());
    out.push(block.join(' '));
  }
  return out;
}

export const isTargetLabel = (label: string): boolean => TARGET_LABELS.has(label);
