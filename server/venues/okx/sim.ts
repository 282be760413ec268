/**
 * OKX's own listing on the shared simulated market, as the source behind the OKX protocol, plus the
 * REST instrument lists the client discovers options with (`/okx/rest/api/v5/...`).
 *
 * Two option families per coin, as OKX lists them: the inverse `C-USD` (one contract = ctVal 1 x
 * ctMult 0.1 coin, every simulator expiry but the farthest quarterly, every third strike dropped away
 * from the money, open interest 30 % of Deribit's) and the USD-margined `C-USD_UM` (settled in USD, one
 * contract = ctVal 0.01 BTC / 0.1 ETH, every other expiry, every other strike away from the money, open
 * interest 10 % of Deribit's). The hedge-side perpetual is the linear `C-USDT-SWAP` (ctVal 0.01 BTC / 0.1 ETH),
 * books in contracts chained by seqId/prevSeqId. Books as OKX serves them now (`current`): checksum 0 and
 * no pushed snapshot, the snapshot from `GET /api/v5/market/books`; `legacy` (before 23 June 2026) pushes
 * a snapshot on subscribe and CRC32 checksums of the top 25 levels.
 */
import { CURRENCIES, type Currency, type MarketSim, type OptionDef } from '../../sim/market.ts';
import { hash01 } from '../../sim/prng.ts';
import { VenueChain } from '../chain-subset.ts';
import { VenueTape } from '../venue-tape.ts';
import type { SimTrade, TradeBook } from '../../sim/trade-book.ts';
import { num } from '../format.ts';
import { pushBook } from '../books.ts';
import type { RestAnswer } from '../../http/rest-relay.ts';
import type { VenueHub, VenueSource } from '../hub.ts';
import type { VenueSession } from '../session.ts';
import { okxChecksum, okxOptionId, okxUmOptionId, type OkxBooksMode } from './protocol.ts';

/** Coin per option contract (ctVal x ctMult). */
export const OKX_OPTION_CT_VAL = 1;
export const OKX_OPTION_CT_MULT = 0.1;
export const OKX_SWAP_CT_VAL: Record<Currency, number> = { BTC: 0.01, ETH: 0.1 };
/** Share of the simulator's (Deribit-sized) open interest listed on OKX. */
export const OKX_OI_SHARE = 0.3;
/** The USD-margined family: coin per contract (ctVal, ctMult 1), its share of the open interest, its settlement. */
export const OKX_UM_CT_VAL: Record<Currency, number> = { BTC: 0.01, ETH: 0.1 };
export const OKX_UM_OI_SHARE = 0.1;
export const OKX_UM_SETTLE = 'USD';
const SENTINEL = '987654321.5';

// name tables are Maps: a plain object would answer `constructor` or `__proto__` with its prototype's members
const SWAP: ReadonlyMap<string, Currency> = new Map([
  ['BTC-USDT-SWAP', 'BTC'],
  ['ETH-USDT-SWAP', 'ETH'],
]);
const INDEX_IDS: ReadonlyMap<string, Currency> = new Map([
  ['BTC-USD', 'BTC'],
  ['ETH-USD', 'ETH'],
  ['BTC-USDT', 'BTC'],
  ['ETH-USDT', 'ETH'],
]);
/** Option family -> coin and whether it is the USD-margined one. */
const FAMILY: ReadonlyMap<string, { c: Currency; um: boolean }> = new Map([
  ['BTC-USD', { c: 'BTC', um: false }],
  ['ETH-USD', { c: 'ETH', um: false }],
  ['BTC-USD_UM', { c: 'BTC', um: true }],
  ['ETH-USD_UM', { c: 'ETH', um: true }],
]);

type Level4 = [string, string, string, string];

type Topic =
  | { ch: 'opt-summary'; c: Currency; um: boolean; arg: Record<string, string> }
  | { ch: 'index-tickers'; c: Currency; instId: string; arg: Record<string, string> }
  | { ch: 'mark-price' | 'funding-rate' | 'books'; c: Currency; instId: string; arg: Record<string, string> }
  | { ch: 'open-interest'; c: Currency; instId: string; swap: boolean; um: boolean; arg: Record<string, string> }
  | { ch: 'option-trades'; c: Currency; instFamily?: string; instId?: string; arg: Record<string, string> };

