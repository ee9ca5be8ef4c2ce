/** A WebSocket test client of the fan-out protocol: requests with ids, pushes collected, how it closed. */
import WebSocket from 'ws';

export interface Refused {
  status: number;
  body: { error?: { code: string; message: string; hint: string } };
}

export interface Push {
  channel: string;
  pub: { topic: string; partition: number; offset: number; key: string | null; timestamp: number; data: Record<string, unknown> };
}

export interface ConnectOptions {
  token?: string;
  headers?: Record<string, string>;
  protocols?: string[];
  localAddress?: string;
  query?: string;
}

type Message = {
  id?: number | string;
  result?: Record<string, unknown>;
  error?: { code: string; message: string; temporary: boolean };
  push?: Record<string, unknown>;
  disconnect?: { code: number; reason: string; reconnect: boolean };
};

export class WsTestClient {
  readonly messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private nextId = 1;
  private readonly waiting = new Map<number, (m: Message) => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      for (const line of d.toString().split('\n')) {
        if (line.length === 0) continue;
        const m = JSON.parse(line) as Message;
        this.messages.push(m);
        if (typeof m.id === 'number') this.waiting.get(m.id)?.(m);
      }
    });
    this.closed = new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  private static open(url: string, o: ConnectOptions): WebSocket {
    const headers = { ...(o.headers ?? {}), ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}) };
    return new WebSocket(`${url}${o.query ?? ''}`, o.protocols ?? [], { headers, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
  }

  static connect(url: string, o: ConnectOptions = {}): Promise<WsTestClient> {
    const ws = WsTestClient.open(url, o);
    const client = new WsTestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** An upgrade expected to be refused: its HTTP status and JSON body. */
  static refused(url: string, o: ConnectOptions = {}): Promise<Refused> {
    const ws = WsTestClient.open(url, o);
    return new Promise((resolve, reject) => {
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
      ws.once('error', () => undefined);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body ? (JSON.parse(body) as Refused['body']) : {} }));
      });
    });
  }

  request(method: string, params?: object): Promise<Message> {
    const id = this.nextId++;
    const reply = new Promise<Message>((resolve) => this.waiting.set(id, resolve));
    this.ws.send(JSON.stringify({ id, method, ...(params ? { params } : {}) }));
    return reply;
  }

  pushes(channel?: string): Push[] {
    return this.messages
      .filter((m) => m.push && 'pub' in m.push && (channel === undefined || m.push.channel === channel))
      .map((m) => m.push as unknown as Push);
  }

  async waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}
