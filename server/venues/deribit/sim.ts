/**
 * The simulator behind the Deribit protocol: the public methods (instruments, book summary, ticker,
 * index), the channels' data at the simulator's step, snapshot-then-change books, instrument.state
 * listing events, and the `badNumbers` fault's absurd values. The other data-path faults are the
 * shared session's and hub's (../session.ts, ../hub.ts).
 *
 * This source advances the shared market to the venue clock every 100 ms (and before answering a
 * request), so listing events reach instrument.state; the other venues' simulators read the market at
 * its current step.
 */
import { CURRENCIES, indexNameOf, type Currency, type MarketSim, type SimEvent } from '../../sim/market.ts';
import { freshTrades, type SimTrade, type TradeBook } from '../../sim/trade-book.ts';
import { eachSubscription } from '../client-socket.ts';
import type { VenueHub } from '../hub.ts';
import type { VenueSession } from '../session.ts';
import { pushBook } from '../books.ts';
import { IDX, PERP, parseChannel, type Channel } from './channels.ts';
import { instrumentRow, optionTicker, perpInstrumentRow, perpSummaryRow, perpTicker, publicTrade, summaryRow } from './frames.ts';
import { ERR, notification, type DeribitSource, type RpcReply } from './protocol.ts';

/** Placeholder swapped for the literal 1e400 in the serialised text. */
const SENTINEL = 987654321.123;

/** A Deribit book entry: action, price, amount. */
type Entry = ['new' | 'change' | 'delete', number, number];

export class DeribitSim implements DeribitSource {
  private parsedCache = new Map<string, Channel | null>();
  private badCount = 0;
  private unannounced: SimEvent[] = [];
  /** How many bad-number items and book gaps were injected (tests compare with client counters). */
  readonly injected = { badNumbers: 0, gap: 0 };
  get tradeBook(): TradeBook {
    return this.sim.deribitBook;
  }

  /** The trade channel has published every trade up to this venue time, per currency. */
  private tradesSentTo = new Map<Currency, number>();

  constructor(
    readonly hub: VenueHub,
    readonly sim: MarketSim,
  ) {
    for (const c of CURRENCIES) this.tradesSentTo.set(c, sim.timeMs);
  }

  /**
   * Advance the market to the clock. Listing events wait for the next tick to announce them: a request
   * (an instrument or summary refresh) that advances the market past 08:00 first must not swallow them,
   * or clients never hear of the new expiries until their next full refresh.
   */
  private sync(): void {
    const events = this.sim.advanceTo(this.hub.clock.now());
    if (events.length > 0) this.unannounced.push(...events);
  }

  private parse(ch: string): Channel | null {
    const hit = this.parsedCache.get(ch);
    if (hit !== undefined) return hit;
    const p = parseChannel(ch);
    if (this.parsedCache.size > 20_000) this.parsedCache.clear();
    this.parsedCache.set(ch, p);
    return p;
  }

  serves(ch: string): boolean {
    const p = this.parse(ch);
    if (!p) return false;
    if (p.t === 'ticker') return PERP.has(p.inst) || this.sim.option(p.inst) !== undefined;
    return true;
  }