/** OKX option trades per push (one, as OKX sends them) and the REST answer's size (the latest 100). */
const OKX_RECENT_TRADES = 100;

export class OkxSim implements VenueSource {
  readonly chain: VenueChain;
  /** The USD-margined family's listing. */
  readonly umChain: VenueChain;
  private badIdx = 0;
  readonly injected = { badNumbers: 0, gap: 0 };
  /** OKX's hidden book and tape over both families (its open interest and `option-trades`). */
  readonly tape: VenueTape;

  get tradeBook(): TradeBook {
    return this.tape.book;
  }

  constructor(
    readonly hub: VenueHub,
    readonly sim: MarketSim,
    readonly books: OkxBooksMode = 'current',
  ) {
    this.chain = new VenueChain(sim, {
      name: okxOptionId,
      keepExpiry: (_e, i, all) => i < all.length - 1,
      keepStrike: (_k, i, _n, atm) => Math.abs(i - atm) <= 4 || i % 3 !== 2,
    });
    this.umChain = new VenueChain(sim, {
      name: okxUmOptionId,
      keepExpiry: (_e, i, all) => i % 2 === 0 && i < all.length - 1,
      keepStrike: (_k, i, _n, atm) => Math.abs(i - atm) <= 3 || i % 2 === 0,
    });
    this.tape = new VenueTape(sim, 'okx', OKX_OI_SHARE + OKX_UM_OI_SHARE, [
      { chain: this.chain, name: okxOptionId, share: OKX_OI_SHARE, unitCoin: () => OKX_OPTION_CT_VAL * OKX_OPTION_CT_MULT, lotUnits: () => 1 },
      { chain: this.umChain, name: okxUmOptionId, share: OKX_UM_OI_SHARE, unitCoin: (c) => OKX_UM_CT_VAL[c], lotUnits: () => 1 },
    ]);
  }

  /** Contracts of open interest of a USD-margined option (whole contracts of 0.01 BTC / 0.1 ETH): the sum of its book's longs. */
  umOiContracts(d: OptionDef): number {
    return this.tape.openInterest(d.currency, okxUmOptionId(d));
  }

  /** Contracts of open interest (whole contracts of 0.1 coin): the sum of its book's longs. */
  oiContracts(d: OptionDef): number {
    return this.tape.openInterest(d.currency, okxOptionId(d));
  }

  // ---- topics -----------------------------------------------------------------------------------

  private parseArg(a: unknown): Topic | null {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return null;
    const r = a as Record<string, unknown>;
    const channel = r.channel;
    if (channel === 'opt-summary') {
      const fam = typeof r.instFamily === 'string' ? r.instFamily : '';
      const f = FAMILY.get(fam);
      return f ? { ch: 'opt-summary', c: f.c, um: f.um, arg: { channel, instFamily: fam } } : null;
    }
    const instId = typeof r.instId === 'string' ? r.instId : '';
    if (channel === 'option-trades') {
      // by instrument family (both families), or one instrument (instId wins, as on OKX)
      if (instId) {
        for (const cc of CURRENCIES) if (this.chain.byName(cc).has(instId) || this.umChain.byName(cc).has(instId)) return { ch: channel, c: cc, instId, arg: { channel, instId } };
        return null;
      }
      const fam = typeof r.instFamily === 'string' ? r.instFamily : '';
      const f = FAMILY.get(fam);
      return f ? { ch: channel, c: f.c, instFamily: fam, arg: { channel, instFamily: fam } } : null;
    }
    switch (channel) {
      case 'index-tickers': {
        const c = INDEX_IDS.get(instId);
        return c ? { ch: channel, c, instId, arg: { channel, instId } } : null;
      }
      case 'mark-price':
      case 'funding-rate':
      case 'books': {
        const c = SWAP.get(instId);
        return c ? { ch: channel, c, instId, arg: { channel, instId } } : null;
      }
      case 'open-interest': {
        const c = SWAP.get(instId);
        if (c) return { ch: channel, c, instId, swap: true, um: false, arg: { channel, instId } };
        for (const cc of CURRENCIES) {
          if (this.chain.byName(cc).has(instId)) return { ch: channel, c: cc, instId, swap: false, um: false, arg: { channel, instId } };
          if (this.umChain.byName(cc).has(instId)) return { ch: channel, c: cc, instId, swap: false, um: true, arg: { channel, instId } };
        }
        return null;
      }
      default:
        return null;
    }
  }

