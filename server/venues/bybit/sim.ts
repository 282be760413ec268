/**
 * Bybit's own listing on the shared simulated market, as the source behind the Bybit protocol: option
 * `tickers.{symbol}` snapshots, linear `tickers.{C}USDT` (snapshot + deltas) and
 * `orderbook.{depth}.{C}USDT` (snapshot + deltas), plus the paged REST instrument list
 * (`/bybit/rest/v5/market/instruments-info`).
 *
 * Two option lists per coin, one contract = 1 coin each: USDC-settled options named like Deribit's
 * (`BTC-27DEC24-100000-C`: the simulator's expiries without the third daily and the two farthest
 * quarterlies, every other strike away from the money, open interest ~15 % of Deribit's) and
 * USDT-settled ones (`BTC-27DEC24-100000-C-USDT`: the five nearest expiries, strikes within 8 of the
 * money, open interest ~5 %). Every subscribed option ticker is pushed every 100 ms, as Bybit does
 * ("Push frequency: Derivatives & Options 100ms"), so the client meets the venue's real load.
 */
import type { Currency, MarketSim, OptionDef } from '../../sim/market.ts';
import { VenueChain } from '../chain-subset.ts';
import { VenueTape } from '../venue-tape.ts';
import type { SimTrade, TradeBook } from '../../sim/trade-book.ts';
import { num } from '../format.ts';
import { pushBook } from '../books.ts';
import type { RestAnswer } from '../../http/rest-relay.ts';
import type { VenueHub, VenueSource } from '../hub.ts';
import type { VenueSession } from '../session.ts';
import { BYBIT_LINEAR_PATH, BYBIT_OPTION_PATH } from './protocol.ts';

export const BYBIT_OI_SHARE = 0.15;
export const BYBIT_USDT_OI_SHARE = 0.05;
// a Map: a plain object would answer `constructor` or `__proto__` with its prototype's members
const PERP: ReadonlyMap<string, Currency> = new Map([
  ['BTCUSDT', 'BTC'],
  ['ETHUSDT', 'ETH'],
]);
const BOOK_DEPTHS = new Set(['1', '50', '200', '500']);
/** Bybit's option lot (`qtyStep`), coin. */
const BYBIT_LOT: Record<Currency, number> = { BTC: 0.01, ETH: 0.1 };
const TRADE_TOPICS: ReadonlyMap<string, Currency> = new Map([
  ['publicTrade.BTC', 'BTC'],
  ['publicTrade.ETH', 'ETH'],
]);
const SENTINEL = '987654321.5';

type Level2 = [string, string];

export class BybitSim implements VenueSource {
  readonly chain: VenueChain;
  /** The USDT-settled list (symbols end in `-USDT`). */
  readonly usdtChain: VenueChain;
  private badIdx = 0;
  readonly injected = { badNumbers: 0 };
  /** Bybit's hidden book and tape over both lists (its open interest and `publicTrade.{coin}`). */
  readonly tape: VenueTape;

  get tradeBook(): TradeBook {
    return this.tape.book;
  }

  constructor(
    readonly hub: VenueHub,
    readonly sim: MarketSim,
  ) {
    this.chain = new VenueChain(sim, {
      name: (d) => d.name,
      keepExpiry: (_e, i, all) => i !== 2 && i < all.length - 2,
      keepStrike: (_k, i, _n, atm) => Math.abs(i - atm) <= 6 || i % 2 === 0,
    });
    this.usdtChain = new VenueChain(sim, {
      name: (d) => `${d.name}-USDT`,
      keepExpiry: (_e, i) => i < 5,
      keepStrike: (_k, i, _n, atm) => Math.abs(i - atm) <= 8,
    });
    const lot = (c: Currency) => BYBIT_LOT[c];
    this.tape = new VenueTape(sim, 'bybit', BYBIT_OI_SHARE + BYBIT_USDT_OI_SHARE, [
      { chain: this.chain, name: (d) => d.name, share: BYBIT_OI_SHARE, unitCoin: () => 1, lotUnits: lot },
      { chain: this.usdtChain, name: (d) => `${d.name}-USDT`, share: BYBIT_USDT_OI_SHARE, unitCoin: () => 1, lotUnits: lot },
    ]);
  }

