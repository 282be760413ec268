/**
 * Binance combined streams on the shared simulated market: `/binance/market/stream` (European options
 * `{u}@optionMarkPrice`, `{u}@optionOpenInterest@YYMMDD`, `!optionSymbol`, USD-M `{u}@markPrice[@1s]`)
 * and `/binance/public/stream` (USD-M `{u}@depth{5|10|20}[@100ms|@250ms|@500ms]`), live
 * `{"method":"SUBSCRIBE","params":[...],"id":n}` -> `{"result":null,"id":n}`; frames `{"stream","data"}`.
 * A stream routed to the wrong path is accepted and stays silent, as on Binance.
 *
 * Binance's own listing: USDT-margined options `BTC-YYMMDD-STRIKE-C`, unit 1, the simulator's
 * expiries without the 2nd/3rd daily and the farthest quarterly, every third strike away from the
 * money, open interest ~10 % of Deribit's. No forward (Binance prices on the index).
 * Keepalive: websocket ping frames from the server (the client's stack answers them); more than 10
 * incoming messages a second or 24 h of age closes the connection.
 */
import { type Currency, type MarketSim, type OptionDef } from '../sim/market.ts';
import { GENERIC_MALFORMED, VenueChain, num, type RestAnswer, type VenueHub, type VenueProtocol, type VenueSession } from '../venue-hub.ts';

export const BINANCE_MARKET_PATH = '/binance/market/stream';
export const BINANCE_PUBLIC_PATH = '/binance/public/stream';
export const BINANCE_REST_PREFIX = '/binance/rest';
export const BINANCE_LIVE_BASE = 'https://eapi.binance.com';
export const BINANCE_RELAY_PATHS: Record<string, readonly string[]> = { '/eapi/v1/exchangeInfo': [] };
export const BINANCE_OI_SHARE = 0.1;
export const BINANCE_PING_MS = 180_000;
const MAX_MSGS_PER_SEC = 10;
const MAX_STREAMS = 1_024;
const MAX_AGE_MS = 24 * 3_600_000;
const UND: Record<string, Currency> = { btcusdt: 'BTC', ethusdt: 'ETH' };
const SENTINEL = '987654321.5';