  private parseKey(key: string): Topic | null {
    try {
      return this.parseArg(JSON.parse(key));
    } catch {
      return null;
    }
  }

  serves(key: string): boolean {
    return this.parseKey(key) !== null;
  }

  /** Books: the snapshot goes out at once (`legacy`), or the session's deltas start from the book now (`current`). */
  subscribed(s: VenueSession, keys: readonly string[]): void {
    if (!this.hub.dataOn && this.books === 'legacy') return;
    for (const key of keys) {
      const t = this.parseKey(key);
      if (t?.ch === 'books') this.sendBook(s, key, t);
    }
  }

  // ---- outbound ---------------------------------------------------------------------------------

  tick(tickNo: number): void {
    const hub = this.hub;
    const trades = this.tape.fresh();
    hub.forEachSubscription((s, key, once) => {
      const t = this.parseKey(key);
      if (!t) {
        s.subs.delete(key); // e.g. an option that expired: OKX stops pushing it
        return;
      }
      if (t.ch === 'option-trades') {
        // one trade per push, every one (essential: a lost trade is a wrong position, not a late one)
        const rows = (trades.get(t.c) ?? []).filter((x) => this.inTopic(t, x));
        for (const f of once(() => rows.map((x) => JSON.stringify({ arg: t.arg, data: [this.tradeRow(x)] })))) s.push(key, f, false, true, true);
        return;
      }
      if (t.ch === 'books') {
        this.sendBook(s, key, t);
        return;
      }
      const every = t.ch === 'opt-summary' ? 10 : t.ch === 'open-interest' ? 30 : t.ch === 'funding-rate' ? 10 : 2;
      if (tickNo % every !== 0) return;
      const bad = hub.fault('badNumbers') && (t.ch === 'opt-summary' || (t.ch === 'open-interest' && !t.swap));
      for (const f of bad ? this.frames(t, true) : once(() => this.frames(t, false))) s.push(key, f);
    });
  }

