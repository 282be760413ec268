/**
 * The server stays responsive under every attack of the December 2026 security review: a server
 * process (as `npm start` runs it) is attacked in turn, phase by phase, while a well-behaved client of
 * all four venues, connected after each attacker, counts its own frames, and a second client keeps
 * reloading the page. Both must stay normal: each venue's frame rate at least half its quiet rate,
 * every reload answered quickly. The server must stay up, its memory bounded, and its log short (a
 * failure is logged once per cause, never a stack trace a tick).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from './testing/test-client.ts';
import { Conn } from './testing/venue-test-conn.ts';
import { rawRequest } from './testing/raw-http.ts';
import { countOver, sleep, waitFor } from '../test/wait.ts';

const START = Date.parse('2025-03-03T12:00:00Z');
const ROOT = path.resolve(import.meta.dirname, '..');
const PHASE_MS = 2_500;

let child: ChildProcess;
let url = '';
let stderr = '';
let dir = '';

const rssMb = (): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
};
const ws = (p: string) => url.replace('http', 'ws') + p;

/** A client of all four venues that counts the data frames it gets. */
class Meter {
  private readonly deribit: TestClient;
  private readonly conns: Conn[];
  private constructor(deribit: TestClient, conns: Conn[]) {
    this.deribit = deribit;
    this.conns = conns;
  }
  static async open(): Promise<Meter> {
    const d = await TestClient.connect(ws('/deribit/ws/api/v2'));
    await d.call('public/subscribe', { channels: ['deribit_price_index.btc_usd', 'book.BTC-PERPETUAL.100ms'] });
    const okx = await Conn.open(ws('/okx/ws/v5/public'));
    okx.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'index-tickers', instId: 'BTC-USD' }] }));
    const bybit = await Conn.open(ws('/bybit/v5/public/linear'));
    bybit.ws.send(JSON.stringify({ op: 'subscribe', args: ['tickers.BTCUSDT'] }));
    const binance = await Conn.open(ws('/binance/public/stream'));
    binance.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@depth5@100ms'], id: 1 }));
    return new Meter(d, [okx, bybit, binance]);
  }
  counts(): Record<string, number> {
    const [okx, bybit, binance] = this.conns;
    return {
      deribit: this.deribit.msgs.filter((m) => m.method === 'subscription').length,
      okx: okx.frames.filter((t) => t.includes('"idxPx"')).length,
      bybit: bybit.frames.filter((t) => t.includes('"topic":"tickers.BTCUSDT"')).length,
      binance: binance.frames.filter((t) => t.includes('depthUpdate')).length,
    };
  }
  /** Frames a second per venue, measured over a window of `ms` that opens once every venue sends data. */
  async rates(ms: number): Promise<Record<string, number>> {
    await waitFor('a data frame from every venue', () => Object.values(this.counts()).every((n) => n > 0), 10_000);
    const got = await countOver(ms, () => this.counts());
    return Object.fromEntries(Object.entries(got).map(([k, n]) => [k, (n * 1000) / ms]));
  }
  close(): void {
    this.deribit.close();
    for (const c of this.conns) c.ws.terminate();
  }
}

