/**
 * Everything the fan-out relies on in `ws` that its documentation does not promise, in
 * one place, so an upgrade of `ws` has one file to check and one test to run
 * (test/unit/fanout/ws-internals.test.ts, which fails naming the internal that changed).
 * Every other file uses only ws's documented API.
 *
 * Relied on (ws 8.x), and why:
 *
 * 1. `WebSocket.Sender.frame(data, options)` — ws's frame builder, exported on the
 *    WebSocket class but absent from its documentation and type declarations. A push
 *    goes to every matching client: framing it once and writing the same bytes to each
 *    socket saves the per-client copy that `send()` makes (websockets/ws#617).
 * 2. `websocket._socket` — the private field holding the connection's net.Socket: a
 *    ready-made frame is written to it directly (one write, no re-framing).
 * 3. Writing to that socket keeps order with ws's own writes — when compression is off
 *    (the server sets `perMessageDeflate: false`) and nothing is sent as a Blob, ws's
 *    sender writes every frame straight to the socket and queues none of its own, so a
 *    direct write cannot overtake, nor be overtaken by, a reply, ping or close.
 * 4. `websocket.bufferedAmount` counts the bytes written directly to the socket: ws
 *    computes it from the socket's own writable buffer (`_socket._writableState.length`),
 *    not only from what passed through `send()`. The slow-client policy reads it.
 * 5. `'drain'` on that socket — emitted when its buffer empties after a write that filled
 *    it — is when metrics held back for a slow client go out (ws has no such event).
 *
 * Tests use (2) on the client side too, pausing a client's socket to make it slow.
 */
import WebSocket from 'ws';

/** The part of a net.Socket the fan-out uses. */
export interface RawSocket {
  write(data: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

type FrameOptions = { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean };
type FrameBuilder = { frame(data: Buffer, options: FrameOptions): Buffer[] };

const TEXT = 1;

/** ws's frame builder (1), or undefined when this version of ws no longer exports it. */
export function frameBuilder(): FrameBuilder | undefined {
  const sender = (WebSocket as unknown as { Sender?: Partial<FrameBuilder> }).Sender;
  return typeof sender?.frame === 'function' ? (sender as FrameBuilder) : undefined;
}

/** One final, unmasked text frame (what a server sends) holding `payload`, header and payload in one buffer. */
export function textFrame(payload: Buffer): Buffer {
  const builder = frameBuilder();
  if (!builder)
    throw new Error(`ws ${wsVersion()} no longer exports WebSocket.Sender.frame, which the fan-out frames pushes with (src/fanout/ws-internals.ts)`);
  return Buffer.concat(builder.frame(payload, { fin: true, opcode: TEXT, mask: false, readOnly: true, rsv1: false }));
}

/** The connection's socket (2), or undefined before it connects, after it closed, or if ws renamed the field. */
export function rawSocket(ws: WebSocket): RawSocket | undefined {
  const socket = (ws as unknown as { _socket?: unknown })._socket;
  return isRawSocket(socket) ? socket : undefined;
}

/**
 * Writes a ready-made frame to the socket (3); returns false when that is not possible
 * (not open, or no socket), so the caller falls back to `send()`.
 */
export function writeRawFrame(ws: WebSocket, frame: Buffer): boolean {
  const socket = rawSocket(ws);
  if (!socket || ws.readyState !== WebSocket.OPEN) return false;
  socket.write(frame);
  return true;
}

/** Bytes queued for the client, those written by writeRawFrame included (4). */
export function queuedBytes(ws: WebSocket): number {
  return ws.bufferedAmount;
}

/** Calls `listener` once when the socket's buffer has drained (5); nothing happens without a socket. */
export function onceDrained(ws: WebSocket, listener: () => void): void {
  rawSocket(ws)?.once('drain', listener);
}

/** The installed ws version, for messages. */
export function wsVersion(): string {
  try {
    return (require('ws/package.json') as { version: string }).version;
  } catch {
    return '(unknown version)';
  }
}

function isRawSocket(value: unknown): value is RawSocket {
  const s = value as Partial<RawSocket> | null | undefined;
  return typeof s?.write === 'function' && typeof s.once === 'function' && typeof s.pause === 'function' && typeof s.resume === 'function';
}
