/**
 * The configuration schema: every STREAMING_* variable the project reads. A field
 * `fooBar` in section `kafka` is read from STREAMING_KAFKA__FOO_BAR. The README's
 * configuration table is generated from this file (`npm run config -- table`) and a
 * test keeps the two identical.
 */
import { JWT_ALGORITHMS } from '../auth/jwt';
import { registerSecretKeys } from '../logger';
import { PARTITIONERS } from '../partitioner';
import { flag, hostList, httpUrl, integer, oneOf, text, textList, type Field } from './fields';

const TOPIC = { pattern: /^[A-Za-z0-9._-]{1,249}$/, expected: 'a Kafka topic name ([A-Za-z0-9._-], at most 249 characters)' };
const PATH = { expected: 'a path to a readable file' };
/** A name that becomes a folder name: no path separators, and not "." or "..". */
const PLAIN_NAME = { pattern: /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/, expected: 'letters, digits, ".", "_" and "-" (not "." or "..")' };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export { JWT_ALGORITHMS };
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export const QUERY_AUTH = ['jwt', 'off'] as const;
export { PARTITIONERS };

export const schema = {
  kafka: {
    bootstrapServers: hostList({
      doc: 'Kafka brokers to connect to. Unset: the local stack started by `npm run stack -- up`.',
      default: ['127.0.0.1:9092'],
      defaultText: 'the local stack, ["127.0.0.1:<STACK__KAFKA_PORT>", …]',
    }),
    clientId: text({ doc: 'client.id sent to the brokers (shows in broker logs and quotas).', default: 'streaming-analytics' }),
    securityProtocol: oneOf(SECURITY_PROTOCOLS, { doc: 'How to talk to the brokers.', default: 'PLAINTEXT' }),
    saslMechanism: oneOf(SASL_MECHANISMS, { doc: 'SASL mechanism; required with SASL_PLAINTEXT and SASL_SSL.', default: undefined }),
    saslUsername: text({ doc: 'SASL username (PLAIN, SCRAM).', default: undefined }),
    saslPassword: text({ doc: 'SASL password (PLAIN, SCRAM).', default: undefined, secret: true }),
    saslOauthbearerTokenEndpointUrl: httpUrl({ doc: 'OIDC token endpoint (OAUTHBEARER).', default: undefined }),
    saslOauthbearerClientId: text({ doc: 'OIDC client id (OAUTHBEARER).', default: undefined }),
    saslOauthbearerClientSecret: text({ doc: 'OIDC client secret (OAUTHBEARER).', default: undefined, secret: true }),
    saslOauthbearerScope: text({ doc: 'OIDC scope (OAUTHBEARER), optional.', default: undefined }),
    sslCaLocation: text({ ...PATH, doc: 'PEM file of the CA that signed the brokers’ certificates.', default: undefined }),
    sslCertificateLocation: text({ ...PATH, doc: 'PEM client certificate (mutual TLS); needs SSL_KEY_LOCATION.', default: undefined }),
    sslKeyLocation: text({ ...PATH, doc: 'PEM client private key (mutual TLS).', default: undefined }),
    sslKeyPassword: text({ doc: 'Password of the client private key, if it is encrypted.', default: undefined, secret: true }),
    sslEndpointIdentification: flag({ doc: 'Check that the broker certificate matches its host name.', default: true }),
    maxRecordBytes: integer({
      doc: 'Largest record value the Avro and JSON serdes read (bytes; record keys are not capped): a bigger one is refused before it is parsed, and goes to the dead-letter topic (processor) or is skipped and counted (fan-out).',
      default: 1048576,
      min: 1024,
      max: 104857600,
    }),
  },
  schemaRegistry: {
    url: httpUrl({
      doc: 'Confluent-compatible schema registry base URL. Unset: the local stack’s registry.',
      default: 'http://127.0.0.1:8081/apis/ccompat/v7',
      defaultText: 'the local stack, "http://127.0.0.1:<STACK__REGISTRY_PORT>/apis/ccompat/v7"',
    }),
    username: text({ doc: 'Basic-auth user for the registry.', default: undefined }),
    password: text({ doc: 'Basic-auth password for the registry.', default: undefined, secret: true }),
  },
  topics: {
    events: text({ ...TOPIC, doc: 'Input topic of analytics events (Avro).', default: 'analytics-events' }),
    predictions: text({ ...TOPIC, doc: 'Output topic of model predictions.', default: 'ml-predictions' }),
    alerts: text({ ...TOPIC, doc: 'Output topic of alerts.', default: 'streaming-alerts' }),
    metrics: text({ ...TOPIC, doc: 'Output topic of throughput/latency summaries.', default: 'streaming-metrics' }),
    partitions: integer({ doc: 'Partitions of the topics the project creates.', default: 6, min: 1, max: 10000 }),
    replicationFactor: integer({ doc: 'Replication factor of created topics; -1 = the broker default.', default: -1, min: -1, max: 32 }),
  },
  processor: {
    applicationId: text({
      doc: 'Application id of the processor: its consumer group and the prefix of its internal topics.',
      default: 'streaming-analytics',
      pattern: /^[A-Za-z0-9._-]{1,200}$/,
      expected: 'letters, digits, ".", "_" and "-"',
    }),
    instanceId: text({
      doc: 'Stable name of this instance (the StatefulSet pod name); unset: the host name.',
      default: undefined,
      pattern: /^[A-Za-z0-9._-]{1,200}$/,
      expected: 'letters, digits, ".", "_" and "-"',
    }),
    stateDir: text({
      doc: 'Directory of the RocksDB state, checkpoints and downloaded models (in Kubernetes: the persistent volume); unset: streams-state/<APPLICATION_ID>/<instance> under the working directory.',
      default: undefined,
    }),
    closeTimeoutMs: integer({
      doc: "Longest a graceful close (SIGTERM) may take before the Kafka clients are dropped (ms); keep it below the pod's terminationGracePeriodSeconds.",
      default: 20000,
      min: 1000,
      max: 600000,
    }),
    commitIntervalMs: integer({
      doc: 'How often the processor commits (ms): predictions become visible at commits, so lower means lower latency and lower throughput.',
      default: 100,
      min: 10,
      max: 60000,
    }),
    numStreamThreads: integer({
      doc: "Stream threads of the processor, each a process of its own with its own consumer, producer and transactions (Kafka Streams' num.stream.threads); the instance's RocksDB budget is shared among them. More than the CPU cores available, or than the input partitions, gains nothing.",
      default: 1,
      min: 1,
      max: 16,
    }),
    queryHost: text({ doc: 'Address the interactive-query API listens on.', default: '0.0.0.0' }),
    queryPort: integer({ doc: 'Port of the interactive-query API.', default: 8080, min: 1, max: 65535 }),
    queryAuth: oneOf(QUERY_AUTH, {
      doc: 'Who may read stores through the query API: jwt, a bearer token (STREAMING_AUTH__*) whose `stores` claim grants the store; off, anyone who reaches the port (development only: refused unless QUERY_HOST is a loopback address).',
      default: 'jwt',
      defaultText: 'jwt; off when QUERY_HOST is a loopback address',
    }),
    queryAudience: text({
      doc: 'The `aud` query API tokens must carry; required when tokens are verified with a public key or JWKS (see STREAMING_AUTH__ALLOW_ANY_AUDIENCE).',
      default: undefined,
    }),
    advertisedUrl: httpUrl({
      doc: "How other instances reach this one's query API (forwarded queries): http:// or https://, no path. Unset: QUERY_HOST and QUERY_PORT, and for 0.0.0.0 this machine's first non-loopback IPv4 address (the pod IP in Kubernetes; the manifests set the pod's DNS name instead).",
      default: undefined,
    }),
    queryTlsCertFile: text({
      ...PATH,
      doc: 'PEM certificate (chain) of the query API: set with QUERY_TLS_KEY_FILE, the API answers https and the default advertised URL says https. Instances forwarding to it must trust its CA (NODE_EXTRA_CA_CERTS).',
      default: undefined,
    }),
    queryTlsKeyFile: text({ ...PATH, doc: 'PEM private key of QUERY_TLS_CERT_FILE.', default: undefined }),
    adminHost: text({
      doc: 'Address of the admin listener (/healthz, /readyz, /metrics). In Kubernetes 0.0.0.0, so the kubelet and the Prometheus scrape reach it.',
      default: '127.0.0.1',
    }),
    adminPort: integer({ doc: 'Port of the admin listener (/healthz, /readyz, /metrics).', default: 8090, min: 1, max: 65535 }),
    inputPartitioner: oneOf(PARTITIONERS, {
      doc: "How the producers of the input topics place keys: murmur2 (Java clients, Kafka Streams, this project), crc32 (librdkafka's default: node-rdkafka, kcat, the Python and Go clients), unknown (mixed or custom: key look-ups ask every instance). Records that arrive elsewhere are counted (streams_partitioner_mismatch_total) and warned about once.",
      default: 'murmur2',
    }),
  },
  realtimeMl: {
    modelsDir: text({
      doc: 'Directory of model versions: <MODEL_NAME>/<version>/ with model.onnx and metadata.json (when no MLflow registry is set).',
      default: 'models',
    }),
    mlflowTrackingUri: httpUrl({
      doc: 'MLflow tracking server to load the model from (its Model Registry, artifacts proxied); unset: MODELS_DIR.',
      default: undefined,
    }),
    mlflowAlias: text({ doc: 'With MLflow: serve the version behind this alias (unless MODEL_VERSION pins one).', default: 'champion' }),
    modelName: text({ ...PLAIN_NAME, doc: 'The model to serve.', default: 'anomaly-detector' }),
    modelVersion: text({ ...PLAIN_NAME, doc: 'Serve this version; unset: the highest, swapped in when a higher one appears.', default: undefined }),
    pollSeconds: integer({ doc: 'How often to look for a new model version; 0: never.', default: 30, min: 0, max: 86400 }),
    variantVersion: text({
      ...PLAIN_NAME,
      doc: 'A/B: a second version of MODEL_NAME that scores VARIANT_PERCENT % of the entities (stable per entity).',
      default: undefined,
    }),
    variantPercent: integer({ doc: 'A/B: the share of entities VARIANT_VERSION scores, in percent.', default: 0, min: 0, max: 100 }),
    shadowVersion: text({
      ...PLAIN_NAME,
      doc: 'A version of MODEL_NAME scored beside the served one on every window; its answers go to metrics (ml_shadow_*) and SHADOW_TOPIC, never to the predictions topic.',
      default: undefined,
    }),
    shadowTopic: text({ ...TOPIC, doc: "Where the shadow model's predictions go (same schema as ml-predictions); unset: metrics only.", default: undefined }),
    maxBatch: integer({ doc: 'Most records scored in one model call.', default: 512, min: 1, max: 100000 }),
    modelCacheSize: integer({
      doc: 'Model versions kept in the local cache of registry (MLflow) downloads; the oldest beyond it are removed, never one being served.',
      default: 20,
      min: 1,
      max: 1000,
    }),
    maxLatencyMs: integer({
      doc: 'Latency budget of one model call (ms): a call over it is counted (ml_inference_over_budget_total) and the next calls score smaller batches until they fit again (between 1 and MAX_BATCH records).',
      default: 50,
      min: 1,
      max: 60000,
    }),
    maxModelBytes: integer({
      doc: 'Largest model file accepted, on disk or downloaded from the registry (bytes); a larger one is refused before it is read.',
      default: 536870912,
      min: 1024,
      max: 4294967295,
    }),
  },
  websocket: {
    host: text({ doc: 'Address the fan-out tier (WebSocket and dashboard) listens on.', default: '0.0.0.0' }),
    port: integer({ doc: 'Port of the fan-out tier (WebSocket and dashboard).', default: 8765, min: 1, max: 65535 }),
    adminHost: text({
      doc: "Address of the fan-out's admin listener (/healthz, /readyz, /metrics). In Kubernetes 0.0.0.0, so the kubelet and the Prometheus scrape reach it.",
      default: '127.0.0.1',
    }),
    adminPort: integer({ doc: "Port of the fan-out's admin listener.", default: 8766, min: 1, max: 65535 }),
    processes: integer({
      doc: 'Fan-out processes sharing the WebSocket port (SO_REUSEPORT: the kernel spreads connections among them), each reading every topic and keeping its own history, so a client resumes wherever it lands; the first process serves the admin listener for all. More than the CPU cores available gains nothing.',
      default: 1,
      min: 1,
      max: 64,
    }),
    maxConnections: integer({
      doc: 'Open WebSocket connections one fan-out process accepts (with PROCESSES above 1, each of them); beyond it an upgrade gets 503.',
      default: 10000,
      min: 1,
      max: 1000000,
    }),
    maxConnectionsPerIp: integer({
      doc: 'Open connections from one client address, per fan-out process; beyond it an upgrade gets 429.',
      default: 200,
      min: 1,
      max: 1000000,
    }),
    maxPayloadBytes: integer({ doc: 'Largest message a client may send; a bigger one closes the connection (1009).', default: 65536, min: 128, max: 16777216 }),
    messagesPerSecond: integer({
      doc: 'Sustained messages per second a client may send (token bucket); beyond the burst, requests are refused and a flood closes the connection.',
      default: 20,
      min: 1,
      max: 100000,
    }),
    messageBurst: integer({ doc: 'Token-bucket size of the per-connection inbound rate limit.', default: 40, min: 1, max: 100000 }),
    idleTimeoutMs: integer({ doc: 'A connection that has not subscribed within this time is closed (4003).', default: 10000, min: 100, max: 600000 }),
    pingIntervalMs: integer({
      doc: 'How often the server pings; a peer that has not answered the previous ping is terminated.',
      default: 25000,
      min: 100,
      max: 600000,
    }),
    maxBufferedBytes: integer({
      doc: 'Outbound bytes queued for one client before it counts as slow: predictions and alerts disconnect it (4008), metrics drop the oldest.',
      default: 1048576,
      min: 1024,
      max: 1073741824,
    }),
    historyPerPartition: integer({
      doc: 'Records kept in memory per partition for resume; older positions are read back from Kafka.',
      default: 10000,
      min: 0,
      max: 10000000,
    }),
    jwtAudience: text({
      doc: 'The `aud` fan-out tokens must carry; required when tokens are verified with a public key or JWKS (see STREAMING_AUTH__ALLOW_ANY_AUDIENCE).',
      default: undefined,
    }),
    tokenGraceSeconds: integer({
      doc: 'After a token expires on an open connection: seconds to send a fresh one (`refresh`) before the connection is closed (4001).',
      default: 30,
      min: 0,
      max: 3600,
    }),
    allowedOrigins: textList({
      doc: "Origins browsers may connect from; unset: only the fan-out's own origin. Connections without an Origin header (non-browser clients) are not affected.",
      default: [],
      defaultText: '(own origin only)',
      item: /^(https?:\/\/[^\s/]+|\*)$/,
      expected: 'origins like https://dash.example.com, or *',
    }),
    devTokens: flag({
      doc: 'Development only: GET /dev/token issues tokens signed with STREAMING_AUTH__JWT_SECRET for any channel (what the dashboard of `npm start` uses). Refused unless HOST is a loopback address; requests must name a loopback host.',
      default: false,
    }),
    trustedProxies: textList({
      doc: 'Reverse proxies (an ingress) whose X-Forwarded-For is believed, so the per-address connection limit counts the client behind them: IP addresses or CIDR ranges. Unset: none, the peer address of the socket counts.',
      default: [],
      defaultText: '(none)',
      item: /^[0-9A-Fa-f:.]{2,45}(\/\d{1,3})?$/,
      expected: 'IP addresses or CIDR ranges, e.g. 10.0.0.0/8',
    }),
  },
  auth: {
    jwtAlgorithms: textList({
      doc: 'The JWT algorithms the query API and the fan-out accept (pinned: a token naming another is refused).',
      default: ['HS256'],
      item: /^(HS256|RS256|ES256)$/,
      expected: 'HS256, RS256 and/or ES256',
    }),
    jwtSecret: text({
      doc: 'Shared secret of HS256 tokens (at least 32 bytes).',
      default: undefined,
      secret: true,
      pattern: /^.{32,}$/s,
      expected: 'at least 32 characters',
    }),
    jwtPublicKeyFile: text({ ...PATH, doc: 'PEM public key of RS256/ES256 tokens.', default: undefined }),
    jwksUrl: httpUrl({
      doc: 'JWKS URL of RS256/ES256 keys, by kid: https:// (http:// only on a loopback address); redirects are not followed, an answer may take 5 s and 256 KiB at most; fetched again for an unknown kid (at most every 30 s) and every 10 minutes.',
      default: undefined,
    }),
    jwtIssuer: text({ doc: 'Required `iss` of tokens; unset: not checked.', default: undefined }),
    maxTokenLifetimeSeconds: integer({
      doc: 'Longest lifetime a token may have (exp − iat, s); tokens must carry iat, and a longer-lived one is refused.',
      default: 86400,
      min: 60,
      max: 2592000,
    }),
    allowAnyAudience: flag({
      doc: 'Development only: with a public key or JWKS and no audience set, accept tokens whatever their `aud`. Refused unless the service listens on a loopback address.',
      default: false,
    }),
  },
  monitoring: {
    metricsIntervalSeconds: integer({
      doc: 'Wall-clock interval of the throughput/latency summaries the analytics topology writes to the metrics topic, per task (s).',
      default: 10,
      min: 1,
      max: 3600,
    }),
    enableAutoScaling: flag({
      doc: 'Whether the Helm chart (k8s/helm) gives the fan-out tier a HorizontalPodAutoscaler (its value monitoring.enableAutoScaling sets this variable too). Read by the chart; the processes only validate it.',
      default: false,
    }),
  },
  tracing: {
    otlpEndpoint: httpUrl({
      doc: 'OpenTelemetry: the OTLP/HTTP endpoint (e.g. http://otel-collector:4318) the processor, the fan-out and the generator send spans to, at <url>/v1/traces; the trace context travels in Kafka headers (W3C traceparent). Unset: no tracing.',
      default: undefined,
    }),
    samplePercent: integer({
      doc: 'Share of new traces recorded, in percent (the generator starts one per event); a trace begun by a producer follows its own sampled flag.',
      default: 1,
      min: 0,
      max: 100,
    }),
  },
  generator: {
    rate: integer({ doc: 'Events per second of the generator `npm start` runs beside the processor (local stack only).', default: 200, min: 1, max: 1000000 }),
  },
  log: {
    level: oneOf(LOG_LEVELS, { doc: 'Log level (logs are JSON lines on stdout).', default: 'info' }),
  },
  stack: {
    nodes: integer({ doc: 'Brokers in the local KRaft cluster (each is broker + controller).', default: 1, min: 1, max: 5 }),
    kafkaPort: integer({ doc: 'Client port of local broker 1; broker n listens on this + n - 1.', default: 9092, min: 1024, max: 65000 }),
    controllerPort: integer({ doc: 'Controller port of local node 1; node n uses this + n - 1.', default: 19092, min: 1024, max: 65000 }),
    registryPort: integer({ doc: 'Port of the local schema registry.', default: 8081, min: 1024, max: 65535 }),
    dir: text({
      doc: 'Cache folder for the downloaded jars, broker data and logs (outside git).',
      default: undefined,
      defaultText: '$XDG_CACHE_HOME/streaming-analytics or ~/.cache/streaming-analytics',
    }),
    kafkaVersion: text({
      doc: 'Apache Kafka version fetched from Maven Central.',
      default: '4.1.1',
      pattern: /^4\.\d+\.\d+$/,
      expected: 'an Apache Kafka 4.x version, e.g. 4.1.1',
    }),
    registryVersion: text({
      doc: 'Apicurio Registry version fetched from Maven Central (3.0.x runs on Java 17; later lines need Java 21+).',
      default: '3.0.9',
      pattern: /^3\.0\.\d+$/,
      expected: 'an Apicurio Registry 3.0.x version, e.g. 3.0.9',
    }),
    brokerHeapMb: integer({ doc: 'Java heap of each local broker, MiB.', default: 512, min: 128, max: 16384 }),
  },
} as const satisfies Record<string, Record<string, Field<unknown>>>;

export type Schema = typeof schema;
type Value<F> = F extends Field<infer T> ? T : never;

/** The validated, typed configuration that the rest of the code receives. */
export type Config = {
  readonly [S in keyof Schema]: { readonly [K in keyof Schema[S]]: Value<Schema[S][K]> };
};

const snake = (camel: string): string => camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

// The secret settings are redacted from every log line, by field name and by variable name.
registerSecretKeys(
  Object.entries(schema).flatMap(([section, fields]) =>
    Object.entries(fields)
      .filter(([, f]) => f.secret)
      .flatMap(([key]) => [key, `STREAMING_${snake(section)}__${snake(key)}`]),
  ),
);
