import type { Field } from './fields';
import { envName } from './load';
import { schema, type Config } from './schema';

function escapeCell(cell: string): string {
  return cell.replace(/\|/g, '\\|');
}

/** The README's configuration table, generated from the schema. */
export function configTable(): string {
  const rows = ['| Variable | Default | Accepts | Meaning |', '|---|---|---|---|'];
  for (const [section, fields] of Object.entries(schema)) {
    for (const [key, field] of Object.entries(fields) as [string, Field<unknown>][]) {
      const doc = field.secret ? `${field.doc} Secret: never logged.` : field.doc;
      rows.push(`| \`${envName(section, key)}\` | ${escapeCell(field.defaultText)} | ${escapeCell(field.expected)} | ${escapeCell(doc)} |`);
    }
  }
  return rows.join('\n');
}

/** The effective configuration as `VARIABLE=value` lines, secrets replaced. */
export function describeConfig(config: Config): string[] {
  const lines: string[] = [];
  for (const [section, fields] of Object.entries(schema)) {
    const values = config[section as keyof Config] as Record<string, unknown>;
    for (const [key, field] of Object.entries(fields) as [string, Field<unknown>][]) {
      const value = values[key];
      const shown = value === undefined ? '(unset)' : field.secret ? '(secret, set)' : JSON.stringify(value);
      lines.push(`${envName(section, key)}=${shown}`);
    }
  }
  return lines;
}
