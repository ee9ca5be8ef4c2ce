/**
 * The import-direction check: every relative import in src/, state/, topologies/,
 * schemas/ and ops/ must point to its own layer or one below (layers.ts), and reach into
 * a sealed folder only through its index.ts. `npx tsx ops/lint/imports.ts` prints each
 * offence with its line and exits 1; test/unit/architecture.test.ts runs it in `npm test`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { LAYERS, PACKAGE_OWNERS, SEALED } from './layers';

const ROOTS = ['src', 'state', 'topologies', 'schemas', 'ops'];
const SKIP = new Set(['node_modules', 'dist', '.venv', 'dashboard']);
const PACKAGE_IMPORT = /(?:from\s+|import\s+|import\(|require\()'([^.'][^']*)'/g;
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)|require\('(\.[^']+)'\)|(?:^|\n)\s*import\s+'(\.[^']+)'/g;

export interface Offence {
  file: string;
  line: number;
  target: string;
  why: string;
}

const posix = (p: string): string => p.split(sep).join('/');

/** `node-rdkafka/lib/x` → `node-rdkafka`; `@scope/pkg/x` → `@scope/pkg`. */
const packageName = (spec: string): string =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

function layerOf(file: string): number {
  let best = -1;
  let bestLength = -1;
  LAYERS.forEach((layer, i) => {
    for (const p of layer.paths) {
      const hit = file === p || file.startsWith(`${p}/`) || file === `${p}.ts`;
      if (hit && p.length > bestLength) [best, bestLength] = [i, p.length];
    }
  });
  return best;
}

function sourceFiles(root: string, dir: string, out: string[]): string[] {
  for (const name of readdirSync(join(root, dir))) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) sourceFiles(root, path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(posix(path));
  }
  return out;
}

function resolveImport(root: string, from: string, spec: string): string {
  const base = posix(normalize(join(dirname(from), spec)));
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) if (existsSync(join(root, candidate))) return candidate;
  return base;
}

function sealedEntry(file: string, target: string): string | undefined {
  const folder = SEALED.find((f) => target.startsWith(`${f}/`));
  if (!folder || file.startsWith(`${folder}/`) || target === `${folder}/index.ts`) return undefined;
  return folder;
}

/** Every offence in the tree under `root`. */
export function checkImports(root: string): Offence[] {
  const offences: Offence[] = [];
  const files = ROOTS.filter((r) => existsSync(join(root, r))).flatMap((r) => sourceFiles(root, r, []));
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const own = layerOf(file);
    for (const m of text.matchAll(IMPORT)) {
      const target = resolveImport(root, file, (m[1] ?? m[2] ?? m[3] ?? m[4])!);
      const line = text.slice(0, m.index + m[0].length).split('\n').length;
      const theirs = layerOf(target);
      if (own < 0) offences.push({ file, line, target, why: `${file} is in no layer (ops/lint/layers.ts)` });
      else if (theirs > own) offences.push({ file, line, target, why: `points up: ${LAYERS[own]!.name} → ${LAYERS[theirs]!.name}` });
      const folder = sealedEntry(file, target);
      if (folder) offences.push({ file, line, target, why: `reaches past ${folder}/index.ts` });
    }
    for (const m of text.matchAll(PACKAGE_IMPORT)) {
      const owners = PACKAGE_OWNERS[packageName(m[1]!)];
      if (!owners || owners.some((o) => file === o || file.startsWith(`${o}/`))) continue;
      const line = text.slice(0, m.index + m[0].length).split('\n').length;
      offences.push({ file, line, target: m[1]!, why: `only ${owners.join(', ')} may import ${packageName(m[1]!)}` });
    }
  }
  return offences;
}

if (require.main === module) {
  const root = join(__dirname, '..', '..');
  const offences = checkImports(root);
  for (const o of offences) process.stdout.write(`${o.file}:${o.line} → ${o.target}: ${o.why}\n`);
  process.stdout.write(offences.length === 0 ? 'imports: every import points down\n' : `imports: ${offences.length} offences\n`);
  process.exitCode = offences.length === 0 ? 0 : 1;
}
