import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOGUE, StreamingError } from '../../src/errors';

const DOC = join(__dirname, '..', '..', 'docs', 'errors.md');

function documented(): Map<string, boolean> {
  const rows = new Map<string, boolean>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\| `(SA_ERR_[A-Z_]+)` \| (yes|no) \|/.exec(line);
    if (m) rows.set(m[1]!, m[2] === 'yes');
  }
  return rows;
}

describe('error catalogue', () => {
  it('docs/errors.md and the code list the same codes, with the same retriable flag', () => {
    const inCode = new Map(Object.entries(ERROR_CATALOGUE).map(([code, e]) => [code, e.retriable]));
    assert.deepEqual([...documented().entries()].sort(), [...inCode.entries()].sort());
  });

  it('StreamingError carries code, retriable, hint and cause, and prints without a stack', () => {
    const cause = new Error('boom');
    const err = new StreamingError('SA_ERR_STACK_FETCH_FAILED', 'Maven failed', { hint: 'retry', cause });
    assert.equal(err.code, 'SA_ERR_STACK_FETCH_FAILED');
    assert.equal(err.retriable, true);
    assert.equal(err.cause, cause);
    assert.equal(err.toUserText(), 'SA_ERR_STACK_FETCH_FAILED: Maven failed\n  → retry');
    assert.equal(new StreamingError('SA_ERR_USAGE', 'x', { retriable: true }).retriable, true, 'an explicit flag wins');
  });
});
