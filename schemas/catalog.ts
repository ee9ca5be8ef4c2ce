/**
 * Which schema belongs to which topic. Subjects follow the TopicNameStrategy
 * (`<topic>-value`), and topic names come from the configuration.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Schema } from 'avsc';
import type { Config } from '../src/config';

export interface SchemaEntry {
  file: string;
  topic: string;
  subject: string;
  schema: Schema;
}

export function loadSchema(file: string): Schema {
  return JSON.parse(readFileSync(join(__dirname, file), 'utf8')) as Schema;
}

export function schemaCatalog(config: Config): SchemaEntry[] {
  const entries: [string, string][] = [['analytics-event.avsc', config.topics.events]];
  return entries.map(([file, topic]) => ({ file, topic, subject: `${topic}-value`, schema: loadSchema(file) }));
}
