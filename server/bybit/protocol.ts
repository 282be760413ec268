/**
 * Bybit v5 public websockets on the shared simulated market: `/bybit/v5/public/option` (option
 * `tickers.{symbol}`) and `/bybit/v5/public/linear` (`tickers.{C}USDT` snapshot + deltas,
 * `orderbook.{depth}.{C}USDT` snapshot + deltas), plus the paged REST instrument list
 * (`/bybit/rest/v5/market/instruments-info`).
 *
 * Bybit's own listing: USDC-settled options named like Deribit's (`BTC-27DEC24-100000-C`), one
 * contract = 1 coin, the simulator's expiries without the third daily and the two farthest
 * quarterlies, every other strike away from the money, open interest ~15 % of Deribit's.
 * Keepalive: `{"op":"ping"}` answered with the socket type's pong; a socket silent for 10 min is closed.
 * Limits: 2,000 option args and 21,000 characters of args per connection.
 */
import { CURRENCIES, type Currency, type MarketSim, type OptionDef } from '../sim/market.ts';
import { hash01 } from '../sim/prng.ts';
import { GENERIC_MALFORMED, VenueChain, num, type RestAnswer, type VenueHub, type VenueProtocol, type VenueSession } from '../venue-hub.ts';

export const BYBIT_OPTION_PATH = '/bybit/v5/public/option';
export const BYBIT_LINEAR_PATH = '/bybit/v5/public/linear';
export const BYBIT_REST_PREFIX = '/bybit/rest';
export const BYBIT_LIVE_BASE = 'https://api.bybit.com';
export const BYBIT_RELAY_PATHS: Record<string, readonly string[]> = {
  '/v5/market/instruments-info': ['category', 'baseCoin', 'symbol', 'limit', 'cursor', 'status'],
};
export const BYBIT_OI_SHARE = 0.15;
export const BYBIT_IDLE_CLOSE_MS = 10 * 60_000;
const MAX_OPTION_ARGS = 2_000;
const MAX_ARGS_CHARS = 21_000;
const PERP: Record<string, Currency> = { BTCUSDT: 'BTC', ETHUSDT: 'ETH' };
const BOOK_DEPTHS = new Set(['1', '50', '200', '500']);
const SENTINEL = '987654321.5';

interface BookState {
  bids: Map<string, string>;
  asks: Map<string, string>;
  u: number;
}

export class BybitProtocol implements VenueProtocol {
  readonly paths = [BYBIT_OPTION_PATH, BYBIT_LINEAR_PATH];
  readonly chain: VenueChain;
  private symCache = new Map<Currency, { list: OptionDef[]; bySym: Map<string, OptionDef> }>();
  private malformedIdx = 0;
  private badIdx = 0;
  readonly injected = { malformed: 0, badNumbers: 0, oversize: 0 };

  constructor(readonly hub: VenueHub) {
    this.chain = new VenueChain(hub.sim, {
      keepExpiry: (_e, i, all) => i !== 2 && i < all.length - 2,
      keepStrike: (_k, i, _n, atm) => Math.abs(i - atm) <= 6 || i % 2 === 0,
    });
  }

  private get sim(): MarketSim {
    return this.hub.sim;
  }

  bySymbol(c: Currency): Map<string, OptionDef> {
    const list = this.chain.options(c);
    const hit = this.symCache.get(c);
    if (hit && hit.list === list) return hit.bySym;
    const bySym = new Map(list.map((d) => [d.name, d]));
    this.symCache.set(c, { list, bySym });
    return bySym;
  }

  private optionDef(symbol: string): OptionDef | undefined {
    for (const c of CURRENCIES) {
      const d = this.bySymbol(c).get(symbol);
      if (d) return d;
    }
    return undefined;
  }

  /** Open interest in coin (= contracts), two decimals. */
  oiCoin(d: OptionDef): number {
    return Math.round(this.sim.openInterest(d) * BYBIT_OI_SHARE * 100) / 100;
  }

  // ---- inbound ----------------------------------------------------------------------------------