  /** Frames of one topic now (opt-summary is split in chunks of 100 rows, as OKX does). */
  frames(t: Topic, bad: boolean): string[] {
    const sim = this.sim;
    const ts = String(this.hub.nowMs());
    switch (t.ch) {
      case 'opt-summary': {
        const rows: Record<string, string>[] = [];
        const name = t.um ? okxUmOptionId : okxOptionId;
        for (const d of (t.um ? this.umChain : this.chain).options(t.c)) {
          const q = sim.quote(d.name);
          if (!q) continue;
          rows.push({
            instType: 'OPTION',
            instId: name(d),
            uly: `${t.c}-USD`,
            delta: num(q.delta - q.markPrice, 10),
            gamma: num(q.gamma * q.forward, 10),
            vega: num(q.vega / q.forward, 10),
            theta: num(q.theta / q.forward, 10),
            lever: num(q.markPrice > 0 ? 1 / q.markPrice : 10_000, 6),
            markVol: num(q.markIvPct / 100, 10),
            bidVol: num(q.bidIvPct / 100, 10),
            askVol: num(q.askIvPct / 100, 10),
            realVol: '',
            deltaBS: num(q.delta, 10),
            gammaBS: num(q.gamma, 10),
            thetaBS: num(q.theta, 10),
            vegaBS: num(q.vega, 10),
            ts,
            fwdPx: num(q.forward, 8),
            volLv: num(q.markIvPct / 100, 10),
          });
        }
        if (bad && rows.length >= 5) {
          const k = this.badIdx++;
          rows[0].markVol = '1000000000';
          rows[1].markVol = 'NaN';
          rows[2].fwdPx = '-1';
          rows[3].markVol = k % 2 === 0 ? '1e400' : '-0.5';
          rows[4].ts = 'soon';
          this.injected.badNumbers += 5;
        }
        const out: string[] = [];
        const arg = t.arg;
        for (let i = 0; i < rows.length; i += 100) out.push(JSON.stringify({ arg, data: rows.slice(i, i + 100) }));
        return out;
      }
      case 'index-tickers': {
        const p = sim.index(t.c);
        return [JSON.stringify({ arg: t.arg, data: [{ instId: t.instId, idxPx: num(p, 2), high24h: num(p * 1.02, 2), low24h: num(p * 0.98, 2), open24h: num(p, 2), sodUtc0: num(p, 2), sodUtc8: num(p, 2), ts }] })];
      }
      case 'mark-price': {
        const pp = sim.perp(t.c);
        return [JSON.stringify({ arg: t.arg, data: [{ instType: 'SWAP', instId: t.instId, markPx: num(pp.markPrice, 2), ts }] })];
      }
      case 'funding-rate': {
        const pp = sim.perp(t.c);
        const eight = 8 * 3_600_000;
        const fundingTime = Math.ceil((this.hub.nowMs() + 1) / eight) * eight;
        return [
          JSON.stringify({
            arg: t.arg,
            data: [{ instType: 'SWAP', instId: t.instId, method: 'current_period', fundingRate: num(pp.funding8h, 10), nextFundingRate: '', fundingTime: String(fundingTime), nextFundingTime: String(fundingTime + eight), minFundingRate: '-0.00375', maxFundingRate: '0.00375', settState: 'settled', settFundingRate: num(pp.funding8h, 10), premium: '0.0001', ts }],
          }),
        ];
      }
      case 'open-interest': {
        if (t.swap) {
          const pp = sim.perp(t.c);
          const coin = (pp.openInterestUsd / pp.markPrice) * 0.4;
          const oi = Math.round(coin / OKX_SWAP_CT_VAL[t.c]);
          const oiCcy = oi * OKX_SWAP_CT_VAL[t.c];
          return [JSON.stringify({ arg: t.arg, data: [{ instType: 'SWAP', instId: t.instId, oi: String(oi), oiCcy: num(oiCcy, 4), oiUsd: num(oiCcy * pp.markPrice, 2), ts }] })];
        }
        const d = (t.um ? this.umChain : this.chain).byName(t.c).get(t.instId);
        if (!d) return [];
        const oi = t.um ? this.umOiContracts(d) : this.oiContracts(d);
        const coinPerContract = t.um ? OKX_UM_CT_VAL[t.c] : OKX_OPTION_CT_VAL * OKX_OPTION_CT_MULT;
        let oiS = String(oi);
        let oiCcyS = num(oi * coinPerContract, 4);
        if (bad && this.badIdx++ % 4 === 0) {
          if (this.badIdx % 8 < 4) oiS = '-5';
          else oiCcyS = SENTINEL;
          this.injected.badNumbers++;
        }
        const text = JSON.stringify({ arg: t.arg, data: [{ instType: 'OPTION', instId: t.instId, oi: oiS, oiCcy: oiCcyS, oiUsd: num(oi * coinPerContract * sim.index(t.c), 2), ts }] });
        return [text.replace(`"${SENTINEL}"`, '"1e400"')];
      }
      default:
        return [];
    }
  }

  /** Whether a trade belongs to an `option-trades` subscription (its family, or its instrument). */
  private inTopic(t: { instFamily?: string; instId?: string }, x: SimTrade): boolean {
    return t.instId !== undefined ? x.line.name === t.instId : familyOf(x.line.name) === t.instFamily;
  }

