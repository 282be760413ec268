/** A small websocket client for the venue protocol tests (OKX, Bybit, Binance); not shipped. */
import WebSocket from 'ws';
import { pingRoundTrip } from './test-client.ts';

export class Conn {
  readonly frames: string[] = [];
  private waiters: { pred: (t: string) => boolean; resolve: (t: string) => void }[] = [];
  readonly closed: Promise<number>;
  constructor(readonly ws: WebSocket) {
    this.closed = new Promise((r) => ws.on('close', (c) => r(c)));
    ws.on('message', (d) => {
      const t = d.toString();
      this.frames.push(t);
      this.waiters = this.waiters.filter((w) => (w.pred(t) ? (w.resolve(t), false) : true));
    });
    ws.on('error', () => undefined);
  }
  static open(url: string): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const c = new Conn(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }
  /** Every frame the server sent before it read this call's ping has arrived (see `pingRoundTrip`). */
  flushed(timeoutMs?: number): Promise<void> {
    return pingRoundTrip(this.ws, timeoutMs);
  }
  wait(pred: (t: string) => boolean, ms = 5_000): Promise<string> {
    const hit = this.frames.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout')), ms);
      this.waiters.push({ pred, resolve: (t) => (clearTimeout(timer), resolve(t)) });
    });
  }
}