  onMessage(s: VenueSession, text: string): void {
    const option = s.path === BYBIT_OPTION_PATH;
    let m: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      m = v as Record<string, unknown>;
    } catch {
      s.reply(JSON.stringify({ success: false, ret_msg: `error:json unmarshal: ${text.slice(0, 40)}`, conn_id: s.connId, op: '' }));
      return;
    }
    const reqId = typeof m.req_id === 'string' ? m.req_id : undefined;
    if (m.op === 'ping') {
      s.reply(
        option
          ? JSON.stringify({ req_id: reqId, op: 'pong', args: [String(Date.now())], conn_id: s.connId })
          : JSON.stringify({ success: true, ret_msg: 'pong', conn_id: s.connId, req_id: reqId, op: 'ping' }),
      );
      return;
    }
    if ((m.op !== 'subscribe' && m.op !== 'unsubscribe') || !Array.isArray(m.args)) {
      s.reply(JSON.stringify({ success: false, ret_msg: `error:unsupported op ${String(m.op).slice(0, 20)}`, conn_id: s.connId, req_id: reqId, op: String(m.op ?? '') }));
      return;
    }
    const ok: string[] = [];
    const failed: string[] = [];
    for (const a of m.args) {
      if (typeof a !== 'string' || !this.topicOk(a, option)) failed.push(String(a).slice(0, 80));
      else ok.push(a);
    }
    if (m.op === 'subscribe') {
      const chars = [...s.subs, ...ok].reduce((n, t) => n + t.length + 3, 2);
      if (option && (s.subs.size + ok.length > MAX_OPTION_ARGS || chars > MAX_ARGS_CHARS)) {
        failed.push(...ok.splice(0));
        s.reply(JSON.stringify({ success: false, ret_msg: `error:args count or size over the connection limit (${MAX_OPTION_ARGS} args, ${MAX_ARGS_CHARS} chars)`, conn_id: s.connId, req_id: reqId, op: 'subscribe' }));
        return;
      }
    }
    const fresh = m.op === 'subscribe' ? ok.filter((t) => !s.subs.has(t)) : [];
    for (const t of ok) {
      if (m.op === 'subscribe') s.subs.add(t);
      else {
        s.subs.delete(t);
        s.state.delete(t);
      }
    }
    if (option) {
      s.reply(JSON.stringify({ success: true, ret_msg: '', conn_id: s.connId, req_id: reqId, data: { successTopics: ok, failTopics: failed }, type: 'COMMAND_RESP' }));
    } else {
      const success = failed.length === 0;
      s.reply(JSON.stringify({ success, ret_msg: success ? '' : `error:handler not found,topic:${failed[0]}`, conn_id: s.connId, req_id: reqId, op: m.op }));
    }
    // linear topics start with a snapshot, as on Bybit
    for (const t of fresh) if (!option) this.sendLinear(s, t, true);
  }

  private topicOk(t: string, option: boolean): boolean {
    const parts = t.split('.');
    if (option) return parts.length === 2 && parts[0] === 'tickers' && this.optionDef(parts[1]) !== undefined;
    if (parts.length === 2 && parts[0] === 'tickers') return PERP[parts[1]] !== undefined;
    return parts.length === 3 && parts[0] === 'orderbook' && BOOK_DEPTHS.has(parts[1]) && PERP[parts[2]] !== undefined;
  }

  // ---- outbound ---------------------------------------------------------------------------------

  tick(tickNo: number): void {
    const hub = this.hub;
    if (hub.fault('silent') || hub.fault('heartbeatOnly')) return;
    const malformedNow = hub.fault('malformed') && tickNo % 5 === 0;
    const bad = hub.fault('badNumbers');
    const cache = new Map<string, string | null>();
    for (const s of hub.sessions) {
      if (malformedNow) this.sendMalformed(s);
      const option = s.path === BYBIT_OPTION_PATH;
      for (const t of s.subs) {
        if (!option) {
          this.sendLinear(s, t, false, tickNo);
          continue;
        }
        const sym = t.slice('tickers.'.length);
        const d = this.optionDef(sym);
        if (!d) {
          s.subs.delete(t); // expired: Bybit stops pushing it
          continue;
        }
        // about once a second per symbol, spread over the ticks
        if ((tickNo + Math.floor(hash01('bybit', sym) * 10)) % 10 !== 0) continue;
        if (bad && this.badIdx++ % 5 === 0) {
          s.push(t, this.optionTicker(d, true));
          continue;
        }
        let text = cache.get(t);
        if (text === undefined) {
          text = this.optionTicker(d, false);
          cache.set(t, text);
        }
        if (text !== null) s.push(t, text);
      }
    }
  }

  optionTicker(d: OptionDef, bad: boolean): string {
    const q = this.sim.quote(d.name)!;
    const f = q.forward;
    const data: Record<string, string> = {
      symbol: d.name,
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
      openInterest: num(this.oiCoin(d), 2),
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
    return JSON.stringify({ id: `tickers.${d.name}-${this.hub.nowMs()}`, topic: `tickers.${d.name}`, ts: this.hub.nowMs(), data, type: 'snapshot' }).replace(`"${SENTINEL}"`, '"1e400"');
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
      out.openInterest = num(Math.round((pp.openInterestUsd / pp.markPrice) * 0.3 * 1000) / 1000, 3);
      out.lastPrice = out.markPrice;
      out.tickDirection = 'PlusTick';
    }
    return out;
  }

  /** The perpetual's book in coin, best first, at most `depth` levels a side. */
  bookLevels(c: Currency, depth: number): { bids: [string, string][]; asks: [string, string][] } {
    const book = this.sim.book(c);
    const conv = (side: [number, number][]) => side.slice(0, depth).map(([px, usd]): [string, string] => [num(px, 2), num(Math.max(0.001, Math.round((usd / px) * 0.4 * 1000) / 1000), 3)]);
    return { bids: conv(book.bids), asks: conv(book.asks) };
  }

  private sendLinear(s: VenueSession, t: string, first: boolean, tickNo = 0): void {
    if (this.hub.fault('silent') || this.hub.fault('heartbeatOnly')) return;
    const parts = t.split('.');
    const ts = this.hub.nowMs();
    if (parts[0] === 'tickers') {
      const c = PERP[parts[1]];
      const known = s.state.get(t) as number | undefined;
      if (!first && known === this.sim.bookChangeId(c)) return;
      const snapshot = first || known === undefined;
      const data = this.linearFields(c, snapshot || tickNo % 10 === 0);
      const text = JSON.stringify({ topic: t, type: snapshot ? 'snapshot' : 'delta', data, cs: this.sim.bookChangeId(c), ts });
      if (s.push(t, text, true) || snapshot) s.state.set(t, this.sim.bookChangeId(c));
      return;
    }
    const c = PERP[parts[2]];
    const depth = Number(parts[1]);
    const u = this.sim.bookChangeId(c) - 7_000_000_000;
    const prev = s.state.get(t) as BookState | undefined;
    if (!first && prev && prev.u === u) return;
    const lv = this.bookLevels(c, depth);
    const bids = new Map(lv.bids);
    const asks = new Map(lv.asks);
    if (first || !prev) {
      const text = JSON.stringify({ topic: t, type: 'snapshot', ts, data: { s: parts[2], b: lv.bids, a: lv.asks, u, seq: u }, cts: ts });
      if (s.push(t, text, true)) s.state.set(t, { bids, asks, u });
      return;
    }
    const diff = (old: Map<string, string>, now: [string, string][]) => {
      const out: [string, string][] = [];
      const seen = new Set<string>();
      for (const [px, sz] of now) {
        seen.add(px);
        if (old.get(px) !== sz) out.push([px, sz]);
      }
      for (const px of old.keys()) if (!seen.has(px)) out.push([px, '0']);
      return out;
    };
    const text = JSON.stringify({ topic: t, type: 'delta', ts, data: { s: parts[2], b: diff(prev.bids, lv.bids), a: diff(prev.asks, lv.asks), u, seq: u }, cts: ts });
    if (s.push(t, text, true)) s.state.set(t, { bids, asks, u });
  }

  private sendMalformed(s: VenueSession): void {
    const list: (string | Buffer)[] = [
      ...GENERIC_MALFORMED,
      '{"topic":"tickers.BTC-1JAN30-1-C","ts":"later","data":{},"type":"snapshot"}',
      '{"topic":"nosuch.topic","ts":1700000000000,"data":{}}',
      '{"topic":"orderbook.200.BTCUSDT","ts":1700000000000,"type":"delta","data":{"s":"BTCUSDT","b":[["x","1"]],"a":[],"u":5}}',
    ];
    const item = list[this.malformedIdx++ % list.length];
    this.injected.malformed++;
    if (typeof item === 'string') s.sendRaw(item, false);
    else s.sendRaw(item, false, true);
  }

  sendOversize(): number {
    const pad = 'x'.repeat(10 * 1024 * 1024);
    let n = 0;
    for (const s of this.hub.sessions) {
      if (s.sendRaw(JSON.stringify({ topic: 'tickers.BTCUSDT', type: 'delta', ts: this.hub.nowMs(), data: { symbol: 'BTCUSDT', padding: pad } }), true)) n++;
    }
    this.injected.oversize += n;
    return n;
  }

  // ---- REST (simulated answers) -----------------------------------------------------------------

  /** `GET /v5/market/instruments-info?category=option&baseCoin=C&limit=N[&cursor=]`, paged. */
  rest(path: string, q: URLSearchParams): RestAnswer {
    const time = Math.floor(this.hub.nowMs());
    const fail = (retCode: number, retMsg: string): RestAnswer => ({ status: 200, body: { retCode, retMsg, result: {}, retExtInfo: {}, time } });
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
    const all = this.chain.options(coin);
    const page = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? `o${offset + limit}` : '';
    const list = page.map((d) => ({
      symbol: d.name,
      optionsType: d.isCall ? 'Call' : 'Put',
      status: 'Trading',
      baseCoin: coin,
      quoteCoin: 'USD',
      settleCoin: 'USDC',
      launchTime: String(d.createdMs),
      deliveryTime: String(d.expiryMs),
      deliveryFeeRate: '0.00015',
      priceFilter: { minPrice: '5', maxPrice: '10000000', tickSize: '5' },
      lotSizeFilter: { maxOrderQty: '500', minOrderQty: '0.01', qtyStep: '0.01' },
    }));
    return { status: 200, body: { retCode: 0, retMsg: 'success', result: { category: 'option', nextPageCursor: next, list }, retExtInfo: {}, time } };
  }
}