/** Reloads the page (index and its asset) over and over; records each reload's time and failures. */
class Reloader {
  readonly times: number[] = [];
  failures = 0;
  private stopped = false;
  private readonly done: Promise<void>;
  constructor() {
    this.done = (async () => {
      while (!this.stopped) {
        const t = performance.now();
        try {
          const a = await fetch(url + '/', { signal: AbortSignal.timeout(5_000) });
          await a.text();
          const b = await fetch(url + '/assets/app.js', { signal: AbortSignal.timeout(5_000) });
          await b.arrayBuffer();
          if (a.status !== 200 || b.status !== 200) this.failures++;
        } catch {
          this.failures++;
        }
        this.times.push(performance.now() - t);
        await sleep(50); // a reload every ~50 ms: a busy page, not a tight loop that would starve the meter
      }
    })();
  }
  mark(): number {
    return this.times.length;
  }
  /** The slowest reload since `from` (ms) and how many there were. */
  since(from: number): { n: number; worst: number } {
    const t = this.times.slice(from);
    return { n: t.length, worst: Math.max(0, ...t) };
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

const attackers: { close(): void }[] = [];
function paused(c: TestClient | Conn): void {
  (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
}
async function deribitAttacker(): Promise<TestClient> {
  const c = await TestClient.connect(ws('/deribit/ws/api/v2'));
  attackers.push(c);
  return c;
}
async function venueAttacker(p: string): Promise<Conn> {
  const c = await Conn.open(ws(p));
  attackers.push({ close: () => c.ws.terminate() });
  return c;
}

/** Each attack, started before the well-behaved client connects (so it comes after the attacker in every loop over sessions). */
const PHASES: { name: string; attack: () => Promise<void> }[] = [
  {
    name: '4.10-4.14 prototype names on every venue',
    attack: async () => {
      const d = await deribitAttacker();
      for (const n of ['constructor', '__proto__', 'toString']) {
        d.send({ jsonrpc: '2.0', id: 1, method: 'public/ticker', params: { instrument_name: n } });
        d.send({ jsonrpc: '2.0', id: 2, method: 'public/get_index_price', params: { index_name: n } });
        d.send({ jsonrpc: '2.0', id: 3, method: 'public/subscribe', params: { channels: [`book.${n}.100ms`, `deribit_price_index.${n}`, `perpetual.${n}.100ms`, `estimated_expiration_price.${n}`] } });
      }
      const okx = await venueAttacker('/okx/ws/v5/public');
      okx.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'mark-price', instId: 'constructor' }, { channel: 'index-tickers', instId: 'toString' }, { channel: 'books', instId: '__proto__' }] }));
      const bybit = await venueAttacker('/bybit/v5/public/linear');
      bybit.ws.send(JSON.stringify({ op: 'subscribe', args: ['tickers.__proto__', 'orderbook.50.constructor'] }));
      const binance = await venueAttacker('/binance/public/stream');
      binance.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['constructor@markPrice@1s', '__proto__@depth5'], id: 1 }));
    },
  },
  {
    name: '4.17-4.19 floods of malformed frames and bad args',
    attack: async () => {
      for (let i = 0; i < 4; i++) {
        const d = await deribitAttacker();
        for (let k = 0; k < 20_000; k++) d.send(k % 2 ? 'x' : '{}');
      }
      for (const p of ['/okx/ws/v5/public', '/bybit/v5/public/option']) {
        const c = await venueAttacker(p);
        for (let k = 0; k < 20_000; k++) c.ws.send('x');
      }
      const okx = await venueAttacker('/okx/ws/v5/public');
      okx.ws.send(JSON.stringify({ op: 'subscribe', args: Array.from({ length: 34_000 }, () => 1) }));
    },
  },
  {
    name: '4.22 clients that make the server queue and never read',
    attack: async () => {
      for (let i = 0; i < 12; i++) {
        const d = await deribitAttacker();
        paused(d);
        for (let k = 0; k < 30; k++) d.send({ jsonrpc: '2.0', id: k, method: 'public/get_book_summary_by_currency', params: { currency: k % 2 ? 'BTC' : 'ETH', kind: 'option' } });
        for (let k = 0; k < 5_000; k++) d.send('{}');
      }
    },
  },
  {
    name: '4.25 a socket full of channels, not reading',
    attack: async () => {
      const d = await deribitAttacker();
      const names = ((await d.call('public/get_instruments', { currency: 'BTC', kind: 'option' })).result as { instrument_name: string }[]).map((x) => x.instrument_name);
      const groups = ['none', '1', '2', '5', '10'].flatMap((g) => ['1', '10', '20'].flatMap((dp) => ['100ms', 'agg2'].map((iv) => `book.BTC-PERPETUAL.${g}.${dp}.${iv}`)));
      const channels = [...groups, ...names.flatMap((n) => [`ticker.${n}.100ms`, `ticker.${n}.agg2`]), ...Array.from({ length: 3_000 }, (_, i) => `book.BTC-PERPETUAL.${i + 11}.20.100ms`)];
      paused(d);
      for (let i = 0; i < channels.length && i < 10 * 250; i += 250) d.send({ jsonrpc: '2.0', id: i, method: 'public/subscribe', params: { channels: channels.slice(i, i + 250) } });
      const okx = await venueAttacker('/okx/ws/v5/public');
      paused(okx);
      okx.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'opt-summary', instFamily: 'BTC-USD' }, { channel: 'opt-summary', instFamily: 'ETH-USD' }, { channel: 'books', instId: 'BTC-USDT-SWAP' }] }));
    },
  },
  {
    name: '3.10 expireAt far ahead; 4.9 heartbeat overflow; 3.5 rebinding; 2.14 cross-site relay; 1.22 a file that fails to read',
    attack: async () => {
      const post = (body: unknown) => fetch(url + '/__sim/fault', { method: 'POST', headers: { Origin: 'http://localhost:5173' }, body: JSON.stringify(body) });
      expect((await post({ kind: 'expireAt', expiryMs: 4102444800000 })).status).toBe(400);
      const far = (await (await deribitAttacker()).call('public/get_instruments', { currency: 'BTC', kind: 'option' })).result as { expiration_timestamp: number }[];
      expect((await post({ kind: 'expireAt', expiryMs: Math.max(...far.map((r) => r.expiration_timestamp)) })).status).toBe(200);
      const h = await deribitAttacker();
      h.send({ jsonrpc: '2.0', id: 1, method: 'public/set_heartbeat', params: { interval: 3_000_000 } });
      const port = new URL(url).port;
      for (let i = 0; i < 20; i++) {
        await rawRequest(url, { method: 'POST', path: '/__sim/pause', headers: { Host: `rebind.test:${port}`, Origin: `http://rebind.test:${port}` } });
        await fetch(url + '/live/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD', { headers: { 'Sec-Fetch-Site': 'cross-site' } });
        await fetch(url + '/bad.txt').then((r) => r.arrayBuffer()).catch(() => undefined);
      }
    },
  },
];

