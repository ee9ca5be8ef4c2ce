/**
 * Which schema belongs to which topic. Subjects follow the TopicNameStrategy
 * (`<topic>-value`), and topic names come from the configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Schema } from 'avsc';
import type { Config } from '../src/config';

export interface SchemaEntry {
  file: string;
  topic: string;
  subject: string;
  schema: Schema;
}

/** The .avsc files stay in schemas/; compiled code runs from dist/schemas/ and looks there. */
const SCHEMA_DIR = existsSync(join(__dirname, 'analytics-event.avsc')) ? __dirname : join(__dirname, '..', '..', 'schemas');

export function loadSchema(file: string): Schema {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as Schema;
}

export function schemaCatalog(config: Config): SchemaEntry[] {
  const entries: [string, string][] = [
    ['analytics-event.avsc', config.topics.events],
    ['ml-prediction.avsc', config.topics.predictions],
    ['streaming-alert.avsc', config.topics.alerts],
  ];
  return entries.map(([file, topic]) => ({ file, topic, subject: `${topic}-value`, schema: loadSchema(file) }));
}
