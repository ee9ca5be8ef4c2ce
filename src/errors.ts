/**
 * One root error class for the whole project. Every error a user can see carries a
 * stable `code` (documented in docs/errors.md, checked by a test), whether retrying
 * can help, and a hint that says what to do about it.
 */

export const ERROR_CATALOGUE = {
  SA_ERR_CONFIG_INVALID: { retriable: false, summary: 'One or more STREAMING_* variables are invalid.' },
  SA_ERR_STACK_TOOL_MISSING: { retriable: false, summary: 'Java, Maven or Python is not installed.' },
  SA_ERR_STACK_PORT_IN_USE: { retriable: false, summary: 'A port the local stack needs is taken by another program.' },
  SA_ERR_STACK_FETCH_FAILED: { retriable: true, summary: 'Maven could not fetch the broker or registry jars.' },
  SA_ERR_STACK_START_FAILED: { retriable: true, summary: 'The local broker or registry exited or did not become ready.' },
  SA_ERR_STACK_TOPICS_FAILED: { retriable: true, summary: 'The local stack could not create its topics, or prune could not delete some.' },
  SA_ERR_USAGE: { retriable: false, summary: 'A command-line tool was called with unknown arguments, or for something it does not do here.' },
  SA_ERR_BENCH: { retriable: false, summary: 'A benchmark could not run: a side failed to build or start, or the two sides computed different outputs.' },
  SA_ERR_SETUP: { retriable: false, summary: 'A program npm start or npm test needs (Java, Maven, Chromium, promtool, helm, Python venv) is not installed.' },
  SA_ERR_STREAMS_CONFIG: { retriable: false, summary: 'Streams options (application id, …) are invalid.' },
  SA_ERR_TOPOLOGY_INVALID: { retriable: false, summary: 'The topology was built wrongly (duplicate names, reused builder, …).' },
  SA_ERR_DESERIALIZATION: { retriable: false, summary: 'An input record could not be deserialized.' },
  SA_ERR_SERDE: { retriable: false, summary: 'A serde could not turn bytes into a value or a value into bytes (SerdeError).' },
  SA_ERR_PROCESSING_FAILED: { retriable: false, summary: 'A processor threw while processing a record.' },
  SA_ERR_PRODUCTION_FAILED: { retriable: false, summary: 'An output record could not be serialized or written.' },
  SA_ERR_TXN_ABORTABLE: { retriable: true, summary: 'A transaction must be aborted; its input is re-processed.' },
  SA_ERR_TXN_FATAL: { retriable: true, summary: 'The transactional producer failed fatally (e.g. fenced); it is rebuilt.' },
  SA_ERR_TXN_STATE: { retriable: false, summary: 'An illegal transaction state transition (a runtime bug).' },
  SA_ERR_SCHEMA_REGISTRY_UNAVAILABLE: { retriable: true, summary: 'The schema registry did not answer; the processor waits for it, not ready meanwhile.' },
  SA_ERR_SCHEMA_REGISTRATION: { retriable: false, summary: 'A schema could not be registered (incompatible, or the registry is unreachable).' },
  SA_ERR_KAFKA_UNREACHABLE: { retriable: true, summary: 'No Kafka broker answered at the configured bootstrap servers.' },
  SA_ERR_STREAMS_STATE: { retriable: false, summary: 'A KafkaStreams call that its current state does not allow.' },
  SA_ERR_RESTORE_FAILED: { retriable: true, summary: 'A state store could not be restored from its changelog topic.' },
  SA_ERR_STATE_DIR: { retriable: false, summary: 'The state directory (RocksDB) cannot be opened or written.' },
  SA_ERR_QUERY_BAD_REQUEST: { retriable: false, summary: 'An interactive query with a bad parameter.' },
  SA_ERR_QUERY_UNKNOWN_STORE: { retriable: false, summary: 'An interactive query for a store the topology does not have.' },
  SA_ERR_QUERY_NOT_FOUND: { retriable: false, summary: 'An interactive query for a key the store does not hold.' },
  SA_ERR_QUERY_UNAVAILABLE: { retriable: true, summary: 'A store cannot be queried right now (restoring, rebalancing, or its owner is unreachable).' },
  SA_ERR_QUERY_UNAUTHORIZED: { retriable: false, summary: 'A query without a valid bearer token (missing, bad signature, expired, wrong audience).' },
  SA_ERR_TOKEN_REFUSED: { retriable: false, summary: 'verifyJwt refused a token (TokenError); the query API and the fan-out answer it as their own 401.' },
  SA_ERR_QUERY_FORBIDDEN: {
    retriable: false,
    summary: 'A query for a store the token does not grant, or for a non-loopback host on an open (development) API.',
  },
  SA_ERR_QUERY_AMBIGUOUS: { retriable: false, summary: 'A key has values in more than one partition: its input was written with different partitioners.' },
  SA_ERR_STORE_NOT_LOADED: { retriable: false, summary: 'A RocksDB store was read for a key the batch did not load first.' },
  SA_ERR_MODEL_NOT_FOUND: { retriable: false, summary: 'A model directory lacks model.onnx or metadata.json.' },
  SA_ERR_MODEL_INVALID: { retriable: false, summary: 'A model or its metadata cannot be used (damaged file, bad metadata, wrong signature).' },
  SA_ERR_MODEL_REGISTRY_UNAVAILABLE: { retriable: true, summary: 'The model registry (MLflow) did not answer, or its circuit breaker is open.' },
  SA_ERR_INFERENCE_FAILED: { retriable: false, summary: 'Scoring a batch with a model failed.' },
  SA_ERR_EVENT_INVALID: { retriable: false, summary: 'An analytics event cannot be used (no key, a bad event time or value): dead-letter reason.' },
  SA_ERR_FEATURES_INVALID: { retriable: false, summary: "A record's features are missing, not finite, or outside their valid range (dead-letter reason)." },
  SA_ERR_WS_UNAUTHORIZED: { retriable: false, summary: "A WebSocket client's token is missing, invalid or expired (401 at the upgrade, close 4001 later)." },
  SA_ERR_WS_ORIGIN_FORBIDDEN: { retriable: false, summary: 'A browser connected from an origin the fan-out tier does not allow (403).' },
  SA_ERR_WS_TOO_MANY_CONNECTIONS: { retriable: true, summary: "The fan-out process (503) or the client's address (429) holds as many connections as allowed." },
  SA_ERR_WS_BAD_REQUEST: { retriable: false, summary: 'A WebSocket message that is not valid JSON or has bad parameters.' },
  SA_ERR_WS_UNKNOWN_METHOD: { retriable: false, summary: 'A WebSocket request with a method the protocol does not have.' },
  SA_ERR_WS_UNKNOWN_CHANNEL: { retriable: false, summary: 'A subscription to a channel that does not exist.' },
  SA_ERR_WS_FORBIDDEN: { retriable: false, summary: 'A subscription to a channel or key prefix the token does not permit.' },
  SA_ERR_WS_SUBSCRIPTION: { retriable: false, summary: 'Subscribing to a channel already subscribed, or unsubscribing from one that is not.' },
  SA_ERR_WS_RATE_LIMITED: { retriable: true, summary: 'A WebSocket client sent more messages than its rate limit allows.' },
  SA_ERR_WS_BUSY: {
    retriable: true,
    summary: 'A resume was refused at once: too many resumes are waiting to read Kafka on the connection or the fan-out instance.',
  },
  SA_ERR_WS_UNAVAILABLE: { retriable: true, summary: 'The fan-out tier cannot answer now (shutting down, or Kafka did not answer a resume).' },
  SA_ERR_FANOUT_PROCESS: { retriable: true, summary: 'One of the fan-out processes (STREAMING_WEBSOCKET__PROCESSES) failed to start, went silent or exited.' },
} as const satisfies Record<string, { retriable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface StreamingErrorOptions {
  /** What the user can do about it; printed after the message. */
  hint?: string;
  cause?: unknown;
  retriable?: boolean;
}

export class StreamingError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: StreamingErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamingError';
    this.code = code;
    this.hint = options.hint;
    this.retriable = options.retriable ?? ERROR_CATALOGUE[code].retriable;
  }

  /** One or two human lines, never a stack trace: what CLIs print before exiting. */
  toUserText(): string {
    const head = `${this.code}: ${this.message}`;
    return this.hint ? `${head}\n  → ${this.hint}` : head;
  }
}

export function isStreamingError(value: unknown): value is StreamingError {
  return value instanceof StreamingError;
}
