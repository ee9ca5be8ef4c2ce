/**
 * librdkafka's transactional errors fall into three classes, and each has one answer:
 * retriable → call again; abortable → abort, rewind, carry on; fatal → rebuild the
 * producer (Kafka Streams: "task migrated"). An error that carries no flag is fatal.
 */
import type { KafkaClientError } from '../kafka';
import { StreamingError } from '../errors';

export type TxnErrorClass = 'retriable' | 'abortable' | 'fatal';

export function classify(err: unknown): TxnErrorClass {
  const e = err as Partial<KafkaClientError>;
  if (e.isFatal) return 'fatal';
  if (e.isTxnRequiresAbort) return 'abortable';
  if (e.isRetriable) return 'retriable';
  return 'fatal';
}

export function txnError(
  step: string,
  err: unknown,
  cls: Exclude<TxnErrorClass, 'retriable'> = classify(err) === 'abortable' ? 'abortable' : 'fatal',
): StreamingError {
  const message = err instanceof Error ? err.message : String(err);
  return cls === 'abortable'
    ? new StreamingError('SA_ERR_TXN_ABORTABLE', `${step} failed: ${message}; the transaction is aborted and its input re-processed`, { cause: err })
    : new StreamingError('SA_ERR_TXN_FATAL', `${step} failed: ${message}; the producer is rebuilt and the tasks restart from their committed offsets`, {
        cause: err,
      });
}

/** Runs a librdkafka call, repeating it while its error is retriable, until the deadline. */
export async function withRetries<T>(step: string, deadlineMs: number, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (classify(err) !== 'retriable' || Date.now() + backoff(attempt) > deadlineMs) throw txnError(step, err);
      await new Promise((r) => setTimeout(r, backoff(attempt)));
    }
  }
}

function backoff(attempt: number): number {
  return Math.min(1000, 50 * 2 ** attempt);
}
