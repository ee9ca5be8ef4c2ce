import { strict as assert } from 'node:assert';
import { TransactionState, type TxnState } from '../../../src/runtime/transaction-state';
import { classify, txnError, withRetries } from '../../../src/runtime/txn-errors';

function at(...path: TxnState[]): TransactionState {
  const t = new TransactionState();
  for (const s of path) t.to(s);
  return t;
}

describe('transaction state machine', () => {
  it('walks the normal life: init, begin, commit, begin, abort, close', () => {
    const t = at('initializing', 'ready', 'in_transaction', 'committing', 'ready', 'in_transaction', 'aborting', 'ready', 'closed');
    assert.equal(t.state, 'closed');
  });

  const illegal: [TxnState[], TxnState][] = [
    [[], 'in_transaction'], // begin before initTransactions
    [['initializing', 'ready'], 'committing'], // commit without a transaction
    [['initializing', 'ready', 'in_transaction', 'committing'], 'in_transaction'], // begin during a commit
    [['initializing', 'fatal'], 'ready'], // a fatal producer never recovers
    [['initializing', 'ready', 'closed'], 'ready'], // nothing after close
  ];
  for (const [path, next] of illegal) {
    it(`refuses ${[...(path.length ? path : ['uninitialized'])].at(-1)} → ${next} with SA_ERR_TXN_STATE`, () => {
      const t = at(...path);
      assert.throws(() => t.to(next), { code: 'SA_ERR_TXN_STATE' });
      assert.equal(t.state, path.at(-1) ?? 'uninitialized', 'the state is unchanged');
    });
  }
});

describe('transactional error classes', () => {
  it('classifies librdkafka errors as fatal, abortable or retriable; no flag means fatal', () => {
    assert.equal(classify({ isFatal: true, isTxnRequiresAbort: true }), 'fatal');
    assert.equal(classify({ isTxnRequiresAbort: true }), 'abortable');
    assert.equal(classify({ isRetriable: true }), 'retriable');
    assert.equal(classify(new Error('plain')), 'fatal');
  });

  it('maps them to SA_ERR_TXN_ABORTABLE / SA_ERR_TXN_FATAL with the step that failed', () => {
    const abortable = txnError('commitTransaction', Object.assign(new Error('epoch'), { isTxnRequiresAbort: true }));
    assert.equal(abortable.code, 'SA_ERR_TXN_ABORTABLE');
    assert.match(abortable.message, /^commitTransaction failed: epoch/);
    assert.equal(txnError('initTransactions', Object.assign(new Error('fenced'), { isFatal: true })).code, 'SA_ERR_TXN_FATAL');
  });

  it('retries a retriable call until it succeeds, and gives up on other errors at once', async () => {
    let calls = 0;
    const value = await withRetries('flush', Date.now() + 5_000, async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('timed out'), { isRetriable: true });
      return 'done';
    });
    assert.equal(value, 'done');
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(
      withRetries('flush', Date.now() + 5_000, async () => {
        calls++;
        throw Object.assign(new Error('needs abort'), { isTxnRequiresAbort: true });
      }),
      { code: 'SA_ERR_TXN_ABORTABLE' },
    );
    assert.equal(calls, 1);
  });
});
