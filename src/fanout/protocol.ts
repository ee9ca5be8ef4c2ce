/**
 * The fan-out's JSON protocol (docs/websocket-protocol.md), after Centrifugo's: requests
 * carry an `id` and get a reply with the same `id` and a `result` or an `error {code,
 * message, temporary}`; pushes carry no `id`; a disconnect says `{code, reason,
 * reconnect}`. A frame may hold several requests, one per line. This module only parses
 * and checks shapes; what a request does is connection.ts's business.
 */
import { ERROR_CATALOGUE, StreamingError, type ErrorCode } from '../errors';

export type Channel = 'predictions' | 'alerts' | 'metrics';

export interface Filter {
  keys?: string[];
  keyPrefix?: string;
  minScore?: number;
}

export type Request =
  | { id: RequestId; method: 'subscribe'; channel: string; filter: Filter; recover: Map<number, number> | undefined }
  | { id: RequestId; method: 'unsubscribe'; channel: string }
  | { id: RequestId; method: 'ping' }
  | { id: RequestId; method: 'refresh'; token: string };

export type RequestId = number | string;

/** Close codes (4000–4999 are the application's); `reconnect` tells a client whether retrying can help. */
export const DISCONNECT = {
  shutdown: { code: 4000, reason: 'shutting down: reconnect to another instance', reconnect: true },
  unauthorized: { code: 4001, reason: 'token expired', reconnect: true },
  badRequests: { code: 4002, reason: 'too many bad requests', reconnect: false },
  idle: { code: 4003, reason: 'no subscription in time', reconnect: true },
  flood: { code: 4029, reason: 'message rate limit exceeded', reconnect: true },
  slow: { code: 4008, reason: 'slow: the outbound buffer is full', reconnect: true },
} as const;

export type Disconnect = (typeof DISCONNECT)[keyof typeof DISCONNECT];

/** A request the protocol refuses: answered to its `id` with the code (an SA_ERR_WS_… one) and the message. */
export class ProtocolError extends StreamingError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly id?: RequestId,
  ) {
    super(code, message);
    this.name = 'ProtocolError';
  }

  toReply(): string {
    return JSON.stringify({
      ...(this.id !== undefined ? { id: this.id } : {}),
      error: { code: this.code, message: this.message, temporary: ERROR_CATALOGUE[this.code].retriable },
    });
  }
}

export const CHANNELS: readonly Channel[] = ['predictions', 'alerts', 'metrics'];

/** `predictions`, `predictions:<model>`, `alerts`, `metrics` → the base channel and the model, if any. */
export function parseChannel(name: string): { base: Channel; model?: string } | undefined {
  const [base, model, ...rest] = name.split(':');
  if (rest.length > 0 || !CHANNELS.includes(base as Channel)) return undefined;
  if (model === undefined) return { base: base as Channel };
  return base === 'predictions' && /^[A-Za-z0-9._-]{1,100}$/.test(model) ? { base, model } : undefined;
}

/**
 * What one request may carry. The payload limit (`maxPayloadBytes`) bounds a frame, but
 * everything in it is parsed before the rate limit counts its lines, and ids and channel
 * names are echoed back in replies: each is bounded on its own.
 */
export const LIMITS = {
  /** Requests (non-empty lines) in one frame; a frame with more is refused whole. */
  linesPerFrame: 100,
  /** Characters of a string `id`. */
  idLength: 256,
  /** Characters of a channel name (`predictions:` and a model name of up to 100). */
  channelLength: 128,
  /** Entries of `filter.keys`. */
  keys: 1000,
  /** Characters of `filter.keyPrefix`: the hub looks a publication's key up once per distinct prefix length (hub.ts). */
  keyPrefixLength: 256,
  /** Partitions named in `recover.positions`. */
  recoverPartitions: 1000,
} as const;

/** Every line of a frame: a request, or the error to answer it with. */
export function parseFrame(text: string): (Request | ProtocolError)[] {
  const lines: string[] = [];
  for (let start = 0; start <= text.length; ) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(start, end);
    if (line.trim().length > 0) {
      if (lines.length === LIMITS.linesPerFrame)
        return [
          new ProtocolError('SA_ERR_WS_BAD_REQUEST', `a frame holds at most ${LIMITS.linesPerFrame} requests, one per line: none of this frame's was run`),
        ];
      lines.push(line);
    }
    start = end + 1;
  }
  return lines.map(parseLine);
}

/** A bad parameter; its message (written here, never an echo of anything unbounded) goes to the client. */
class ParamError extends Error {}

