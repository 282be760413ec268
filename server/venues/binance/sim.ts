/**
 * Binance's own listing on the shared simulated market, as the source behind the Binance protocol,
 * plus the optional REST exchangeInfo (`/binance/rest/eapi/v1/exchangeInfo`).
 *
 * USDT-margined options `BTC-YYMMDD-STRIKE-C`, unit 1, the simulator's expiries without the 2nd/3rd
 * daily and the farthest quarterly, every third strike away from the money, open interest ~10 % of
 * Deribit's. No forward (Binance prices on the index).
 */
import type { Currency, MarketSim, OptionDef } from '../../sim/market.ts';
import type { SimTrade, TradeBook } from '../../sim/trade-book.ts';
import { VenueTape } from '../venue-tape.ts';
import { VenueChain } from '../chain-subset.ts';
import { num, yymmdd } from '../format.ts';
import type { RestAnswer } from '../../http/rest-relay.ts';
import type { VenueHub, VenueSource } from '../hub.ts';
import { parseStream, type Stream } from './protocol.ts';

export const BINANCE_OI_SHARE = 0.1;
/** Binance's option lot (`minQty`), coin (unit 1). */
const BINANCE_LOT: Record<Currency, number> = { BTC: 0.01, ETH: 0.1 };
/** `/eapi/v1/trades` and `/eapi/v1/blockTrades`: default and largest `limit`. */
const REST_TRADES_DEFAULT = 100;
const REST_TRADES_MAX = 500;
const SENTINEL = '987654321.5';

export function binanceSymbol(d: OptionDef): string {
  return `${d.currency}-${yymmdd(d.expiryMs)}-${d.strike}-${d.isCall ? 'C' : 'P'}`;
}

export class BinanceSim implements VenueSource {
  readonly chain: VenueChain;
  private announced = new Map<string, Set<string>>();
  private badIdx = 0;
  readonly injected = { badNumbers: 0 };
  /** Binance's hidden book and tape (its open interest and `optionTrade`). */
  readonly tape: VenueTape;

  get tradeBook(): TradeBook {
    return this.tape.book;
  }

  constructor(
    readonly hub: VenueHub,
    readonly sim: MarketSim,
  ) {
    this.chain = new VenueChain(sim, {
      name: binanceSymbol,
      keepExpiry: (_e, i, all) => i !== 1 && i !== 2 && i < all.length - 1,
      keepStrike: (_k, i, _n, atm) => Math.abs(i - atm) <= 3 || i % 3 === 0,
    });
    this.tape = new VenueTape(sim, 'binance', BINANCE_OI_SHARE, [{ chain: this.chain, name: binanceSymbol, share: BINANCE_OI_SHARE, unitCoin: () => 1, lotUnits: (c) => BINANCE_LOT[c] }]);
  }

  /** Open interest in contracts (unit 1 = coin): the sum of its book's longs. */
  oiContracts(d: OptionDef): number {
    return this.tape.openInterest(d.currency, binanceSymbol(d));
  }

  /** Binance accepts every well-formed stream name (on either path; the wrong one stays silent). */
  serves(name: string): boolean {
    return parseStream(name) !== null;
  }

  // ---- outbound ---------------------------------------------------------------------------------

  tick(tickNo: number): void {
    const listings = this.newListings();
    const trades = this.tape.fresh();
    const bad = this.hub.fault('badNumbers');
    this.hub.forEachSubscription((s, name, once) => {
      const st = parseStream(name);
      if (!st || st.path !== s.path) return; // wrong path: accepted, silent
      if (st.t === 'trades') {
        // one frame per trade, every one (essential: a lost trade is a wrong position, not a late one)
        const rows = trades.get(st.c) ?? [];
        for (const f of once(() => rows.map((x) => JSON.stringify({ stream: name, data: this.tradeEvent(x) })))) s.push(name, f, false, true, true);
        return;
      }
      if (st.t === 'symbols') {
        for (const d of listings) s.push(name, JSON.stringify({ stream: name, data: this.symbolRow(d) }));
        return;
      }
      if (tickNo % st.every !== 0) return;
      const frames = bad && (st.t === 'marks' || st.t === 'oi') ? this.frames(name, st, true) : once(() => this.frames(name, st, false));
      for (const f of frames) s.push(name, f);
    });
  }

