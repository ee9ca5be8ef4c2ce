import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { Socket, type AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { frameBuilder, onceDrained, queuedBytes, rawSocket, textFrame, writeRawFrame, wsVersion } from '../../../src/fanout/ws-internals';

/**
 * Each internal of ws that src/fanout/ws-internals.ts lists, checked on a real server and
 * client on 127.0.0.1, set up as the fan-out sets its server up (compression off). A
 * failure names the internal and the installed ws version: after an upgrade of ws, fix
 * ws-internals.ts (or pin ws) before the fan-out ships.
 */
const broken = (internal: string, what: string): string => `ws ${wsVersion()}: ${internal} — ${what} (src/fanout/ws-internals.ts relies on it)`;

interface Pair {
  wss: WebSocketServer;
  server: WebSocket;
  client: WebSocket;
  messages: string[];
}

async function connectedPair(): Promise<Pair> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const messages: string[] = [];
  client.on('message', (data, isBinary) => messages.push(isBinary ? '(binary)' : (data as Buffer).toString('utf8')));
  const [[server]] = await Promise.all([accepted, once(client, 'open')]);
  return { wss, server, client, messages };
}

async function received(p: Pair, count: number): Promise<string[]> {
  while (p.messages.length < count) await once(p.client, 'message');
  return p.messages;
}

describe(`ws internals the fan-out relies on (ws ${wsVersion()})`, () => {
  let p: Pair;

  beforeEach(async () => {
    p = await connectedPair();
  });

  afterEach(async () => {
    p.client.terminate();
    p.server.terminate();
    await new Promise((resolve) => p.wss.close(resolve));
  });

  it('1. WebSocket.Sender.frame: builds one unmasked text frame that a client reads as the message', async () => {
    assert.ok(frameBuilder(), broken('WebSocket.Sender.frame', 'no longer exported as a function'));
    const frame = textFrame(Buffer.from('framed once'));
    assert.deepEqual([...frame.subarray(0, 2)], [0x81, 11], broken('WebSocket.Sender.frame', 'did not build a final, unmasked text frame header'));
    assert.ok(writeRawFrame(p.server, frame));
    assert.deepEqual(await received(p, 1), ['framed once'], broken('WebSocket.Sender.frame', 'its frame did not reach the client as a text message'));
  });

  it("2. websocket._socket: the open connection's own net.Socket, and none to write to once closed", async () => {
    const serverSocket = rawSocket(p.server);
    const clientSocket = rawSocket(p.client);
    assert.ok(serverSocket instanceof Socket, broken('websocket._socket', 'not a net.Socket on an open server-side connection'));
    assert.ok(clientSocket instanceof Socket, broken('websocket._socket', 'not a net.Socket on an open client'));
    assert.equal(serverSocket.remotePort, clientSocket.localPort, broken('websocket._socket', 'not the socket of this connection'));
    p.server.close();
    await once(p.client, 'close');
    assert.equal(writeRawFrame(p.server, textFrame(Buffer.from('late'))), false, 'a closed connection takes no direct write');
  });

  it("3. with compression off, direct writes keep their place among ws's own sends", async () => {
    p.server.send('1');
    writeRawFrame(p.server, textFrame(Buffer.from('2')));
    p.server.send('3');
    writeRawFrame(p.server, textFrame(Buffer.from('4')));
    assert.deepEqual(await received(p, 4), ['1', '2', '3', '4'], broken("ws's sender", 'holds frames in a queue of its own, so a direct write overtook one'));
  });

  it('4. websocket.bufferedAmount counts the bytes written directly to the socket', () => {
    const socket = rawSocket(p.server) as Socket;
    const frame = textFrame(Buffer.alloc(1_000, 'a'));
    socket.cork(); // keeps the write in the socket's buffer while it is measured
    try {
      const before = queuedBytes(p.server);
      assert.ok(writeRawFrame(p.server, frame));
      assert.equal(queuedBytes(p.server) - before, frame.length, broken('websocket.bufferedAmount', "no longer counts the socket's own writable buffer"));
    } finally {
      socket.uncork();
    }
  });

  it("5. the socket's 'drain': emitted once a client that stopped reading has read everything queued", async () => {
    const socket = rawSocket(p.server)!;
    rawSocket(p.client)!.pause(); // a slow client: the kernel's buffers fill, then the socket's own
    const frame = textFrame(Buffer.alloc(1 << 20, 'x'));
    let written = 0;
    while (written < 1_024) {
      written++;
      if (!socket.write(frame)) break;
    }
    assert.ok(written < 1_024, 'the socket buffered 1 GiB without asking for a drain');
    const drained = new Promise<void>((resolve) => onceDrained(p.server, resolve));
    rawSocket(p.client)!.resume();
    await drained; // mocha's timeout fails the test if 'drain' never comes
    assert.equal((await received(p, written)).length, written, 'the client has every message');
  });
});
