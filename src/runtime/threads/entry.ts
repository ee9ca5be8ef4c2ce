/** The program a stream thread's process runs: the main script, unless streamThreadEntry names another. */
import { StreamingError } from '../../errors';
import type { ThreadEntry } from './host';

export function threadEntry(file: string | undefined): ThreadEntry {
  const program = file ?? process.argv[1];
  if (!program)
    throw new StreamingError(
      'SA_ERR_STREAMS_CONFIG',
      'numStreamThreads above 1 needs a program file to run in each stream thread, and this process has none (node -e, a REPL)',
      {
        hint: 'run the program from a file, or give streamThreadEntry: the file that builds and starts this KafkaStreams',
      },
    );
  return {
    file: program,
    args: file === undefined ? process.argv.slice(2) : [],
    // The inspector's port cannot be shared by several processes.
    execArgv: process.execArgv.filter((a) => !/^--inspect(-brk|-port|-wait)?(=|$)/.test(a)),
  };
}