  /** Open interest in coin (= contracts): the sum of its book's longs. */
  oiCoin(d: OptionDef, usdt = false): number {
    return this.tape.openInterest(d.currency, usdt ? `${d.name}-USDT` : d.name);
  }

  /** A listed option symbol of either list, with its option and whether it is USDT-settled. */
  find(symbol: string): { d: OptionDef; usdt: boolean } | undefined {
    const usdt = symbol.endsWith('-USDT');
    const d = (usdt ? this.usdtChain : this.chain).find(symbol);
    return d ? { d, usdt } : undefined;
  }

  serves(t: string, path: string): boolean {
    const parts = t.split('.');
    if (path === BYBIT_OPTION_PATH) return TRADE_TOPICS.has(t) || (parts.length === 2 && parts[0] === 'tickers' && this.find(parts[1]) !== undefined);
    if (parts.length === 2 && parts[0] === 'tickers') return PERP.has(parts[1]);
    return parts.length === 3 && parts[0] === 'orderbook' && BOOK_DEPTHS.has(parts[1]) && PERP.has(parts[2]);
  }

  /** Linear topics start with a snapshot, as on Bybit. */
  subscribed(s: VenueSession, keys: readonly string[]): void {
    if (s.path === BYBIT_LINEAR_PATH) for (const t of keys) this.sendLinear(s, t, true);
  }

  // ---- outbound ---------------------------------------------------------------------------------

  tick(tickNo: number): void {
    const bad = this.hub.fault('badNumbers');
    const trades = this.tape.fresh();
    this.hub.forEachSubscription((s, t, once) => {
      if (s.path !== BYBIT_OPTION_PATH) {
        this.sendLinear(s, t, false, tickNo);
        return;
      }
      const tc = TRADE_TOPICS.get(t);
      if (tc) {
        // every trade since the last push, oldest first (essential: a lost trade is a wrong position)
        const rows = trades.get(tc) ?? [];
        if (rows.length > 0) for (const f of once(() => [JSON.stringify({ id: `${t}-${this.hub.nowMs()}`, topic: t, type: 'snapshot', ts: this.hub.nowMs(), data: rows.map((x) => this.tradeRow(x)) })])) s.push(t, f, false, true, true);
        return;
      }
      const sym = t.slice('tickers.'.length);
      const o = this.find(sym);
      if (!o) {
        s.subs.delete(t); // expired: Bybit stops pushing it
        return;
      }
      // every 100 ms per symbol, as Bybit pushes option tickers
      if (bad && this.badIdx++ % 5 === 0) {
        s.push(t, this.optionTicker(o.d, sym, o.usdt, true));
        return;
      }
      for (const f of once(() => [this.optionTicker(o.d, sym, o.usdt, false)])) s.push(t, f);
    });
  }

  optionTicker(d: OptionDef, symbol: string, usdt: boolean, bad: boolean): string {
    const q = this.sim.quote(d.name)!;
    const f = q.forward;
    const data: Record<string, string> = {
      symbol,
      bidPrice: num(q.bidPrice * f, 1),
      bidSize: '1',
      bidIv: num(q.bidIvPct / 100, 4),
      askPrice: num(q.askPrice * f, 1),
      askSize: '1',
      askIv: num(q.askIvPct / 100, 4),
      lastPrice: num(q.markPrice * f, 1),
      highPrice24h: '0',
      lowPrice24h: '0',
      markPrice: num(q.markPrice * f, 8),
      indexPrice: num(q.index, 2),
      markPriceIv: num(q.markIvPct / 100, 4),
      underlyingPrice: num(f, 2),
      openInterest: num(this.oiCoin(d, usdt), 2),
      turnover24h: '0',
      volume24h: '0',
      totalVolume: '0',
      totalTurnover: '0',
      delta: num(q.delta, 8),
      gamma: num(q.gamma, 8),
      vega: num(q.vega, 8),
      theta: num(q.theta, 8),
      predictedDeliveryPrice: '0',
      change24h: '0',
    };
    if (bad) {
      const k = this.badIdx % 4;
      if (k === 0) data.markPriceIv = '1000000000';
      else if (k === 1) data.openInterest = '-3';
      else if (k === 2) data.underlyingPrice = '0';
      else data.openInterest = SENTINEL;
      this.injected.badNumbers++;
    }
    const text = JSON.stringify({ id: `tickers.${symbol}-${this.hub.nowMs()}`, topic: `tickers.${symbol}`, ts: this.hub.nowMs(), data, type: 'snapshot' });
    return bad ? text.replace(`"${SENTINEL}"`, '"1e400"') : text;
  }