describe.runIf(process.platform === 'linux')('attacks while a desk watches (review areas 1-4)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gexdesk-attack-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>desk</title>');
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'x'.repeat(300_000));
    symlinkSync('/proc/self/mem', path.join(dir, 'bad.txt'));
    child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--source', 'sim', '--port', '0', '--serve', dir, '--start', String(START)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d) => (stderr += d));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
    });
  });
  afterAll(async () => {
    for (const a of attackers.splice(0)) a.close();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), sleep(1_000)]); // a clean exit, or a second's grace before the kill
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('every attack in turn: each venue keeps at least half its frame rate, reloads stay quick, the server stays up and small', async () => {
    const reloader = new Reloader();
    const quiet = await Meter.open();
    const base = await quiet.rates(PHASE_MS);
    quiet.close();
    const rss0 = rssMb();
    for (const k of Object.keys(base)) expect([k, base[k]]).toEqual([k, expect.any(Number)]);
    expect(base.deribit).toBeGreaterThan(8);
    const report: string[] = [`quiet: ${JSON.stringify(base)}, rss ${rss0.toFixed(0)} MB`];
    let worstRss = rss0;
    for (const phase of PHASES) {
      const from = reloader.mark();
      await phase.attack();
      const meter = await Meter.open();
      const rates = await meter.rates(PHASE_MS);
      meter.close();
      const reloads = reloader.since(from);
      worstRss = Math.max(worstRss, rssMb());
      report.push(`${phase.name}: ${JSON.stringify(Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(v * 10) / 10])))}, ${reloads.n} reloads, worst ${reloads.worst.toFixed(0)} ms, rss ${rssMb().toFixed(0)} MB`);
      for (const k of Object.keys(base)) expect([phase.name, k, rates[k] >= 0.5 * base[k]]).toEqual([phase.name, k, true]);
      expect([phase.name, reloads.n >= 3, reloads.worst < 2_000]).toEqual([phase.name, true, true]);
      expect(child.exitCode).toBeNull();
      for (const a of attackers.splice(0)) a.close();
    }
    await reloader.stop();
    console.log(report.join('\n'));
    expect(reloader.failures).toBe(0);
    expect(worstRss - rss0).toBeLessThan(200);
    // a failure is logged once per cause: the log stays short however long the attacks ran
    expect(stderr.split('\n').filter((l) => l.trim() !== '').length).toBeLessThan(40);
  }, 60_000);
});
