/**
 * Command-line arguments for every CLI of the project, on `node:util`'s parseArgs in
 * strict mode: `--help`/`-h` prints the usage and exits 0 before anything else happens
 * (no CLI starts a service when asked for help); an unknown option, a missing value or a
 * stray argument is a typed SA_ERR_USAGE carrying the usage line as its hint; numbers
 * are checked here, once, so each CLI reads plain typed values.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isStreamingError, StreamingError } from './errors';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CliSpec<O extends Options> {
  /** One line: `usage: npm run x -- …`. */
  usage: string;
  /** What the command does, its commands and options, for `--help`. */
  help: string;
  options: O;
  /** Commands (first positional) the CLI takes; none means no positionals at all. */
  commands?: readonly string[];
}

export interface ParsedCli<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>>['values'];
  command: string | undefined;
}

/** Parses argv; prints help and exits 0 on --help; throws SA_ERR_USAGE on anything else it cannot take. */
export function parseCli<O extends Options>(spec: CliSpec<O>, argv: string[] = process.argv.slice(2)): ParsedCli<O> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${spec.usage}\n\n${spec.help.replace(/^\n+|\s+$/g, '')}\n`);
    process.exit(0);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: spec.options, strict: true, allowPositionals: true });
  } catch (err) {
    throw usageError(spec, err instanceof Error ? err.message.split('\n')[0]!.replace(/\. To specify .*$/, '') : String(err));
  }
  const [command, ...extra] = parsed.positionals;
  if (!spec.commands && command !== undefined) throw usageError(spec, `unexpected argument "${command}"`);
  if (spec.commands && command !== undefined && !spec.commands.includes(command)) throw usageError(spec, `unknown command "${command}"`);
  if (extra.length > 0) throw usageError(spec, `unexpected argument "${extra[0]}"`);
  return { values: parsed.values, command };
}

export function usageError(spec: { usage: string }, message: string): StreamingError {
  return new StreamingError('SA_ERR_USAGE', message, { hint: `${spec.usage} (--help says more)` });
}

/** A whole number option (undefined when not given); refuses anything else with SA_ERR_USAGE. */
export function wholeNumber(spec: { usage: string }, name: string, value: string | boolean | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw usageError(spec, `--${name} needs a whole number${min > 0 ? ` ≥ ${min}` : ''}, not ${String(value)}`);
  return n;
}

/** The end of a CLI that runs to completion: prints a typed error as its user text (no stack trace) and exits; usage errors exit 2. */
export function finishCli(what: string, done: Promise<number | undefined>): void {
  done.then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      process.stderr.write(`${isStreamingError(err) ? err.toUserText() : `${what} failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
      process.exit(isStreamingError(err) && err.code === 'SA_ERR_USAGE' ? 2 : 1);
    },
  );
}