  /**
   * An `option-trades` row: `sz` contracts, `side` the taker's, `px` in coin for `-USD` and USD for
   * `-USD_UM`, `fillVol` the trade's IV (decimal), `fwdPx`, `idxPx`, `markPx`, numbers as strings.
   */
  tradeRow(x: SimTrade): Record<string, string> {
    const buy = x.takerSide === 'buy';
    const q = this.sim.tradeQuote(x.line.def, buy);
    const fam = familyOf(x.line.name);
    const usd = fam.endsWith('_UM');
    return {
      instId: x.line.name,
      instFamily: fam,
      tradeId: String(x.id),
      px: usd ? num(Math.max(5, Math.round((q.price * q.forward) / 5) * 5)) : num(q.price, 4),
      sz: num(x.amount),
      side: x.takerSide,
      optType: x.line.def.isCall ? 'C' : 'P',
      fillVol: num(q.ivPct / 100, 8),
      fwdPx: num(q.forward, 2),
      idxPx: num(q.index, 2),
      markPx: num(q.mark, 8),
      ts: String(x.timestampMs),
    };
  }

  /** `GET /api/v5/public/option-trades?instFamily=|instId=[&optType=C|P]`: the latest 100 trades, newest first. */
  private recentTrades(q: URLSearchParams): RestAnswer {
    const t = this.parseArg({ channel: 'option-trades', instFamily: q.get('instFamily') ?? undefined, instId: q.get('instId') ?? undefined });
    if (t?.ch !== 'option-trades') return { status: 200, body: { code: '51000', msg: 'Parameter instFamily error', data: [] } };
    const optType = q.get('optType');
    if (optType !== null && optType !== 'C' && optType !== 'P') return { status: 200, body: { code: '51000', msg: 'Parameter optType error', data: [] } };
    this.hub.tradeHistoryRequests++;
    const rows = this.tape.book.recent(t.c, OKX_RECENT_TRADES, (x) => this.inTopic(t, x) && (optType === null || x.line.def.isCall === (optType === 'C')));
    return { status: 200, body: { code: '0', msg: '', data: rows.map((x) => this.tradeRow(x)) } };
  }

  /** The swap book in contracts, levels as OKX writes them. */
  bookLevels(c: Currency): { bids: Level4[]; asks: Level4[] } {
    const book = this.sim.book(c);
    const ct = OKX_SWAP_CT_VAL[c];
    const conv = (side: [number, number][]) =>
      side.slice(0, 400).map(([px, usd]): Level4 => {
        const contracts = Math.max(1, Math.round(((usd / px) * 0.5) / ct));
        return [num(px, 2), String(contracts), '0', String(1 + Math.floor(hash01(this.sim.seed, 'okx', c, px) * 9))];
      });
    return { bids: conv(book.bids), asks: conv(book.asks) };
  }

  private sendBook(s: VenueSession, key: string, t: Topic): void {
    if (t.ch !== 'books') return;
    const ts = String(this.hub.nowMs());
    const seqId = this.sim.bookChangeId(t.c);
    const legacy = this.books === 'legacy';
    pushBook(s, key, seqId, () => this.bookLevels(t.c), {
      removed: (px): Level4 => [px, '0', '0', '0'],
      gaps: true,
      onGap: () => this.injected.gap++,
      snapshot: legacy,
      frame: (kind, bids, asks, prevSeqId, full) => {
        const checksum = legacy ? okxChecksum(full.bids.map((l) => [l[0], l[1]]), full.asks.map((l) => [l[0], l[1]])) : 0;
        return JSON.stringify({ arg: t.arg, action: kind === 'snapshot' ? 'snapshot' : 'update', data: [{ asks, bids, ts, checksum, prevSeqId, seqId }] });
      },
    });
  }