  request(method: string, params: Record<string, unknown>): RpcReply | undefined {
    this.sync();
    const sim = this.sim;
    switch (method) {
      case 'public/get_instruments': {
        const c = currencyParam(params.currency);
        if (!c) return { error: ERR.invalidParams('unknown currency', 'currency') };
        const kind = params.kind;
        if (params.expired === true || params.expired === 'true') return { result: [] };
        const rows: Record<string, unknown>[] = [];
        for (const cc of c) {
          if (kind === undefined || kind === 'option') for (const d of sim.instruments(cc)) rows.push(instrumentRow(sim, d));
          if (kind === undefined || kind === 'future') rows.push(perpInstrumentRow(sim, cc));
        }
        if (this.hub.fault('badNumbers') && rows.length > 0 && (kind === undefined || kind === 'option')) {
          const base = rows[0];
          rows.push({ ...base, instrument_name: String(base.instrument_name).replace(/-\d+-([CP])$/, '-0-$1'), strike: 0 });
          rows.push({ ...base, instrument_name: String(base.instrument_name).replace(/-\d+-([CP])$/, '-1000000000000-$1'), strike: 1e12 });
          this.injected.badNumbers += 2;
        }
        return { result: rows };
      }
      case 'public/get_book_summary_by_currency': {
        const c = currencyParam(params.currency);
        if (!c) return { error: ERR.invalidParams('unknown currency', 'currency') };
        const kind = params.kind;
        const rows: Record<string, unknown>[] = [];
        for (const cc of c) {
          if (kind === undefined || kind === 'option')
            for (const d of sim.instruments(cc)) {
              const q = sim.quote(d.name);
              if (q) rows.push(summaryRow(q));
            }
          if (kind === undefined || kind === 'future') rows.push(perpSummaryRow(sim.perp(cc), cc));
        }
        if (this.hub.fault('badNumbers') && rows.length >= 8) {
          rows[0].open_interest = -5;
          rows[1].mark_iv = 1e9;
          rows[2].underlying_price = 0;
          rows[3].mark_iv = 'NaN';
          rows[4].mark_iv = -5;
          rows[5].open_interest = SENTINEL;
          this.injected.badNumbers += 6;
          // 1e400 is not expressible through JSON.stringify: patch it into the text
          return { resultRaw: JSON.stringify(rows).replace(`"open_interest":${SENTINEL}`, '"open_interest":1e400') };
        }
        return { result: rows };
      }
      case 'public/ticker': {
        const name = String(params.instrument_name ?? '');
        const perp = PERP.get(name);
        if (perp) return { result: perpTicker(sim.perp(perp)) };
        const q = sim.quote(name);
        if (!q) return { error: ERR.invalidParams('instrument not found', 'instrument_name') };
        return { result: optionTicker(q) };
      }
      case 'public/get_index_price': {
        const c = IDX.get(String(params.index_name ?? ''));
        if (!c) return { error: ERR.invalidParams('unknown index', 'index_name') };
        const p = sim.index(c);
        return { result: { index_price: p, estimated_delivery_price: p } };
      }
      case 'public/get_index': {
        const c = currencyParam(params.currency)?.[0];
        if (!c) return { error: ERR.invalidParams('unknown currency', 'currency') };
        return { result: { [c]: sim.index(c), edp: sim.index(c) } };
      }
      case 'public/status':
        return { result: { locked: 'false', locked_indices: [] } };
      case 'public/get_last_trades_by_currency_and_time':
        return this.tradeHistory(params);
      case 'public/get_expirations': {
        return { result: { btc: { option: this.expCodes('BTC') }, eth: { option: this.expCodes('ETH') } } };
      }
      default:
        return undefined;
    }
  }

  /**
   * `public/get_last_trades_by_currency_and_time` {currency, kind, start_timestamp, end_timestamp, count
   * (default 10, at most 1,000), sorting asc|desc|default} -> {trades, has_more}: the trades with time in
   * [start, end] (both included), the first `count` of them oldest first (asc, and default here) or
   * newest first (desc); has_more when more of the window was left out. Kept back to the pre-history
   * (`preHistoryDays`), never ahead of the venue clock.
   */
  private tradeHistory(params: Record<string, unknown>): RpcReply {
    const c = currencyParam(params.currency);
    if (!c || c.length !== 1) return { error: ERR.invalidParams('unknown currency', 'currency') };
    const kind = params.kind ?? 'any';
    if (!['option', 'any', 'future', 'spot', 'combo', 'future_combo', 'option_combo'].includes(String(kind))) return { error: ERR.invalidParams('unknown kind', 'kind') };
    const int = (v: unknown, d: number): number | undefined => (v === undefined ? d : Number.isSafeInteger(Number(v)) ? Number(v) : undefined);
    const start = int(params.start_timestamp, 0);
    const end = int(params.end_timestamp, Number.MAX_SAFE_INTEGER);
    if (start === undefined) return { error: ERR.invalidParams('must be an integer', 'start_timestamp') };
    if (end === undefined) return { error: ERR.invalidParams('must be an integer', 'end_timestamp') };
    const count = int(params.count, 10);
    if (count === undefined || count < 1 || count > 1_000) return { error: ERR.invalidParams('must be 1..1000', 'count') };
    const sorting = params.sorting ?? 'default';
    if (sorting !== 'asc' && sorting !== 'desc' && sorting !== 'default') return { error: ERR.invalidParams('must be asc, desc or default', 'sorting') };
    this.hub.tradeHistoryRequests++;
    if (kind !== 'option' && kind !== 'any') return { result: { trades: [], has_more: false } };
    const book = this.sim.deribitBook;
    let picked: SimTrade[];
    let hasMore: boolean;
    if (sorting === 'desc') {
      const all = book.between(c[0], start, end);
      hasMore = all.length > count;
      picked = all.slice(-count).reverse();
    } else {
      picked = [];
      hasMore = false;
      book.each(c[0], start, end, (t) => {
        if (picked.length === count) {
          hasMore = true;
          return false;
        }
        picked.push(t);
      });
    }
    return { result: { trades: picked.map((t) => publicTrade(this.sim, t)), has_more: hasMore } };
  }

