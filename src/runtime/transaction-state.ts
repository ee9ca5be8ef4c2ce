/**
 * The producer's transaction lifecycle as an explicit state machine. Every call on the
 * transactional producer goes through `to()`, which refuses a transition the table does
 * not allow: a bug surfaces as SA_ERR_TXN_STATE at the faulty call, not as a confusing
 * librdkafka error (or a torn transaction) later.
 *
 *   uninitialized --init--> initializing --> ready
 *   ready --begin--> in_transaction --commit--> committing --> ready
 *   in_transaction | committing --abort--> aborting --> ready
 *   any --(fatal error: fenced, …)--> fatal          any --close--> closed
 */
import { StreamingError } from '../errors';

export type TxnState = 'uninitialized' | 'initializing' | 'ready' | 'in_transaction' | 'committing' | 'aborting' | 'fatal' | 'closed';

const ALLOWED: Readonly<Record<TxnState, readonly TxnState[]>> = {
  uninitialized: ['initializing', 'closed'],
  initializing: ['ready', 'fatal', 'closed'],
  ready: ['in_transaction', 'closed', 'fatal'],
  in_transaction: ['committing', 'aborting', 'fatal', 'closed'],
  committing: ['ready', 'aborting', 'fatal', 'closed'],
  aborting: ['ready', 'fatal', 'closed'],
  fatal: ['closed'],
  closed: [],
};

export class TransactionState {
  private current: TxnState = 'uninitialized';

  get state(): TxnState {
    return this.current;
  }

  is(...states: TxnState[]): boolean {
    return states.includes(this.current);
  }

  to(next: TxnState): void {
    if (!ALLOWED[this.current].includes(next)) {
      throw new StreamingError('SA_ERR_TXN_STATE', `illegal transaction transition ${this.current} → ${next}`, {
        hint: 'this is a bug in the runtime; please report it with the log lines before it',
      });
    }
    this.current = next;
  }
}