export function binanceExpiryCode(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

export function binanceSymbol(d: OptionDef): string {
  return `${d.currency}-${binanceExpiryCode(d.expiryMs)}-${d.strike}-${d.isCall ? 'C' : 'P'}`;
}

type Stream =
  | { t: 'marks'; c: Currency; path: string; every: number }
  | { t: 'oi'; c: Currency; code: string; path: string; every: number }
  | { t: 'symbols'; path: string; every: number }
  | { t: 'mark'; c: Currency; path: string; every: number }
  | { t: 'depth'; c: Currency; levels: number; path: string; every: number };

export function parseStream(name: string): Stream | null {
  if (name === '!optionSymbol') return { t: 'symbols', path: BINANCE_MARKET_PATH, every: 0 };
  const p = name.split('@');
  const c = UND[p[0]];
  if (!c) return null;
  if (p.length === 2 && p[1] === 'optionMarkPrice') return { t: 'marks', c, path: BINANCE_MARKET_PATH, every: 10 };
  if (p.length === 3 && p[1] === 'optionOpenInterest' && /^\d{6}$/.test(p[2])) return { t: 'oi', c, code: p[2], path: BINANCE_MARKET_PATH, every: 30 };
  if (p[1] === 'markPrice' && (p.length === 2 || (p.length === 3 && p[2] === '1s'))) return { t: 'mark', c, path: BINANCE_MARKET_PATH, every: p.length === 3 ? 10 : 30 };
  const dm = /^depth(5|10|20)$/.exec(p[1] ?? '');
  if (dm && (p.length === 2 || (p.length === 3 && ['100ms', '250ms', '500ms'].includes(p[2])))) {
    const every = p.length === 2 ? 3 : Number(p[2].replace('ms', '')) / 100;
    return { t: 'depth', c, levels: Number(dm[1]), path: BINANCE_PUBLIC_PATH, every: Math.round(every) };
  }
  return null;
}

export class BinanceProtocol implements VenueProtocol {
  readonly paths = [BINANCE_MARKET_PATH, BINANCE_PUBLIC_PATH];
  readonly chain: VenueChain;
  private symCache = new Map<Currency, { list: OptionDef[]; bySym: Map<string, OptionDef> }>();
  private announced = new Map<Currency, Set<string>>();
  private malformedIdx = 0;
  private badIdx = 0;
  readonly injected = { malformed: 0, badNumbers: 0, oversize: 0 };

  constructor(readonly hub: VenueHub) {
    this.chain = new VenueChain(hub.sim, {
      keepExpiry: (_e, i, all) => i !== 1 && i !== 2 && i < all.length - 1,
      keepStrike: (_k, i, _n, atm) => Math.abs(i - atm) <= 3 || i % 3 === 0,
    });
  }

  private get sim(): MarketSim {
    return this.hub.sim;
  }

  bySymbol(c: Currency): Map<string, OptionDef> {
    const list = this.chain.options(c);
    const hit = this.symCache.get(c);
    if (hit && hit.list === list) return hit.bySym;
    const bySym = new Map(list.map((d) => [binanceSymbol(d), d]));
    this.symCache.set(c, { list, bySym });
    return bySym;
  }

  /** Open interest in contracts (unit 1 = coin), two decimals. */
  oiContracts(d: OptionDef): number {
    return Math.round(this.sim.openInterest(d) * BINANCE_OI_SHARE * 100) / 100;
  }

  // ---- inbound ----------------------------------------------------------------------------------

  onMessage(s: VenueSession, text: string): void {
    const sec = Math.floor(Date.now() / 1000);
    if (s.counters.sec !== sec) {
      s.counters.sec = sec;
      s.counters.msgs = 0;
    }
    if (++s.counters.msgs > MAX_MSGS_PER_SEC) {
      s.close(1008, 'Too many requests');
      return;
    }
    let m: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('x');
      m = v as Record<string, unknown>;
    } catch {
      s.reply(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' } }));
      return;
    }
    const id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
    if (m.method === 'LIST_SUBSCRIPTIONS') {
      s.reply(JSON.stringify({ result: [...s.subs], id }));
      return;
    }
    if ((m.method !== 'SUBSCRIBE' && m.method !== 'UNSUBSCRIBE') || !Array.isArray(m.params)) {
      s.reply(JSON.stringify({ error: { code: 2, msg: `Invalid request: unknown variant \`${String(m.method).slice(0, 20)}\`` }, id }));
      return;
    }
    const names: string[] = [];
    for (const p of m.params) {
      if (typeof p !== 'string' || parseStream(p) === null) {
        s.reply(JSON.stringify({ error: { code: 2, msg: `Invalid request: invalid stream name ${String(p).slice(0, 60)}` }, id }));
        return;
      }
      names.push(p);
    }
    if (m.method === 'SUBSCRIBE') {
      if (s.subs.size + names.length > MAX_STREAMS) {
        s.reply(JSON.stringify({ error: { code: 4, msg: `Too many streams: at most ${MAX_STREAMS} per connection` }, id }));
        return;
      }
      for (const n of names) s.subs.add(n);
    } else for (const n of names) s.subs.delete(n);
    s.reply(JSON.stringify({ result: null, id }));
  }

  // ---- outbound ---------------------------------------------------------------------------------

  tick(tickNo: number): void {
    const hub = this.hub;
    for (const s of hub.sessions) if (Date.now() - s.openedAt > MAX_AGE_MS) s.close(1000, 'connection lifetime 24h reached');
    const listings = this.newListings();
    if (hub.fault('silent') || hub.fault('heartbeatOnly')) return;
    const malformedNow = hub.fault('malformed') && tickNo % 5 === 0;
    const bad = hub.fault('badNumbers');
    const cache = new Map<string, string[]>();
    for (const s of hub.sessions) {
      if (malformedNow) this.sendMalformed(s);
      for (const name of s.subs) {
        const st = parseStream(name);
        if (!st || st.path !== s.path) continue; // wrong path: accepted, silent
        if (st.t === 'symbols') {
          for (const d of listings) s.push(name, JSON.stringify({ stream: name, data: this.symbolRow(d) }));
          continue;
        }
        if (tickNo % st.every !== 0) continue;
        if (bad && (st.t === 'marks' || st.t === 'oi')) {
          for (const f of this.frames(name, st, true)) s.push(name, f);
          continue;
        }
        let fs = cache.get(name);
        if (!fs) {
          fs = this.frames(name, st, false);
          cache.set(name, fs);
        }
        for (const f of fs) s.push(name, f);
      }
    }
  }

  /** Options listed since the last call (the first call only records the listing). */
  private newListings(): OptionDef[] {
    const out: OptionDef[] = [];
    for (const c of ['BTC', 'ETH'] as const) {
      const now = this.bySymbol(c);
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
          if (binanceExpiryCode(d.expiryMs) !== st.code) continue;
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

  private sendMalformed(s: VenueSession): void {
    const list: (string | Buffer)[] = [
      ...GENERIC_MALFORMED,
      '{"stream":"btcusdt@optionMarkPrice","data":{"not":"an array"}}',
      '{"stream":"nosuch@stream","data":[]}',
      '{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","s":"BTCUSDT","p":"x","i":"1","E":1}}',
    ];
    const item = list[this.malformedIdx++ % list.length];
    this.injected.malformed++;
    if (typeof item === 'string') s.sendRaw(item, false);
    else s.sendRaw(item, false, true);
  }

  sendOversize(): number {
    const pad = 'x'.repeat(10 * 1024 * 1024);
    let n = 0;
    for (const s of this.hub.sessions) if (s.sendRaw(JSON.stringify({ stream: 'btcusdt@markPrice@1s', data: { e: 'markPriceUpdate', padding: pad } }), true)) n++;
    this.injected.oversize += n;
    return n;
  }

  // ---- REST (simulated answers) -----------------------------------------------------------------

  /** `GET /eapi/v1/exchangeInfo`: the option symbols with their unit. */
  rest(path: string): RestAnswer {
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