  /** Linear ticker fields now; `full` adds the slow ones (funding, open interest). */
  linearFields(c: Currency, full: boolean): Record<string, string> {
    const pp = this.sim.perp(c);
    const lv = this.bookLevels(c, 1);
    const out: Record<string, string> = {
      symbol: `${c}USDT`,
      markPrice: num(pp.markPrice, 2),
      indexPrice: num(pp.index, 2),
      bid1Price: lv.bids[0]?.[0] ?? num(pp.bestBid, 2),
      bid1Size: lv.bids[0]?.[1] ?? '0',
      ask1Price: lv.asks[0]?.[0] ?? num(pp.bestAsk, 2),
      ask1Size: lv.asks[0]?.[1] ?? '0',
    };
    if (full) {
      const eight = 8 * 3_600_000;
      out.fundingRate = num(pp.funding8h, 8);
      out.fundingIntervalHour = '8';
      out.nextFundingTime = String(Math.ceil((this.hub.nowMs() + 1) / eight) * eight);
      // Bybit documents openInterest as both sides; singleOpenInterest (since 2026-06) is one side, as the
      // other venues count it.
      const single = Math.round((pp.openInterestUsd / pp.markPrice) * 0.3 * 1000) / 1000;
      out.openInterest = num(2 * single, 3);
      out.singleOpenInterest = num(single, 3);
      out.lastPrice = out.markPrice;
      out.tickDirection = 'PlusTick';
    }
    return out;
  }

  /** The perpetual's book in coin, best first, at most `depth` levels a side. */
  bookLevels(c: Currency, depth: number): { bids: Level2[]; asks: Level2[] } {
    const book = this.sim.book(c);
    const conv = (side: [number, number][]) => side.slice(0, depth).map(([px, usd]): Level2 => [num(px, 2), num(Math.max(0.001, Math.round((usd / px) * 0.4 * 1000) / 1000), 3)]);
    return { bids: conv(book.bids), asks: conv(book.asks) };
  }

  private sendLinear(s: VenueSession, t: string, first: boolean, tickNo = 0): void {
    if (!this.hub.dataOn) return;
    const parts = t.split('.');
    const ts = this.hub.nowMs();
    if (parts[0] === 'tickers') {
      const c = PERP.get(parts[1]);
      if (!c) return;
      const known = s.state.get(t) as number | undefined;
      if (!first && known === this.sim.bookChangeId(c)) return;
      const snapshot = first || known === undefined;
      const data = this.linearFields(c, snapshot || tickNo % 10 === 0);
      const text = JSON.stringify({ topic: t, type: snapshot ? 'snapshot' : 'delta', data, cs: this.sim.bookChangeId(c), ts });
      if (s.push(t, text, true) || snapshot) s.state.set(t, this.sim.bookChangeId(c));
      return;
    }
    const c = PERP.get(parts[2]);
    if (!c) return;
    const depth = Number(parts[1]);
    const u = this.sim.bookChangeId(c) - 7_000_000_000;
    if (first) s.state.delete(t);
    pushBook(s, t, u, () => this.bookLevels(c, depth), {
      removed: (px): Level2 => [px, '0'],
      frame: (kind, b, a) => JSON.stringify({ topic: t, type: kind, ts, data: { s: parts[2], b, a, u, seq: u }, cts: ts }),
    });
  }

  /**
   * A `publicTrade` row: `S` the taker's side (`Buy`/`Sell`), `v` size in coin, `p` price (USD), `i`
   * trade id, `T` fill time, `BT` block trade, `RPI`, and the option-only `mP`, `iP`, `mIv`, `iv` (decimal).
   */
  tradeRow(x: SimTrade): Record<string, unknown> {
    const buy = x.takerSide === 'buy';
    const q = this.sim.tradeQuote(x.line.def, buy);
    return {
      T: x.timestampMs, s: x.line.name, S: buy ? 'Buy' : 'Sell', v: num(x.amount), p: num(Math.max(5, Math.round((q.price * q.forward) / 5) * 5)), L: 'PlusTick',
      i: tradeUuid(x.id), BT: x.block, RPI: false, seq: x.seq, mP: num(q.mark * q.forward, 2), iP: num(q.index, 2), mIv: num(q.ivPct / 100, 4), iv: num(q.ivPct / 100, 4),
    };
  }