  private expCodes(c: Currency): string[] {
    return [...new Set(this.sim.instruments(c).map((d) => d.name.split('-')[1]))];
  }

  /** A book's first notification right away (a snapshot), as Deribit does. */
  subscribed(s: VenueSession, channels: readonly string[]): void {
    if (!this.hub.dataOn) return;
    for (const ch of channels) {
      const p = this.parse(ch);
      if (p && (p.t === 'book' || p.t === 'bookGrouped')) this.sendBook(s, ch, p, () => [notification(ch, this.groupedBook(p))]);
    }
  }

  tick(tickNo: number): void {
    this.sync();
    const events = this.unannounced;
    this.unannounced = [];
    if (this.hub.fault('silent')) return; // a silent venue's listing events are lost, as on the wire
    if (events.length > 0) this.announce(events);
    const trades = freshTrades(this.sim.deribitBook, this.tradesSentTo, this.sim.timeMs);
    const bad = this.hub.fault('badNumbers');
    this.hub.forEachSubscription((s, ch, once) => {
      const p = this.parse(ch);
      if (!p || p.t === 'state' || p.t === 'platform') return;
      if (tickNo % p.every !== 0) return;
      if (p.t === 'trades') {
        // every trade once, as an essential frame (a lost trade is a wrong position, not a late one)
        const rows = trades.get(p.c);
        if (rows && rows.length > 0) for (const text of once(() => [notification(ch, rows.map((t) => publicTrade(this.sim, t)))])) s.push(ch, text, false, true, true);
        return;
      }
      if (p.t === 'book' || p.t === 'bookGrouped') {
        this.sendBook(s, ch, p, () => once(() => [notification(ch, this.groupedBook(p))]));
        return;
      }
      if (!s.takesData()) return; // backpressure: skip before building anything for this client
      if (bad && (p.t === 'ticker' || p.t === 'markprice')) {
        s.push(ch, this.badFrame(ch, p));
        return;
      }
      for (const text of once(() => this.frames(ch, p))) s.push(ch, text);
    });
  }

  /** A channel's notification now (none for an instrument the simulator no longer lists). */
  private frames(ch: string, p: Channel): string[] {
    const d = this.data(p);
    return d === undefined ? [] : [notification(ch, d)];
  }

  private data(p: Channel): unknown {
    const sim = this.sim;
    const t = sim.timeMs;
    switch (p.t) {
      case 'ticker': {
        const perp = PERP.get(p.inst);
        if (perp) return perpTicker(sim.perp(perp));
        const q = sim.quote(p.inst);
        return q ? optionTicker(q) : undefined;
      }
      case 'markprice': {
        const out: unknown[] = [];
        for (const d of sim.instruments(p.c)) {
          const q = sim.quote(d.name)!;
          // iv is exactly the summary's mark_iv / 100 at the same step
          out.push({ timestamp: t, mark_price: q.markPrice, iv: q.markIvPct / 100, instrument_name: d.name });
        }
        return out;
      }
      case 'index':
        return { index_name: indexNameOf(p.c), price: sim.index(p.c), timestamp: t };
      case 'estimated':
        return { is_estimated: false, price: sim.index(p.c), seconds: Math.max(0, Math.round(((sim.listedExpiries()[0] ?? t) - t) / 1000)) };
      case 'perpetual': {
        const pp = sim.perp(p.c);
        return { timestamp: t, interest: pp.currentFunding, index_price: pp.index };
      }
      default:
        return undefined;
    }
  }

  /** A frame with one absurd value, rotating through the cases of the fault plan. */
  private badFrame(ch: string, p: Channel): string {
    const data = this.data(p) as Record<string, unknown> | Record<string, unknown>[] | undefined;
    const n = this.badCount++;
    this.injected.badNumbers++;
    if (Array.isArray(data)) {
      if (data.length > 3) {
        data[0].iv = 1e9;
        data[1].iv = -0.5;
        data[2].mark_price = 'NaN';
      }
      return notification(ch, data);
    }
    const d = { ...(data ?? {}) };
    switch (n % 7) {
      case 0:
        d.mark_iv = 1e9;
        break;
      case 1:
        d.mark_iv = 'NaN';
        break;
      case 2:
        d.open_interest = -1;
        break;
      case 3:
        d.underlying_price = 0;
        break;
      case 4:
        d.mark_iv = -5;
        break;
      case 5:
        d.timestamp = Number(d.timestamp) + 3_600_000;
        break;
      default:
        d.open_interest = SENTINEL;
    }
    return notification(ch, d).replace(`"open_interest":${SENTINEL}`, '"open_interest":1e400');
  }

