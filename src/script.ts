/**
 * How to start another of this package's scripts as a child process. From source
 * (`npm start`, the tests) the sibling is a `.ts` file run through tsx; from the build
 * (`node dist/…`, the image) it is the compiled `.js` beside the caller, and tsx — a
 * development dependency — is not there. The caller's own file extension tells which.
 */
import { extname, join } from 'node:path';

/** `[execPath, args]` that run `<dir>/<name>` with the same kind of file as `callerFile`. */
export function scriptCommand(callerFile: string, dir: string, name: string): { command: string; args: string[] } {
  const ext = extname(callerFile);
  const file = join(dir, `${name}${ext}`);
  return { command: process.execPath, args: ext === '.ts' ? ['--import', 'tsx', file] : [file] };
}