  /** Options listed since the last call (the first call only records the listing). */
  private newListings(): OptionDef[] {
    const out: OptionDef[] = [];
    for (const c of ['BTC', 'ETH'] as const) {
      const now = this.chain.byName(c);
      const prev = this.announced.get(c);
      if (prev) for (const [sym, d] of now) if (!prev.has(sym)) out.push(d);
      if (!prev || out.length > 0 || prev.size !== now.size) this.announced.set(c, new Set(now.keys()));
    }
    return out;
  }

  symbolRow(d: OptionDef): Record<string, unknown> {
    return { e: 'optionSymbol', E: this.hub.nowMs(), s: binanceSymbol(d), ps: `${d.currency}USDT`, qa: 'USDT', d: d.isCall ? 'CALL' : 'PUT', sp: String(d.strike), dt: d.expiryMs, u: 1, ot: d.createdMs, cs: 'TRADING' };
  }

  frames(name: string, st: Stream, bad: boolean): string[] {
    const sim = this.sim;
    const E = this.hub.nowMs();
    const wrap = (data: unknown) => JSON.stringify({ stream: name, data });
    switch (st.t) {
      case 'marks': {
        const rows: Record<string, unknown>[] = [];
        for (const d of this.chain.options(st.c)) {
          const q = sim.quote(d.name);
          if (!q) continue;
          const f = q.forward;
          rows.push({
            e: 'markPrice', E, s: binanceSymbol(d), mp: num(q.markPrice * f, 1), i: num(q.index, 8), P: '0', bo: num(q.bidPrice * f, 1), ao: num(q.askPrice * f, 1),
            bq: '1', aq: '1', b: num(q.bidIvPct / 100, 8), a: num(q.askIvPct / 100, 8), hl: num(q.markPrice * f * 1.5, 1), ll: num(q.markPrice * f * 0.5, 1),
            vo: num(q.markIvPct / 100, 8), rf: '0', d: num(q.delta, 8), t: num(q.theta, 8), g: num(q.gamma, 8), v: num(q.vega, 8),
          });
        }
        if (bad && rows.length >= 4) {
          rows[0].vo = '1000000000';
          rows[1].vo = 'NaN';
          rows[2].i = '0';
          rows[3].E = 'soon';
          this.injected.badNumbers += 4;
        }
        return [wrap(rows)];
      }
      case 'oi': {
        const rows: Record<string, unknown>[] = [];
        for (const d of this.chain.options(st.c)) {
          if (yymmdd(d.expiryMs) !== st.code) continue;
          const o = this.oiContracts(d);
          rows.push({ e: 'openInterest', E, s: binanceSymbol(d), o: num(o, 2), h: num(o * sim.index(st.c), 6) });
        }
        if (bad && rows.length >= 2) {
          rows[0].o = '-2';
          rows[1].o = this.badIdx++ % 2 === 0 ? SENTINEL : 'NaN';
          this.injected.badNumbers += 2;
        }
        return rows.length === 0 ? [] : [wrap(rows).replace(`"${SENTINEL}"`, '"1e400"')];
      }
      case 'mark': {
        const pp = sim.perp(st.c);
        const eight = 8 * 3_600_000;
        return [wrap({ e: 'markPriceUpdate', E, s: `${st.c}USDT`, p: num(pp.markPrice, 8), P: num(pp.index, 8), i: num(pp.index, 8), r: num(pp.funding8h, 8), T: Math.ceil((E + 1) / eight) * eight })];
      }
      case 'depth': {
        const book = sim.book(st.c);
        const conv = (side: [number, number][]) => side.slice(0, st.levels).map(([px, usd]) => [num(px, 2), num(Math.max(0.001, Math.round((usd / px) * 0.6 * 1000) / 1000), 3)]);
        const u = sim.bookChangeId(st.c);
        return [wrap({ e: 'depthUpdate', E, T: E, s: `${st.c}USDT`, U: u, u, pu: u - 1, b: conv(book.bids), a: conv(book.asks) })];
      }
      default:
        return [];
    }
  }