  /**
   * A book notification: a chained book (`book.{PERP}.{interval}`) as a snapshot first, then changes
   * against what this session last received, tagged new/change/delete as Deribit does, chained by
   * change_id (the `gap` fault breaks the chain once; the client tells a repeated change by its id, so
   * `dup` acts on books too); a grouped book is whole every time and the same for every session.
   */
  private sendBook(s: VenueSession, ch: string, p: Channel, grouped: () => string[]): void {
    if (p.t === 'bookGrouped') {
      if (!s.takesData()) return;
      for (const text of grouped()) s.push(ch, text, true, true);
      return;
    }
    if (p.t !== 'book') return;
    const c = p.inst;
    const instrument_name = `${c}-PERPETUAL`;
    const t = this.sim.timeMs;
    const tag = (levels: [number, number][], sent: ReadonlyMap<number, number> | undefined, desc: boolean): Entry[] =>
      levels.map(([px, a]): Entry => [a === 0 ? 'delete' : sent?.has(px) ? 'change' : 'new', px, a]).sort((x, y) => (desc ? y[1] - x[1] : x[1] - y[1]));
    pushBook<[number, number]>(s, ch, this.sim.bookChangeId(c), () => this.sim.book(c), {
      removed: (px) => [px, 0],
      gaps: true,
      onGap: () => this.injected.gap++,
      dupsKnown: true,
      frame: (kind, bids, asks, prevSeq, _full, sent) =>
        kind === 'snapshot'
          ? notification(ch, { type: 'snapshot', timestamp: t, instrument_name, change_id: this.sim.bookChangeId(c), bids: tag(bids, undefined, true), asks: tag(asks, undefined, false) })
          : notification(ch, { type: 'change', timestamp: t, prev_change_id: prevSeq, instrument_name, change_id: this.sim.bookChangeId(c), bids: tag(bids, sent?.bids, true), asks: tag(asks, sent?.asks, false) }),
    });
  }

  /** A grouped book now: levels grouped as Deribit groups them, at most `depth` a side. */
  private groupedBook(p: Channel): unknown {
    if (p.t !== 'bookGrouped') return undefined;
    const book = this.sim.book(p.inst);
    return { timestamp: this.sim.timeMs, instrument_name: `${p.inst}-PERPETUAL`, change_id: this.sim.bookChangeId(p.inst), bids: groupLevels(book.bids, p.group, p.depth, false), asks: groupLevels(book.asks, p.group, p.depth, true) };
  }

  /** Listing events on instrument.state (essential frames); a subscribed ticker of an expired instrument stops. */
  private announce(events: SimEvent[]): void {
    const hub = this.hub;
    const terminated = new Set(events.filter((e) => e.type === 'terminated').map((e) => e.instrumentName));
    eachSubscription(hub.sessions, hub.errors, 'announce', (s, ch) => {
      const p = this.parse(ch);
      if (p?.t === 'ticker' && terminated.has(p.inst)) s.subs.delete(ch);
      if (!p || p.t !== 'state') return;
      if (p.kind !== 'option' && p.kind !== 'any') return;
      for (const e of events) {
        if (p.cur !== 'any' && p.cur !== e.currency) continue;
        s.announce(notification(ch, { timestamp: e.timestamp, state: e.type, instrument_name: e.instrumentName }));
      }
    });
  }
}

/** A book side grouped as Deribit groups it (bids down, asks up to the group), at most `depth` levels. */
function groupLevels(side: [number, number][], group: number, depth: number, up: boolean): [number, number][] {
  const m = new Map<number, number>();
  for (const [px, a] of side) {
    // toFixed: ETH groups are hundredths, and 3400.05 must not come out as 3400.0500000000002
    const g = group > 0 ? Number(((up ? Math.ceil(px / group) : Math.floor(px / group)) * group).toFixed(2)) : px;
    m.set(g, (m.get(g) ?? 0) + a);
  }
  return [...m.entries()].slice(0, depth);
}

function currencyParam(v: unknown): Currency[] | undefined {
  if (v === 'any') return [...CURRENCIES];
  return v === 'BTC' || v === 'ETH' ? [v] : undefined;
}

