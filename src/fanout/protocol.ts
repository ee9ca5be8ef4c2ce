/**
 * The fan-out's JSON protocol (docs/websocket-protocol.md), after Centrifugo's: requests
 * carry an `id` and get a reply with the same `id` and a `result` or an `error {code,
 * message, temporary}`; pushes carry no `id`; a disconnect says `{code, reason,
 * reconnect}`. A frame may hold several requests, one per line. This module only parses
 * and checks shapes; what a request does is connection.ts's business.
 */
import { ERROR_CATALOGUE, type ErrorCode } from '../errors';

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

export class ProtocolError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly id?: RequestId) {
    super(message);
  }

  toReply(): string {
    return JSON.stringify({ ...(this.id !== undefined ? { id: this.id } : {}), error: { code: this.code, message: this.message, temporary: ERROR_CATALOGUE[this.code].retriable } });
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

/** Every line of a frame: a request, or the error to answer it with. */
export function parseFrame(text: string): (Request | ProtocolError)[] {
  return text.split('\n').filter((l) => l.trim().length > 0).map(parseLine);
}

function parseLine(line: string): Request | ProtocolError {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return new ProtocolError('SA_ERR_WS_BAD_REQUEST', 'the message is not valid JSON');
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return new ProtocolError('SA_ERR_WS_BAD_REQUEST', 'a request is a JSON object {"id", "method", "params"}');
  const { id, method, params = {} } = msg as { id?: unknown; method?: unknown; params?: unknown };
  if (typeof id !== 'number' && typeof id !== 'string') return new ProtocolError('SA_ERR_WS_BAD_REQUEST', 'a request needs an "id" (number or string)');
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return new ProtocolError('SA_ERR_WS_BAD_REQUEST', '"params" must be an object', id);
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
        if (typeof p.token !== 'string' || p.token.length === 0) throw new Error('"params.token" must be the new token');
        return { id, method, token: p.token };
      default:
        return new ProtocolError('SA_ERR_WS_UNKNOWN_METHOD', `unknown method ${JSON.stringify(method)}: use subscribe, unsubscribe, ping or refresh`, id);
    }
  } catch (err) {
    return new ProtocolError('SA_ERR_WS_BAD_REQUEST', (err as Error).message, id);
  }
}

function channelParam(p: Record<string, unknown>): string {
  if (typeof p.channel !== 'string' || p.channel.length === 0) throw new Error('"params.channel" must be a channel name (predictions, predictions:<model>, alerts, metrics)');
  return p.channel;
}

function filterParam(f: unknown): Filter {
  if (f === undefined) return {};
  if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new Error('"params.filter" must be an object {keys, keyPrefix, minScore}');
  const { keys, keyPrefix, minScore, ...rest } = f as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new Error(`unknown filter field(s): ${Object.keys(rest).join(', ')}`);
  const out: Filter = {};
  if (keys !== undefined) {
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > 1000 || !keys.every((k) => typeof k === 'string')) throw new Error('"filter.keys" must be 1 to 1000 strings');
    out.keys = keys as string[];
  }
  if (keyPrefix !== undefined) {
    if (typeof keyPrefix !== 'string') throw new Error('"filter.keyPrefix" must be a string');
    out.keyPrefix = keyPrefix;
  }
  if (minScore !== undefined) {
    if (typeof minScore !== 'number' || !Number.isFinite(minScore)) throw new Error('"filter.minScore" must be a number');
    out.minScore = minScore;
  }
  return out;
}

/** `{"positions": {"<partition>": <last offset seen>}}` → partition → next offset wanted. */
function recoverParam(r: unknown): Map<number, number> | undefined {
  if (r === undefined) return undefined;
  const positions = (r as { positions?: unknown } | null)?.positions;
  if (positions === null || typeof positions !== 'object' || Array.isArray(positions)) throw new Error('"params.recover" must be {"positions": {"<partition>": <last offset seen>}}');
  const out = new Map<number, number>();
  for (const [partition, offset] of Object.entries(positions as Record<string, unknown>)) {
    if (!/^\d{1,6}$/.test(partition) || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < -1) throw new Error(`"recover.positions" needs partition numbers mapped to offsets (≥ -1); got ${JSON.stringify(partition)}: ${JSON.stringify(offset)}`);
    out.set(Number(partition), offset + 1);
  }
  return out;
}

export function reply(id: RequestId, result: unknown): string {
  return JSON.stringify({ id, result });
}
