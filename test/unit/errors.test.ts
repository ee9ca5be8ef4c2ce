import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenError } from '../../src/auth/jwt';
import { ERROR_CATALOGUE, isStreamingError, StreamingError } from '../../src/errors';
import { ProtocolError } from '../../src/fanout/protocol';
import { BadKey } from '../../src/query/text';
import { SerdeError } from '../../src/serdes';

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

  it("the library's own error classes are StreamingErrors with catalogued codes, and still their own classes", () => {
    const cases: [StreamingError, abstract new (...args: never[]) => StreamingError, string][] = [
      [new TokenError('the token expired'), TokenError, 'SA_ERR_TOKEN_REFUSED'],
      [new SerdeError('Long', 'a Long must be 8 bytes'), SerdeError, 'SA_ERR_SERDE'],
      [new BadKey('"x" is not a whole number'), BadKey, 'SA_ERR_QUERY_BAD_REQUEST'],
      [new ProtocolError('SA_ERR_WS_FORBIDDEN', 'the token does not permit channel "alerts"', 7), ProtocolError, 'SA_ERR_WS_FORBIDDEN'],
    ];
    for (const [err, type, code] of cases) {
      assert.ok(isStreamingError(err) && err instanceof StreamingError, `${type.name} is a StreamingError`);
      assert.ok(err instanceof type && err instanceof Error);
      assert.equal(err.code, code);
      assert.ok(code in ERROR_CATALOGUE, `${code} is catalogued`);
      assert.equal(err.name, type.name, 'stack traces and logs still name the class');
      assert.equal(err.retriable, ERROR_CATALOGUE[err.code].retriable);
      assert.equal(err.toUserText().split('\n')[0], `${code}: ${err.message}`);
    }
  });

  it('the fields callers read stay: SerdeError.serde, ProtocolError.id and its reply on the wire', () => {
    const cause = new Error('registry down');
    const serde = new SerdeError('Avro(ml-prediction)', 'cannot fetch schema id 9', { cause, retriable: true });
    assert.equal(serde.serde, 'Avro(ml-prediction)');
    assert.equal(serde.cause, cause);
    assert.equal(serde.retriable, true, 'a registry that did not answer is retried');
    const refused = new ProtocolError('SA_ERR_WS_RATE_LIMITED', 'slow down', 'req-1');
    assert.equal(refused.id, 'req-1');
    assert.deepEqual(JSON.parse(refused.toReply()), { id: 'req-1', error: { code: 'SA_ERR_WS_RATE_LIMITED', message: 'slow down', temporary: true } });
    assert.deepEqual(JSON.parse(new ProtocolError('SA_ERR_WS_BAD_REQUEST', 'the message is not valid JSON').toReply()), {
      error: { code: 'SA_ERR_WS_BAD_REQUEST', message: 'the message is not valid JSON', temporary: false },
    });
  });
});
