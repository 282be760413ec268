/**
 * Deribit's public trade tape on the simulator (issue 13): the `trades.option.{CURRENCY}.100ms` channel
 * and `public/get_last_trades_by_currency_and_time` over JSON-RPC, checked with the app's own parser.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server.ts';
import { TestClient } from '../../testing/test-client.ts';
import { parseTrades } from '../../../src/feeds/deribit/trades.ts';

const START = Date.parse('2025-03-03T12:00:00Z');
const DAY = 86_400_000;
let srv: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await srv?.close();
  srv = undefined;
});
async function open(opts: Partial<Parameters<typeof startServer>[0]> = {}): Promise<TestClient> {
  srv = await startServer({ source: 'sim', seed: 42, port: 0, startMs: START, ...opts });
  const c = await TestClient.connect(srv.url.replace('http', 'ws') + '/deribit/ws/api/v2');
  clients.push(c);
  return c;
}
type Row = Record<string, unknown>;
type Page = { trades: Row[]; has_more: boolean };
const history = async (c: TestClient, p: Row) => (await c.call('public/get_last_trades_by_currency_and_time', { currency: 'BTC', kind: 'option', ...p })).result as Page;

describe('Deribit trades on the simulator', () => {
  it('the channel carries every option trade of the currency, as public_trade rows the app parses, and history has the same ones', async () => {
    const c = await open({ speed: 20, trades: { tradesPerMinute: 60 } });
    const sub = await c.call('public/subscribe', { channels: ['trades.option.BTC.100ms', 'trades.option.DOGE.100ms', 'trades.option.BTC.agg2'] });
    expect(sub.result).toEqual(['trades.option.BTC.100ms']);
    const got: Row[] = [];
    await c.waitFor((m) => {
      if (m.params?.channel === 'trades.option.BTC.100ms') got.push(...(m.params.data as Row[]));
      return got.length >= 5;
    }, 20_000);
    const dropped: Record<string, number> = {};
    const parsed = parseTrades(got, 'BTC', dropped);
    expect(dropped).toEqual({});
    expect(parsed.length).toBe(got.length);
    for (const r of got) {
      expect(r).toMatchObject({ instrument_name: expect.stringMatching(/^BTC-\w+-\d+-[CP]$/), trade_id: expect.any(String), direction: expect.stringMatching(/^(buy|sell)$/), amount: expect.any(Number), iv: expect.any(Number), price: expect.any(Number), index_price: expect.any(Number), trade_seq: expect.any(Number) });
      // amounts are whole lots of 0.1 BTC (Deribit's min_trade_amount)
      expect(Math.abs((r.amount as number) * 10 - Math.round((r.amount as number) * 10))).toBeLessThan(1e-9);
      if (r.block_trade_id !== undefined) expect(r.amount as number).toBeGreaterThanOrEqual(25);
    }
    const ts = got.map((r) => r.timestamp as number);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    // the history answer holds the very same trades (ids and sides)
    const page = await history(c, { start_timestamp: ts[0], end_timestamp: ts[ts.length - 1], count: 1000, sorting: 'asc' });
    const byId = new Map(page.trades.map((r) => [r.trade_id, r]));
    for (const r of got) expect(byId.get(r.trade_id)).toMatchObject({ instrument_name: r.instrument_name, direction: r.direction, amount: r.amount, timestamp: r.timestamp });
  });

  it('history pages: count, asc and desc, has_more, both boundaries included, nothing ahead of the venue clock; each request counted', async () => {
    const c = await open();
    await fetch(srv!.url + '/__sim/pause', { method: 'POST' });
    const now = srv!.sim!.timeMs;
    // the whole week by pages of 1000, each starting at the last page's last timestamp (repeats counted once)
    const seen = new Map<unknown, Row>();
    let start = now - 7 * DAY;
    let pages = 0;
    let more = true;
    let last = -Infinity;
    while (more) {
      const p = await history(c, { start_timestamp: start, end_timestamp: now, count: 1000, sorting: 'asc' });
      pages++;
      expect(p.trades.length).toBeLessThanOrEqual(1000);
      for (const r of p.trades) {
        expect(r.timestamp as number).toBeGreaterThanOrEqual(Math.max(start, last));
        last = r.timestamp as number;
        seen.set(r.trade_id, r);
      }
      more = p.has_more;
      if (more) expect(p.trades.length).toBe(1000);
      start = p.trades[p.trades.length - 1]?.timestamp as number;
    }
    const all = srv!.sim!.deribitBook.between('BTC', now - 7 * DAY, now);
    expect(all.length).toBeGreaterThan(10_000); // the default knobs: about 2 a minute
    expect(seen.size).toBe(all.length);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(all.length / 1000));
    expect(Math.max(...[...seen.values()].map((r) => r.timestamp as number))).toBeLessThanOrEqual(now);
    // boundaries: a window of exactly one trade's millisecond holds it
    const one = all[Math.floor(all.length / 2)];
    const exact = await history(c, { start_timestamp: one.timestampMs, end_timestamp: one.timestampMs, count: 10, sorting: 'asc' });
    expect(exact.trades.map((r) => r.trade_id)).toContain(String(one.id));
    // count: the first n oldest (asc) or the newest n (desc), has_more says the window holds more
    const asc = await history(c, { start_timestamp: now - DAY, end_timestamp: now, count: 3, sorting: 'asc' });
    const desc = await history(c, { start_timestamp: now - DAY, end_timestamp: now, count: 3, sorting: 'desc' });
    const day = all.filter((t) => t.timestampMs >= now - DAY);
    expect(asc.trades.map((r) => r.trade_id)).toEqual(day.slice(0, 3).map((t) => String(t.id)));
    expect(desc.trades.map((r) => r.trade_id)).toEqual(day.slice(-3).reverse().map((t) => String(t.id)));
    expect(asc.has_more && desc.has_more).toBe(true);
    const dflt = await history(c, { start_timestamp: now - DAY, end_timestamp: now });
    expect(dflt.trades.length).toBe(10); // Deribit's default count
    // nothing ahead of the clock, nothing before the pre-history
    expect((await history(c, { start_timestamp: now + 1, end_timestamp: now + DAY, count: 10 })).trades).toEqual([]);
    expect((await history(c, { start_timestamp: now - 30 * DAY, end_timestamp: now - 9 * DAY, count: 10 })).trades).toEqual([]);
    // bad params: Deribit's invalid-params error, not a crash
    for (const bad of [{ count: 1001 }, { count: 0 }, { sorting: 'up' }, { currency: 'DOGE' }, { start_timestamp: 'x' }]) {
      const r = await c.call('public/get_last_trades_by_currency_and_time', { currency: 'BTC', kind: 'option', ...bad });
      expect(r.error?.code).toBe(-32602);
    }
    const future = (await c.call('public/get_last_trades_by_currency_and_time', { currency: 'BTC', kind: 'future', count: 5 })).result as Page;
    expect(future).toEqual({ trades: [], has_more: false });
    const info = (await (await fetch(srv!.url + '/__gexdesk/info')).json()) as { tradeHistoryRequests: Record<string, number> };
    // the pages, the exact window, asc, desc, default, the two empty windows and kind future; refused ones are not answered
    expect(info.tradeHistoryRequests.deribit).toBe(pages + 7);
    expect(info.tradeHistoryRequests.okx).toBe(0);
  });

  it('the knobs: POST /__sim/trades draws the book anew (info shows them), bad values are a 400', async () => {
    const c = await open();
    await fetch(srv!.url + '/__sim/pause', { method: 'POST' });
    const now = srv!.sim!.timeMs;
    const week = () => srv!.sim!.deribitBook.between('ETH', now - 7 * DAY, now).length;
    const before = week();
    const post = (body: unknown) => fetch(srv!.url + '/__sim/trades', { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ customerMakerShare: 2 })).status).toBe(400);
    expect((await post({ tradesPerMinute: -1 })).status).toBe(400);
    expect((await post([])).status).toBe(400);
    const ok = (await (await post({ tradesPerMinute: 20, customerMakerShare: 0 })).json()) as { trades: Record<string, number> };
    expect(ok.trades).toMatchObject({ tradesPerMinute: 20, customerMakerShare: 0, customerToCustomerShare: 0.1, preHistoryDays: 8 });
    const info = (await (await fetch(srv!.url + '/__gexdesk/info')).json()) as { trades: Record<string, number> };
    expect(info.trades).toEqual(ok.trades);
    expect(week()).toBeGreaterThan(before * 5);
    const page = await history(c, { currency: 'ETH', start_timestamp: now - DAY, end_timestamp: now, count: 1000 });
    expect(page.trades.length).toBe(1000);
    expect((await fetch(srv!.url + '/__gexdesk/book?venue=kraken')).status).toBe(404);
    expect((await fetch(srv!.url + '/__gexdesk/book?venue=okx&currency=DOGE')).status).toBe(400);
    const okx = (await (await fetch(srv!.url + '/__gexdesk/book?venue=okx&currency=ETH')).json()) as { lines: { instrument: string; dealer: number; openInterest: number }[] };
    expect(okx.lines.length).toBeGreaterThan(100);
    for (const l of okx.lines) expect(Math.abs(l.dealer)).toBeLessThanOrEqual(l.openInterest + 1e-9);
  });

  it('history requests spend Deribit credits like any request: a burst past them gets 10028 and the session ends', async () => {
    const c = await open();
    for (let i = 0; i < 105; i++) c.send({ jsonrpc: '2.0', id: 1000 + i, method: 'public/get_last_trades_by_currency_and_time', params: { currency: 'BTC', kind: 'option', count: 1 } });
    const err = await c.waitFor((m) => m.error?.code === 10028);
    expect(err.error?.message).toBe('too_many_requests');
    expect(await c.closed).toBe(1000);
  });
});