function parseLine(line: string): Request | ProtocolError {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return new ProtocolError('SA_ERR_WS_BAD_REQUEST', 'the message is not valid JSON');
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg))
    return new ProtocolError('SA_ERR_WS_BAD_REQUEST', 'a request is a JSON object {"id", "method", "params"}');
  const { id, method, params = {} } = msg as { id?: unknown; method?: unknown; params?: unknown };
  if (!validId(id)) return new ProtocolError('SA_ERR_WS_BAD_REQUEST', `a request needs an "id": a number, or a string of up to ${LIMITS.idLength} characters`);
  if (params === null || typeof params !== 'object' || Array.isArray(params))
    return new ProtocolError('SA_ERR_WS_BAD_REQUEST', '"params" must be an object', id);
  const p = params as Record<string, unknown>;
  try {
    switch (method) {
      case 'subscribe':
        return { id, method, channel: channelParam(p), filter: filterParam(p.filter), recover: recoverParam(p.recover) };
      case 'unsubscribe':
        return { id, method, channel: channelParam(p) };
      case 'ping':
        return { id, method };
      case 'refresh':
        if (typeof p.token !== 'string' || p.token.length === 0) throw new ParamError('"params.token" must be the new token');
        return { id, method, token: p.token };
      default:
        return new ProtocolError('SA_ERR_WS_UNKNOWN_METHOD', `unknown method ${shown(method)}: use subscribe, unsubscribe, ping or refresh`, id);
    }
  } catch (err) {
    return new ProtocolError('SA_ERR_WS_BAD_REQUEST', err instanceof ParamError ? err.message : "the request's parameters could not be read", id);
  }
}

/** A finite number (JSON's 1e999 parses as Infinity, which a reply could not carry) or a short string. */
function validId(id: unknown): id is RequestId {
  return (typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length <= LIMITS.idLength);
}

/** A value from the request, for an error message: short strings and numbers as JSON, anything else by its type. */
function shown(v: unknown): string {
  if (typeof v === 'string') return v.length <= 40 ? JSON.stringify(v) : `${JSON.stringify(v.slice(0, 40))}…`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v;
}

function channelParam(p: Record<string, unknown>): string {
  if (typeof p.channel !== 'string' || p.channel.length === 0 || p.channel.length > LIMITS.channelLength)
    throw new ParamError('"params.channel" must be a channel name (predictions, predictions:<model>, alerts, metrics)');
  return p.channel;
}

function filterParam(f: unknown): Filter {
  if (f === undefined) return {};
  if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new ParamError('"params.filter" must be an object {keys, keyPrefix, minScore}');
  const { keys, keyPrefix, minScore, ...rest } = f as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new ParamError(
      `unknown filter field(s): ${unknown
        .slice(0, 3)
        .map((k) => (k.length <= 40 ? k : `${k.slice(0, 40)}…`))
        .join(', ')}${unknown.length > 3 ? ', …' : ''}`,
    );
  const out: Filter = {};
  if (keys !== undefined) {
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > LIMITS.keys || !keys.every((k) => typeof k === 'string'))
      throw new ParamError(`"filter.keys" must be 1 to ${LIMITS.keys} strings`);
    out.keys = keys as string[];
  }
  if (keyPrefix !== undefined) {
    if (typeof keyPrefix !== 'string' || keyPrefix.length > LIMITS.keyPrefixLength)
      throw new ParamError(`"filter.keyPrefix" must be a string of up to ${LIMITS.keyPrefixLength} characters`);
    out.keyPrefix = keyPrefix;
  }
  if (minScore !== undefined) {
    if (typeof minScore !== 'number' || !Number.isFinite(minScore)) throw new ParamError('"filter.minScore" must be a number');
    out.minScore = minScore;
  }
  return out;
}

/** `{"positions": {"<partition>": <last offset seen>}}` → partition → next offset wanted. */
function recoverParam(r: unknown): Map<number, number> | undefined {
  if (r === undefined) return undefined;
  const positions = r !== null && typeof r === 'object' && !Array.isArray(r) ? (r as { positions?: unknown }).positions : undefined;
  if (positions === null || typeof positions !== 'object' || Array.isArray(positions))
    throw new ParamError('"params.recover" must be {"positions": {"<partition>": <last offset seen>}}');
  const entries = Object.entries(positions as Record<string, unknown>);
  if (entries.length > LIMITS.recoverPartitions) throw new ParamError(`"recover.positions" names at most ${LIMITS.recoverPartitions} partitions`);
  const out = new Map<number, number>();
  for (const [partition, offset] of entries) {
    // Written as Kafka does ("7", not "07"), so no two keys name the same partition.
    if (!/^(0|[1-9]\d{0,5})$/.test(partition) || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < -1)
      throw new ParamError(`"recover.positions" needs partition numbers mapped to offsets (≥ -1); got ${shown(partition)}: ${shown(offset)}`);
    out.set(Number(partition), offset + 1);
  }
  return out;
}

export function reply(id: RequestId, result: unknown): string {
  return JSON.stringify({ id, result });
}
