/**
 * Error policies (Kafka Streams' exception handlers): small functions that look at a
 * failure and answer 'continue' (skip the record) or 'fail' (stop the task with the
 * error). A record skipped after a deserialization failure goes to the dead-letter
 * topic, when one is configured, with the reason in its headers.
 */
import type { RawRecord } from './internals/task-graph';

export type HandlerResponse = 'continue' | 'fail';

export interface Failure {
  /** The input record being processed when it happened. */
  readonly record: RawRecord;
  readonly error: Error;
  readonly taskId: string;
}

export type DeserializationExceptionHandler = (failure: Failure) => HandlerResponse;
export type ProcessingExceptionHandler = (failure: Failure) => HandlerResponse;
export type ProductionExceptionHandler = (failure: Failure) => HandlerResponse;

export const ExceptionHandlers = {
  continue: (): HandlerResponse => 'continue',
  fail: (): HandlerResponse => 'fail',
};

/** Header names a dead-letter record carries (values are UTF-8 strings). */
export const DLQ_HEADERS = {
  code: 'sa.error.code',
  message: 'sa.error.message',
  topic: 'sa.source.topic',
  partition: 'sa.source.partition',
  offset: 'sa.source.offset',
  timestamp: 'sa.source.timestamp',
  taskId: 'sa.task.id',
} as const;

export function deadLetterHeaders(code: string, failure: Failure): { key: string; value: Buffer }[] {
  const r = failure.record;
  const h = (key: string, value: string | number): { key: string; value: Buffer } => ({ key, value: Buffer.from(String(value), 'utf8') });
  return [
    ...r.headers,
    h(DLQ_HEADERS.code, code),
    h(DLQ_HEADERS.message, failure.error.message),
    h(DLQ_HEADERS.topic, r.topic),
    h(DLQ_HEADERS.partition, r.partition),
    h(DLQ_HEADERS.offset, r.offset),
    h(DLQ_HEADERS.timestamp, r.timestamp),
    h(DLQ_HEADERS.taskId, failure.taskId),
  ];
}
