/**
 * The OKX, Bybit and Binance trade tapes on the simulator (issue 13): each venue's live trade channel
 * as a subscribed socket gets it, its recent-trades REST method answers with the same trades, in the
 * venue's field names and units, and /__gexdesk/info counts the REST requests per venue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conn } from '../testing/venue-test-conn.ts';
import { startServer, type RunningServer } from '../server.ts';

const START_MS = Date.UTC(2026, 0, 14, 12, 0, 0);
type Row = Record<string, unknown>;

describe('trade tapes of OKX, Bybit and Binance', () => {
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startServer({ source: 'sim', seed: 7, port: 0, startMs: START_MS, speed: 20, trades: { tradesPerMinute: 120 }, log: () => undefined });
    base = server.url.replace(/^http/, 'ws');
  });
  afterAll(async () => server?.close());
  const get = async (path: string) => (await fetch(server.url + path)).json();
  const info = async () => ((await get('/__gexdesk/info')) as { tradeHistoryRequests: Record<string, number> }).tradeHistoryRequests;

  it('OKX: option-trades by family, one trade per push (sz contracts, side = taker), and the latest 100 over REST', async () => {
    const c = await Conn.open(`${base}/okx/ws/v5/public`);
    c.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'option-trades', instType: 'OPTION', instFamily: 'BTC-USD' }, { channel: 'option-trades', instFamily: 'DOGE-USD' }] }));
    await c.wait((t) => t.includes('"event":"error"') && t.includes('60018'));
    const rows: Row[] = [];
    await c.wait((t) => {
      const m = JSON.parse(t) as { arg?: Row; data?: Row[] };
      if (m.arg?.channel === 'option-trades' && m.data) {
        expect(m.data.length).toBe(1);
        rows.push(m.data[0]);
      }
      return rows.length >= 3;
    }, 20_000);
    for (const r of rows) {
      expect(r).toMatchObject({ instFamily: 'BTC-USD', instId: expect.stringMatching(/^BTC-USD-\d{6}-\d+-[CP]$/), tradeId: expect.any(String), side: expect.stringMatching(/^(buy|sell)$/), optType: expect.stringMatching(/^[CP]$/), ts: expect.any(String) });
      expect(Number.isInteger(Number(r.sz)) && Number(r.sz) > 0).toBe(true); // whole contracts
      expect(Number(r.fillVol)).toBeGreaterThan(0.05); // decimal IV
      expect(Number(r.fillVol)).toBeLessThan(5);
    }
    const before = (await info()).okx;
    const rest = (await get('/okx/rest/api/v5/public/option-trades?instFamily=BTC-USD')) as { code: string; data: Row[] };
    expect(rest.code).toBe('0');
    expect(rest.data.length).toBe(100);
    const ts = rest.data.map((r) => Number(r.ts));
    expect([...ts].sort((a, b) => b - a)).toEqual(ts); // newest first
    const ids = new Set(rest.data.map((r) => r.tradeId));
    expect(rows.filter((r) => ids.has(r.tradeId)).length).toBeGreaterThan(0);
    const puts = (await get('/okx/rest/api/v5/public/option-trades?instFamily=BTC-USD&optType=P')) as { data: Row[] };
    expect(puts.data.every((r) => r.optType === 'P')).toBe(true);
    expect((await info()).okx).toBe(before + 2);
    c.ws.close();
  });

  it('Bybit: publicTrade.BTC on the option socket (S = taker side, v coin, BT block), and recent-trade over REST', async () => {
    const c = await Conn.open(`${base}/bybit/v5/public/option`);
    c.ws.send(JSON.stringify({ op: 'subscribe', args: ['publicTrade.BTC'] }));
    const ack = JSON.parse(await c.wait((t) => t.includes('COMMAND_RESP'))) as { data: { successTopics: string[] } };
    expect(ack.data.successTopics).toEqual(['publicTrade.BTC']);
    const rows: Row[] = [];
    await c.wait((t) => {
      const m = JSON.parse(t) as { topic?: string; data?: Row[]; type?: string };
      if (m.topic === 'publicTrade.BTC') {
        expect(m.type).toBe('snapshot');
        rows.push(...m.data!);
      }
      return rows.length >= 3;
    }, 20_000);
    for (const r of rows) {
      expect(r).toMatchObject({ s: expect.stringMatching(/^BTC-/), S: expect.stringMatching(/^(Buy|Sell)$/), i: expect.any(String), T: expect.any(Number), BT: expect.any(Boolean) });
      expect(Math.abs(Number(r.v) * 100 - Math.round(Number(r.v) * 100))).toBeLessThan(1e-6); // lots of 0.01 BTC
    }
    expect(rows.map((r) => r.T as number)).toEqual(rows.map((r) => r.T as number).sort((a, b) => a - b));
    const before = (await info()).bybit;
    const rest = (await get('/bybit/rest/v5/market/recent-trade?category=option&baseCoin=BTC&limit=1000')) as { retCode: number; result: { list: Row[] } };
    expect(rest.retCode).toBe(0);
    const ids = new Set(rest.result.list.map((r) => r.execId));
    for (const r of rows) expect(ids.has(r.i)).toBe(true);
    expect(rest.result.list[0]).toMatchObject({ symbol: expect.any(String), side: expect.stringMatching(/^(Buy|Sell)$/), size: expect.any(String), time: expect.any(String), isBlockTrade: expect.any(Boolean) });
    const bad = (await get('/bybit/rest/v5/market/recent-trade?category=option&baseCoin=BTC&limit=1001')) as { retCode: number };
    expect(bad.retCode).toBe(10001);
    expect((await info()).bybit).toBe(before + 1);
    c.ws.close();
  });

  it('Binance: btcusdt@optionTrade on /public (taker = m ? sell : buy, X MARKET|BLOCK), /eapi/v1/trades per symbol', async () => {
    const c = await Conn.open(`${base}/binance/public/stream`);
    c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@optionTrade'], id: 1 }));
    await c.wait((t) => t.includes('"id":1'));
    const rows: Row[] = [];
    await c.wait((t) => {
      const m = JSON.parse(t) as { stream?: string; data?: Row };
      if (m.stream === 'btcusdt@optionTrade') rows.push(m.data!);
      return rows.length >= 3;
    }, 20_000);
    for (const r of rows) {
      expect(r).toMatchObject({ e: 'trade', s: expect.stringMatching(/^BTC-\d{6}-\d+-[CP]$/), t: expect.any(Number), q: expect.any(String), X: expect.stringMatching(/^(MARKET|BLOCK)$/), m: expect.any(Boolean) });
      expect(r.S).toBe(r.m ? 'SELL' : 'BUY');
      expect(Number(r.q)).toBeGreaterThan(0);
    }
    const market = rows.find((r) => r.X === 'MARKET')!;
    const before = (await info()).binance;
    const rest = (await get(`/binance/rest/eapi/v1/trades?symbol=${String(market.s)}&limit=500`)) as Row[];
    const hit = rest.find((r) => r.tradeId === market.t);
    expect(hit).toMatchObject({ symbol: market.s, side: market.m ? -1 : 1, qty: market.q });
    expect(rest.map((r) => r.time as number)).toEqual(rest.map((r) => r.time as number).sort((a, b) => a - b)); // oldest first
    const unknown = await fetch(`${server.url}/binance/rest/eapi/v1/trades?symbol=BTC-1-2-C`);
    expect(unknown.status).toBe(400);
    expect((await info()).binance).toBe(before + 1);
    c.ws.close();
  });
});