  /** USDT price of a trade (Binance quotes options in USDT) and its quantity in contracts. */
  private priced(x: SimTrade): { price: number; qty: number } {
    const q = this.sim.tradeQuote(x.line.def, x.takerSide === 'buy');
    return { price: Math.max(5, Math.round((q.price * q.forward) / 5) * 5), qty: x.amount };
  }

  /**
   * An `optionTrade` event: `m` true when the buyer is the maker (the taker sold), `S` the taker's
   * direction, `q` contracts (unit 1: coin), always positive, `X` `MARKET` or `BLOCK`, `t` trade id.
   */
  tradeEvent(x: SimTrade): Record<string, unknown> {
    const { price, qty } = this.priced(x);
    const buy = x.takerSide === 'buy';
    return { e: 'trade', E: this.hub.nowMs(), T: x.timestampMs, s: x.line.name, t: x.id, p: num(price, 3), q: num(qty, 4), X: x.block ? 'BLOCK' : 'MARKET', S: buy ? 'BUY' : 'SELL', m: !buy };
  }

  /**
   * `GET /eapi/v1/trades?symbol=&limit=` (order-book trades) and `/eapi/v1/blockTrades` (block trades,
   * signed `qty` as in Binance's example): the latest `limit` (default 100, at most 500) of one symbol,
   * oldest first; `side` is the aggressor's, 1 buy, -1 sell.
   */
  private recentTrades(q: URLSearchParams, blocks: boolean): RestAnswer {
    const symbol = q.get('symbol') ?? '';
    const line = this.tape.book.line(symbol);
    if (!line) return { status: 400, body: { code: -1121, msg: 'Invalid symbol.' } };
    const limitText = q.get('limit');
    const limit = limitText === null ? REST_TRADES_DEFAULT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > REST_TRADES_MAX) return { status: 400, body: { code: -1130, msg: `Invalid data sent for a parameter: limit must be 1..${REST_TRADES_MAX}` } };
    this.hub.tradeHistoryRequests++;
    const rows = this.tape.book.recent(line.def.currency, limit, (x) => x.line === line && x.block === blocks).reverse();
    return {
      status: 200,
      body: rows.map((x) => {
        const { price, qty } = this.priced(x);
        const side = x.takerSide === 'buy' ? 1 : -1;
        const signed = blocks ? side * qty : qty;
        return { id: String(x.id), tradeId: x.id, symbol, price: num(price, 3), qty: num(signed, 4), quoteQty: num(signed * price, 4), side, time: x.timestampMs };
      }),
    };
  }

  // ---- REST (simulated answers) -----------------------------------------------------------------

  /** `GET /eapi/v1/exchangeInfo`: the option symbols with their unit; the recent trades above. */
  rest(path: string, q: URLSearchParams): RestAnswer {
    if (path === '/eapi/v1/trades' || path === '/eapi/v1/blockTrades') return this.recentTrades(q, path === '/eapi/v1/blockTrades');
    if (path !== '/eapi/v1/exchangeInfo') return { status: 404, body: { code: -1, msg: 'not found' } };
    const optionSymbols: Record<string, unknown>[] = [];
    for (const c of ['BTC', 'ETH'] as const) {
      for (const d of this.chain.options(c)) {
        optionSymbols.push({
          expiryDate: d.expiryMs, filters: [], symbol: binanceSymbol(d), side: d.isCall ? 'CALL' : 'PUT', strikePrice: String(d.strike), underlying: `${c}USDT`, unit: 1,
          makerFeeRate: '0.0002', takerFeeRate: '0.0002', minQty: '0.01', maxQty: '500', initialMargin: '0.15', maintenanceMargin: '0.075',
          minInitialMargin: '0.1', minMaintenanceMargin: '0.05', priceScale: 1, quantityScale: 2, quoteAsset: 'USDT', status: 'TRADING',
        });
      }
    }
    return { status: 200, body: { timezone: 'UTC', serverTime: Math.floor(this.hub.nowMs()), optionContracts: [], optionAssets: [], optionSymbols, rateLimits: [] } };
  }
}
