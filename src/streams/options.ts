/**
 * Options shared by the runtime and the TopologyTestDriver: the application id (which
 * names the consumer group, the transactional ids and the internal topics) and the error
 * policies. The defaults follow Kafka Streams with KIP-1034's dead-letter queue: a record
 * that cannot be read is skipped into `<applicationId>-dlq`; any other failure stops.
 */
import { StreamingError } from '../errors';
import { ExceptionHandlers, type DeserializationExceptionHandler, type ProcessingExceptionHandler, type ProductionExceptionHandler } from './handlers';

export interface StreamsOptions {
  applicationId: string;
  deserializationExceptionHandler?: DeserializationExceptionHandler;
  processingExceptionHandler?: ProcessingExceptionHandler;
  productionExceptionHandler?: ProductionExceptionHandler;
  /** Topic for records skipped by the deserialization handler; null disables it. Default `<applicationId>-dlq`. */
  deadLetterTopic?: string | null;
}

export type ResolvedStreamsOptions = Required<StreamsOptions>;

const APP_ID = /^[A-Za-z0-9._-]{1,200}$/;

export function resolveOptions(options: StreamsOptions): ResolvedStreamsOptions {
  if (!APP_ID.test(options.applicationId ?? '')) {
    throw new StreamingError('SA_ERR_STREAMS_CONFIG', `applicationId ${JSON.stringify(options.applicationId)} is not valid`, {
      hint: 'use 1-200 characters from [A-Za-z0-9._-]: it becomes part of topic names and transactional ids',
    });
  }
  return {
    applicationId: options.applicationId,
    deserializationExceptionHandler: options.deserializationExceptionHandler ?? ExceptionHandlers.continue,
    processingExceptionHandler: options.processingExceptionHandler ?? ExceptionHandlers.fail,
    productionExceptionHandler: options.productionExceptionHandler ?? ExceptionHandlers.fail,
    deadLetterTopic: options.deadLetterTopic === undefined ? `${options.applicationId}-dlq` : options.deadLetterTopic,
  };
}
