/** Small Deribit JSON-RPC client for the server's tests (not shipped to the app). */
import WebSocket from 'ws';

export interface Msg {
  [k: string]: unknown;
  id?: number;
  method?: string;
  params?: { channel?: string; data?: unknown; type?: string };
  result?: unknown;
  error?: { code: number; message: string };
}

export class TestClient {
  readonly msgs: Msg[] = [];
  readonly raw: (string | Buffer)[] = [];
  private nextId = 1;
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  answerTestRequests = true;

  constructor(readonly ws: WebSocket) {
    this.closed = new Promise((r) => ws.on('close', (code) => r((this.closeCode = code))));
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? (data as Buffer) : data.toString();
      this.raw.push(text);
      if (isBinary) return;
      let m: Msg;
      try {
        m = JSON.parse(text as string);
      } catch {
        return;
      }
      if (typeof m !== 'object' || m === null) return;
      this.msgs.push(m);
      if (m.method === 'heartbeat' && m.params?.type === 'test_request' && this.answerTestRequests) void this.call('public/test', {});
      this.waiters = this.waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
    });
    ws.on('error', () => undefined);
  }

  static connect(url: string, headers?: Record<string, string>): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false });
      const c = new TestClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<Msg> {
    const id = this.nextId++;
    this.send({ jsonrpc: '2.0', id, method, params });
    return this.waitFor((m) => m.id === id);
  }

  waitFor(pred: (m: Msg) => boolean, timeoutMs = 5000): Promise<Msg> {
    const hit = this.msgs.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error('timeout waiting for message'));
      }, timeoutMs).unref();
    });
  }

  /** Every frame the server sent before it read this call's ping has arrived (see `pingRoundTrip`). */
  flushed(timeoutMs?: number): Promise<void> {
    return pingRoundTrip(this.ws, timeoutMs);
  }

  notes(channel: string): Msg[] {
    return this.msgs.filter((m) => m.method === 'subscription' && m.params?.channel === channel);
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * A websocket ping and its pong: a barrier on the server's stream. The server's `ws` answers a ping
 * itself, in order after every frame it already queued and under every fault (`silent` included), so
 * once the pong is in, every frame sent before the server read the ping has arrived. A test that must
 * see "nothing after the switch" starts counting here instead of after a sleep for frames in flight.
 */
export function pingRoundTrip(ws: WebSocket, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout waiting for pong')), timeoutMs);
    ws.once('pong', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.ping();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