  /** `GET /api/v5/market/books?instId=C-USDT-SWAP&sz=N`: the book now, with the seqId its next update continues. */
  private bookSnapshot(q: URLSearchParams): RestAnswer {
    const c = SWAP.get(q.get('instId') ?? '');
    if (!c) return { status: 200, body: { code: '51001', msg: "Instrument ID doesn't exist", data: [] } };
    const sz = Math.max(1, Math.min(400, Number(q.get('sz') ?? 1) || 1));
    const { bids, asks } = this.bookLevels(c);
    const data = [{ asks: asks.slice(0, sz), bids: bids.slice(0, sz), ts: String(this.hub.nowMs()), seqId: this.sim.bookChangeId(c) }];
    return { status: 200, body: { code: '0', msg: '', data } };
  }

  // ---- REST (simulated answers) -----------------------------------------------------------------

  /** `GET /api/v5/public/instruments` for OPTION (instFamily/uly) and SWAP (instId). */
  rest(path: string, q: URLSearchParams): RestAnswer {
    if (path === '/api/v5/market/books') return this.bookSnapshot(q);
    if (path === '/api/v5/public/option-trades') return this.recentTrades(q);
    if (path !== '/api/v5/public/instruments') return { status: 404, body: { code: '50030', msg: 'Illegal request path', data: [] } };
    const type = q.get('instType');
    if (type === 'OPTION') {
      const fam = q.get('instFamily') ?? q.get('uly') ?? '';
      const f = FAMILY.get(fam);
      if (!f) return { status: 200, body: { code: '51000', msg: 'Parameter instFamily error', data: [] } };
      const { c, um } = f;
      const listTime = String(this.hub.nowMs());
      const data = (um ? this.umChain : this.chain).options(c).map((d) => ({
        alias: '',
        baseCcy: '',
        category: '1',
        ctMult: um ? '1' : num(OKX_OPTION_CT_MULT),
        ctType: '',
        ctVal: num(um ? OKX_UM_CT_VAL[c] : OKX_OPTION_CT_VAL),
        ctValCcy: c,
        expTime: String(d.expiryMs),
        instFamily: fam,
        instId: (um ? okxUmOptionId : okxOptionId)(d),
        instType: 'OPTION',
        lever: '',
        listTime: String(d.createdMs || listTime),
        lotSz: '1',
        maxLmtSz: '10000',
        maxMktSz: '5000',
        minSz: '1',
        optType: d.isCall ? 'C' : 'P',
        quoteCcy: '',
        settleCcy: um ? OKX_UM_SETTLE : c,
        state: 'live',
        stk: String(d.strike),
        tickSz: um ? '5' : '0.0005',
        uly: `${c}-USD`,
      }));
      return { status: 200, body: { code: '0', msg: '', data } };
    }
    if (type === 'SWAP') return okxSwapInstruments(q.get('instId'));
    return { status: 200, body: { code: '51000', msg: 'Parameter instType error', data: [] } };
  }
}

/** The family of an OKX option id: `BTC-USD` or `BTC-USD_UM`. */
function familyOf(instId: string): string {
  return instId.split('-').slice(0, 2).join('-');
}

/** `instType=SWAP[&instId=]`: OKX's linear USDT swaps (contract sizes are static venue facts). */
export function okxSwapInstruments(id: string | null): RestAnswer {
  const ids = id ? (SWAP.has(id) ? [id] : []) : [...SWAP.keys()];
  if (id && ids.length === 0) return { status: 200, body: { code: '51001', msg: "Instrument ID doesn't exist", data: [] } };
  const data = ids.map((instId) => {
    const c = SWAP.get(instId)!;
    return {
      alias: '', baseCcy: '', category: '1', ctMult: '1', ctType: 'linear', ctVal: num(OKX_SWAP_CT_VAL[c]), ctValCcy: c, expTime: '',
      instFamily: `${c}-USDT`, instId, instType: 'SWAP', lever: '100', listTime: '1611916828000', lotSz: '1', minSz: '1', optType: '',
      quoteCcy: '', settleCcy: 'USDT', state: 'live', stk: '', tickSz: c === 'BTC' ? '0.1' : '0.01', uly: `${c}-USDT`,
    };
  });
  return { status: 200, body: { code: '0', msg: '', data } };
}
