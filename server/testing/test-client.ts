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

  notes(channel: string): Msg[] {
    return this.msgs.filter((m) => m.method === 'subscription' && m.params?.channel === channel);
  }

  close(): void {
    this.ws.terminate();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
