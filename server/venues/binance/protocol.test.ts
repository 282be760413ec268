/** Binance protocol of the local server, checked with the Binance client's own parser. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server.ts';
import { Conn } from '../../testing/venue-test-conn.ts';
import { parseBinanceExchangeInfo, parseBinanceMessage, type BinanceMessage } from '../../../src/feeds/binance/parse.ts';

const START_MS = Date.UTC(2026, 0, 14, 12, 0, 0);

describe('Binance on the local server', () => {
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startServer({ source: 'sim', seed: 5, port: 0, startMs: START_MS, log: () => undefined });
    base = server.url.replace(/^http/, 'ws') + '/binance';
  });
  afterAll(async () => server?.close());

  it('exchangeInfo lists its own symbols with unit 1', async () => {
    const r = parseBinanceExchangeInfo(await (await fetch(`${server.url}/binance/rest/eapi/v1/exchangeInfo`)).json(), 'BTC');
    expect(r.error).toBeNull();
    expect(r.drops).toEqual([]);
    expect(r.units.size).toBeGreaterThan(50);
    expect(r.units.size).toBeLessThan(server.sim!.instruments('BTC').length);
    expect([...r.units.values()].every((u) => u === 1)).toBe(true);
  });

  it('/market: SUBSCRIBE result, chain marks with index, per-expiry OI, perp mark with funding; errors for bad names', async () => {
    const c = await Conn.open(`${base}/market/stream`);
    c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@optionMarkPrice', '!optionSymbol', 'btcusdt@markPrice@1s', 'btcusdt@depth20@100ms'], id: 1 }));
    expect(parseBinanceMessage(JSON.parse(await c.wait((t) => t.includes('"id":1'))))).toEqual({ kind: 'result', id: 1 });
    const msgs = () => c.frames.map((t) => parseBinanceMessage(JSON.parse(t)));
    const marksT = await c.wait((t) => t.includes('optionMarkPrice'), 5_000);
    const marks = parseBinanceMessage(JSON.parse(marksT)) as Extract<BinanceMessage, { kind: 'marks' }>;
    expect(marks.kind).toBe('marks');
    expect(marks.drops).toEqual([]);
    expect(marks.rows.length).toBeGreaterThan(50);
    const spot = server.sim!.index('BTC');
    expect(Math.abs(marks.index!.price / spot - 1)).toBeLessThan(0.01);
    for (const r of marks.rows) expect(r.update.markIv).toBeGreaterThan(0.1);
    const code = marks.rows[0].name.expiryCode;
    c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [`btcusdt@optionOpenInterest@${code}`], id: 2 }));
    const oi = parseBinanceMessage(JSON.parse(await c.wait((t) => t.includes('optionOpenInterest@'), 6_000))) as Extract<BinanceMessage, { kind: 'openInterest' }>;
    expect(oi.kind).toBe('openInterest');
    expect(oi.drops).toEqual([]);
    expect(oi.updates.length).toBeGreaterThan(4);
    expect(oi.updates.every((u) => u.name.startsWith(`BTC-${code}-`))).toBe(true);
    const mark = msgs().find((m) => m.kind === 'perpMark');
    expect(mark).toMatchObject({ kind: 'perpMark', symbol: 'BTCUSDT' });
    // depth is routed to /public: on /market it stays silent
    expect(c.frames.some((t) => t.includes('@depth20'))).toBe(false);
    c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@nonsense'], id: 3 }));
    expect(parseBinanceMessage(JSON.parse(await c.wait((t) => t.includes('"id":3'))))).toMatchObject({ kind: 'error', code: 2 });
    c.ws.close();
  });

  it('/public: depth20 snapshots uncrossed with 20 levels a side; more than 10 messages a second closes', async () => {
    const c = await Conn.open(`${base}/public/stream`);
    c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['ethusdt@depth20@100ms'], id: 7 }));
    const d = parseBinanceMessage(JSON.parse(await c.wait((t) => t.includes('depthUpdate')))) as Extract<BinanceMessage, { kind: 'depth' }>;
    expect(d.kind).toBe('depth');
    expect(d.bids.length).toBe(20);
    expect(Number(d.bids[0][0])).toBeLessThan(Number(d.asks[0][0]));
    for (let i = 0; i < 12; i++) c.ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 100 + i }));
    expect(await c.closed).toBe(1008);
  });
});
