/** Bybit protocol of the local server, checked with the Bybit client's own parsers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server.ts';
import { Conn } from '../../testing/venue-test-conn.ts';
import { parseBybitInstruments, parseBybitMessage, type BybitMessage } from '../../../src/feeds/bybit/parse.ts';
import { LevelBook } from '../../../src/feeds/level-book.ts';

const START_MS = Date.UTC(2026, 0, 14, 12, 0, 0);

describe('Bybit on the local server', () => {
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startServer({ source: 'sim', seed: 11, port: 0, startMs: START_MS, log: () => undefined });
    base = server.url.replace(/^http/, 'ws') + '/bybit/v5/public';
  });
  afterAll(async () => server?.close());

  it('pages its own option list through the REST pass-through', async () => {
    const url = (cursor: string | null) => `${server.url}/bybit/rest/v5/market/instruments-info?category=option&baseCoin=BTC&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const names: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 30; i++) {
      const page = parseBybitInstruments(await (await fetch(url(cursor))).json(), 'BTC');
      expect(page.error).toBeNull();
      expect(page.drops).toEqual([]);
      names.push(...page.list.map((x) => x.name));
      expect(page.list.every((x) => x.multiplier === 1)).toBe(true);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(cursor).toBeNull();
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThan(150);
    const all = parseBybitInstruments(await (await fetch(`${server.url}/bybit/rest/v5/market/instruments-info?category=option&baseCoin=BTC&limit=1000`)).json(), 'BTC');
    expect(all.list.length).toBe(names.length);
    expect(all.list.length).toBeLessThan(server.sim!.instruments('BTC').length);
    // both lists: USDC-settled (Deribit-style names) and USDT-settled (`-USDT`)
    const usdt = all.list.filter((x) => x.name.endsWith('-USDT'));
    expect(usdt.length).toBeGreaterThan(20);
    expect(usdt.length).toBeLessThan(all.list.length / 2);
    const bad = await (await fetch(`${server.url}/bybit/rest/v5/market/instruments-info?category=spot`)).json();
    expect(parseBybitInstruments(bad, 'BTC').error).toMatch(/bybit error 10001/);
  });

  it('option socket: pong, COMMAND_RESP with success and fail topics, ticker snapshots of both lists every 100 ms per symbol', async () => {
    const list = parseBybitInstruments(await (await fetch(`${server.url}/bybit/rest/v5/market/instruments-info?category=option&baseCoin=ETH&limit=1000`)).json(), 'ETH').list;
    const c = await Conn.open(`${base}/option`);
    c.ws.send('{"req_id":"ping","op":"ping"}');
    expect(parseBybitMessage(JSON.parse(await c.wait((t) => t.includes('"pong"'))))).toEqual({ kind: 'pong' });
    const topics = [...list.filter((i) => !i.name.endsWith('-USDT')).slice(0, 10), ...list.filter((i) => i.name.endsWith('-USDT')).slice(0, 10)].map((i) => `tickers.${i.name}`);
    c.ws.send(JSON.stringify({ req_id: 's1', op: 'subscribe', args: [...topics, 'tickers.ETH-1JAN30-1-C'] }));
    const ack = parseBybitMessage(JSON.parse(await c.wait((t) => t.includes('COMMAND_RESP'))));
    expect(ack).toEqual({ kind: 'subscribed', success: topics, failed: ['tickers.ETH-1JAN30-1-C'] });
    const got = new Map<string, BybitMessage>();
    await c.wait((t) => {
      const m = parseBybitMessage(JSON.parse(t));
      if (m.kind === 'option') got.set(m.update.name, m);
      return got.size === 20;
    }, 5_000);
    const spot = server.sim!.index('ETH');
    for (const m of got.values()) {
      if (m.kind !== 'option') throw new Error('x');
      expect(m.update.markIv).toBeGreaterThan(0.1);
      expect(m.update.openInterest).toBeGreaterThanOrEqual(0);
      expect(m.forward!.forward / spot).toBeGreaterThan(0.98);
      expect(Math.abs(m.indexPrice! / spot - 1)).toBeLessThan(0.01);
    }
    // Bybit's push frequency for options: 100 ms per symbol. Over 2 s, about 20 frames each.
    const from = c.frames.length;
    await new Promise((r) => setTimeout(r, 2_000));
    const per = new Map<string, number>();
    for (const t of c.frames.slice(from)) {
      const m = parseBybitMessage(JSON.parse(t));
      if (m.kind === 'option') per.set(m.update.name, (per.get(m.update.name) ?? 0) + 1);
    }
    expect(per.size).toBe(20);
    for (const n of per.values()) expect(n).toBeGreaterThanOrEqual(14);
    c.ws.close();
  });

  it('linear socket: pong, ack, ticker snapshot then deltas, book snapshot then deltas that stay uncrossed', async () => {
    const c = await Conn.open(`${base}/linear`);
    c.ws.send('{"req_id":"ping","op":"ping"}');
    expect(parseBybitMessage(JSON.parse(await c.wait((t) => t.includes('"ret_msg":"pong"'))))).toEqual({ kind: 'pong' });
    c.ws.send(JSON.stringify({ req_id: 's', op: 'subscribe', args: ['tickers.BTCUSDT', 'orderbook.200.BTCUSDT'] }));
    expect(parseBybitMessage(JSON.parse(await c.wait((t) => t.includes('"op":"subscribe"'))))).toEqual({ kind: 'subscribed', success: [], failed: [] });
    const msgs = () => c.frames.map((t) => parseBybitMessage(JSON.parse(t)));
    await c.wait(() => msgs().filter((m) => m.kind === 'book' && !m.snapshot).length >= 5, 5_000);
    const tickers = msgs().filter((m) => m.kind === 'linearTicker');
    expect(tickers[0]).toMatchObject({ kind: 'linearTicker', symbol: 'BTCUSDT', snapshot: true });
    if (tickers[0].kind === 'linearTicker') {
      expect(tickers[0].fields.funding8h).toBeDefined();
      // one side (singleOpenInterest) and both sides (openInterest), as Bybit sends them since 2026-06
      expect(tickers[0].fields.openInterestCoin).toBeGreaterThan(0);
      expect(tickers[0].fields.openInterestBothSides).toBeCloseTo(2 * tickers[0].fields.openInterestCoin!, 6);
    }
    expect(tickers.some((m) => m.kind === 'linearTicker' && !m.snapshot)).toBe(true);
    const book = new LevelBook();
    for (const m of msgs()) {
      if (m.kind !== 'book') continue;
      if (m.snapshot) book.clear();
      for (const [p, s] of m.bids) book.apply('bid', p, s);
      for (const [p, s] of m.asks) book.apply('ask', p, s);
      expect(book.bids()[0].price).toBeLessThan(book.asks()[0].price);
    }
    expect(book.bids().length).toBeGreaterThan(20);
    c.ws.send(JSON.stringify({ op: 'subscribe', args: ['orderbook.7.BTCUSDT'] }));
    expect(parseBybitMessage(JSON.parse(await c.wait((t) => t.includes('"success":false'))))).toMatchObject({ kind: 'error' });
    c.ws.close();
  });

  it('badNumbers puts absurd values in option tickers that the parser drops', async () => {
    const list = parseBybitInstruments(await (await fetch(`${server.url}/bybit/rest/v5/market/instruments-info?category=option&baseCoin=BTC&limit=1000`)).json(), 'BTC').list;
    const c = await Conn.open(`${base}/option`);
    c.ws.send(JSON.stringify({ op: 'subscribe', args: list.slice(0, 50).map((i) => `tickers.${i.name}`) }));
    await fetch(`${server.url}/__sim/fault`, { method: 'POST', body: JSON.stringify({ kind: 'badNumbers', venue: 'bybit' }) });
    await c.wait(() => c.frames.filter((t) => parseBybitMessage(JSON.parse(t)).kind === 'dropped').length >= 3, 5_000);
    await fetch(`${server.url}/__sim/clear`, { method: 'POST' });
    c.ws.close();
  });
});
