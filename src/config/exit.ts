import { ConfigError, loadConfig } from './load';
import type { Config } from './schema';

/**
 * For entry points: load the configuration, or print one line per bad variable to
 * stderr and exit with status 2. Never a stack trace.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.toUserText().split('\n')[0]}:\n`);
    for (const line of err.lines()) process.stderr.write(`  ${line}\n`);
    process.stderr.write(`  → ${err.hint}\n`);
    process.exit(2);
  }
}