  /** `GET /v5/market/recent-trade?category=option&baseCoin=|symbol=[&optionType=Call|Put][&limit=1..1000]`: the latest trades, newest first. */
  private recentTrades(q: URLSearchParams, fail: (code: number, msg: string) => RestAnswer, time: number): RestAnswer {
    if (q.get('category') !== 'option') return fail(10001, 'params error: category only option is served here');
    const symbol = q.get('symbol');
    const coin = symbol ? symbol.split('-')[0] : (q.get('baseCoin') ?? 'BTC');
    if (coin !== 'BTC' && coin !== 'ETH') return fail(10001, 'params error: baseCoin');
    const type = q.get('optionType');
    if (type !== null && type !== 'Call' && type !== 'Put') return fail(10001, 'params error: optionType');
    const limitText = q.get('limit');
    const limit = limitText === null ? 500 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return fail(10001, 'params error: limit must be 1..1000');
    this.hub.tradeHistoryRequests++;
    const rows = this.tape.book.recent(coin, limit, (x) => (symbol === null || x.line.name === symbol) && (type === null || x.line.def.isCall === (type === 'Call')));
    const list = rows.map((x) => {
      const r = this.tradeRow(x);
      return { execId: r.i, symbol: r.s, price: r.p, size: r.v, side: r.S, time: String(r.T), isBlockTrade: r.BT, isRPITrade: false, mP: r.mP, iP: r.iP, mIv: r.mIv, iv: r.iv };
    });
    return { status: 200, body: { retCode: 0, retMsg: 'OK', result: { category: 'option', list }, retExtInfo: {}, time } };
  }

  // ---- REST (simulated answers) -----------------------------------------------------------------

  /** `GET /v5/market/instruments-info?category=option&baseCoin=C&limit=N[&cursor=]`, paged. */
  rest(path: string, q: URLSearchParams): RestAnswer {
    const time = Math.floor(this.hub.nowMs());
    const fail = (retCode: number, retMsg: string): RestAnswer => ({ status: 200, body: { retCode, retMsg, result: {}, retExtInfo: {}, time } });
    if (path === '/v5/market/recent-trade') return this.recentTrades(q, fail, time);
    if (path !== '/v5/market/instruments-info') return { status: 404, body: { retCode: 10404, retMsg: 'Not Found', result: {}, time } };
    if (q.get('category') !== 'option') return fail(10001, 'params error: category only option is served here');
    const coin = q.get('baseCoin') ?? 'BTC';
    if (coin !== 'BTC' && coin !== 'ETH') return fail(10001, 'params error: baseCoin');
    const limit = Math.max(1, Math.min(1000, Number(q.get('limit') ?? 500) || 500));
    const cursorText = q.get('cursor');
    let offset = 0;
    if (cursorText) {
      const m = /^o(\d+)$/.exec(cursorText);
      if (!m) return fail(10001, 'params error: cursor');
      offset = Number(m[1]);
    }
    const all = [...this.chain.options(coin).map((d) => ({ d, usdt: false })), ...this.usdtChain.options(coin).map((d) => ({ d, usdt: true }))];
    const page = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? `o${offset + limit}` : '';
    const list = page.map(({ d, usdt }) => ({
      symbol: usdt ? `${d.name}-USDT` : d.name,
      optionsType: d.isCall ? 'Call' : 'Put',
      status: 'Trading',
      baseCoin: coin,
      quoteCoin: usdt ? 'USDT' : 'USD',
      settleCoin: usdt ? 'USDT' : 'USDC',
      launchTime: String(d.createdMs),
      deliveryTime: String(d.expiryMs),
      deliveryFeeRate: '0.00015',
      priceFilter: { minPrice: '5', maxPrice: '10000000', tickSize: '5' },
      lotSizeFilter: { maxOrderQty: '500', minOrderQty: '0.01', qtyStep: '0.01' },
    }));
    return { status: 200, body: { retCode: 0, retMsg: 'success', result: { category: 'option', nextPageCursor: next, list }, retExtInfo: {}, time } };
  }
}

/** A trade id as Bybit writes option execIds (a UUID), from the tape's numeric id. */
function tradeUuid(id: number): string {
  const h = id.toString(16).padStart(32, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
