/** The simulator behind the Deribit protocol: requests, channels and the fault-mutated data path. */
import type { SimClock } from '../../clock.ts';
import type { FaultState } from '../../faults/state.ts';
import { CURRENCIES, indexNameOf, type Currency, type MarketSim, type SimEvent } from '../../sim/market.ts';
import { parseInstrumentName } from '../../sim/calendar.ts';
import { instrumentRow, optionTicker, perpInstrumentRow, perpSummaryRow, perpTicker, summaryRow } from './frames.ts';
import { eachSubscription } from '../client-socket.ts';
import type { DeribitHub, Session } from './hub.ts';
import { ERR, type DeribitSource, type RpcReply } from './types.ts';

type Parsed =
  | { t: 'ticker'; inst: string; every: number }
  | { t: 'book'; inst: Currency; every: number }
  | { t: 'bookGrouped'; inst: Currency; group: number; depth: number; every: number }
  | { t: 'markprice'; c: Currency; every: number }
  | { t: 'index'; c: Currency; every: number }
  | { t: 'estimated'; c: Currency; every: number }
  | { t: 'perpetual'; c: Currency; every: number }
  | { t: 'state'; kind: string; cur: string }
  | { t: 'platform' };

/** Placeholder swapped for the literal 1e400 in the serialised text. */
const SENTINEL = 987654321.123;
// name tables are Maps: a plain object would answer `constructor` or `__proto__` with its prototype's members
const INTERVAL_TICKS: ReadonlyMap<string, number> = new Map([
  ['raw', 1],
  ['100ms', 1],
  ['agg2', 20],
]);
const IDX: ReadonlyMap<string, Currency> = new Map([
  ['btc_usd', 'BTC'],
  ['eth_usd', 'ETH'],
]);
const PERP: ReadonlyMap<string, Currency> = new Map([
  ['BTC-PERPETUAL', 'BTC'],
  ['ETH-PERPETUAL', 'ETH'],
]);
/** Grouped-book groups Deribit documents per currency (ETH's are hundredths: `5` groups by 0.05). */
const BOOK_GROUPS: ReadonlyMap<Currency, ReadonlyMap<string, number>> = new Map([
  ['BTC', new Map([['none', 0], ['1', 1], ['2', 2], ['5', 5], ['10', 10]])],
  ['ETH', new Map([['none', 0], ['5', 0.05], ['10', 0.1], ['25', 0.25], ['100', 1], ['250', 2.5]])],
]);

interface BookState {
  bids: Map<number, number>;
  asks: Map<number, number>;
  changeId: number;
}

const MALFORMED: (string | Buffer)[] = [
  '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC-PERP',
  '{}',
  '[]',
  'null',
  Buffer.from([0xde, 0xad, 0xbe, 0xef]),
  '{"jsonrpc":"2.0","method":"no_such_method","params":{}}',
  '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC-PERPETUAL.100ms","data":"not an object"}}',
  '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"nonexistent.channel.100ms","data":{"x":1}}}',
];

export class SimSource implements DeribitSource {
  readonly kind = 'sim' as const;
  private parsedCache = new Map<string, Parsed | null>();
  private frameCache = new Map<string, string>();
  private frameCacheAt = -1;
  private badCount = 0;
  private unannounced: SimEvent[] = [];
  private malformedIdx = 0;
  /** How many malformed / bad-number items were injected (tests compare with client counters). */
  readonly injected = { malformed: 0, badNumbers: 0, oversize: 0, gap: 0 };

  constructor(
    readonly sim: MarketSim,
    readonly clock: SimClock,
    private readonly faults: FaultState,
  ) {}

  nowMs(): number {
    return this.clock.now();
  }

  /**
   * Advance the market to the clock. Listing events wait for the next tick to announce them: a request
   * (an instrument or summary refresh) that advances the market past 08:00 first must not swallow them,
   * or clients never hear of the new expiries until their next full refresh.
   */
  private sync(): void {
    const events = this.sim.advanceTo(this.clock.now());
    if (events.length > 0) this.unannounced.push(...events);
  }

  private parse(ch: string): Parsed | null {
    const hit = this.parsedCache.get(ch);
    if (hit !== undefined) return hit;
    const p = parseChannel(ch);
    if (this.parsedCache.size > 20_000) this.parsedCache.clear();
    this.parsedCache.set(ch, p);
    return p;
  }

  channelOk(ch: string): boolean {
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
        if (this.faults.on('badNumbers', 'deribit') && rows.length > 0 && (kind === undefined || kind === 'option')) {
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
        if (this.faults.on('badNumbers', 'deribit') && rows.length >= 8) {
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
      case 'public/get_expirations': {
        return { result: { btc: { option: this.expCodes('BTC') }, eth: { option: this.expCodes('ETH') } } };
      }
      default:
        return undefined;
    }
  }

  private expCodes(c: Currency): string[] {
    return [...new Set(this.sim.instruments(c).map((d) => d.name.split('-')[1]))];
  }

  onSubscribed(hub: DeribitHub, s: Session, channels: string[]): void {
    // first book notification right away (a snapshot), as Deribit does
    for (const ch of channels) {
      const p = this.parse(ch);
      if (p && (p.t === 'book' || p.t === 'bookGrouped')) this.sendBook(s, ch, p);
    }
    void hub;
  }

  tick(hub: DeribitHub, tickNo: number): void {
    this.sync();
    const events = this.unannounced;
    this.unannounced = [];
    const f = this.faults;
    if (f.on('silent', 'deribit')) return; // a silent venue's listing events are lost, as on the wire
    if (events.length > 0) this.announce(hub, events);
    if (f.on('heartbeatOnly', 'deribit')) return;
    if (f.on('malformed', 'deribit') && tickNo % 5 === 0) for (const s of hub.sessions) this.sendMalformed(s);
    // a throw for one subscription is counted and the loop goes on: it cannot starve the sessions after it
    eachSubscription(hub.sessions, hub.errors, 'tick', (s, ch) => {
      const p = this.parse(ch);
      if (!p || p.t === 'state' || p.t === 'platform') return;
      if (tickNo % p.every !== 0) return;
      if (p.t === 'book' || p.t === 'bookGrouped') {
        this.sendBook(s, ch, p);
        return;
      }
      if (!s.takesData()) return; // backpressure: skip before building anything for this client
      const bad = f.on('badNumbers', 'deribit') && (p.t === 'ticker' || p.t === 'markprice');
      if (bad) {
        s.notify(ch, undefined, this.badFrame(ch, p));
        return;
      }
      const text = this.cachedFrame(ch, () => this.data(p));
      if (text !== undefined) s.notify(ch, undefined, text);
    });
  }

  /** The notification text of a channel at this step, built once for every session. */
  private cachedFrame(ch: string, data: () => unknown): string | undefined {
    const stepTime = this.sim.timeMs;
    if (this.frameCacheAt !== stepTime) {
      this.frameCache.clear();
      this.frameCacheAt = stepTime;
    }
    let text = this.frameCache.get(ch);
    if (text === undefined) {
      const d = data();
      if (d === undefined) return undefined;
      text = JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel: ch, data: d } });
      this.frameCache.set(ch, text);
    }
    return text;
  }

  private data(p: Parsed): unknown {
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
  private badFrame(ch: string, p: Parsed): string {
    const data = this.data(p) as Record<string, unknown> | Record<string, unknown>[] | undefined;
    const n = this.badCount++;
    this.injected.badNumbers++;
    if (Array.isArray(data)) {
      if (data.length > 3) {
        data[0].iv = 1e9;
        data[1].iv = -0.5;
        data[2].mark_price = 'NaN';
      }
      return JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel: ch, data } });
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
    const text = JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel: ch, data: d } });
    return text.replace(`"open_interest":${SENTINEL}`, '"open_interest":1e400');
  }

  private sendMalformed(s: Session): void {
    const params = this.faults.params('malformed') ?? {};
    const list = params.invalidUtf8 === true ? [...MALFORMED, 'invalid-utf8'] : MALFORMED;
    const item = list[this.malformedIdx++ % list.length];
    this.injected.malformed++;
    if (item === 'invalid-utf8') s.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false, false);
    else if (typeof item === 'string') s.sendRaw(item, false);
    else s.sendRaw(item, false, true);
  }

  private sendBook(s: Session, ch: string, p: Parsed): void {
    if (p.t !== 'book' && p.t !== 'bookGrouped') return;
    const f = this.faults;
    if (f.on('silent', 'deribit') || f.on('heartbeatOnly', 'deribit')) return;
    const c = p.inst;
    const changeId = this.sim.bookChangeId(c);
    const prev = p.t === 'book' ? (s.channelState.get(ch) as BookState | undefined) : undefined;
    if (prev && prev.changeId === changeId) return;
    if (!s.takesData()) return; // backpressure: skip before building anything for this client
    const t = this.sim.timeMs;
    const instrument_name = `${c}-PERPETUAL`;
    if (p.t === 'bookGrouped') {
      // whole every time and the same for every subscriber: built once a step
      const text = this.cachedFrame(ch, () => {
        const book = this.sim.book(c);
        return { timestamp: t, instrument_name, change_id: changeId, bids: groupLevels(book.bids, p.group, p.depth, false), asks: groupLevels(book.asks, p.group, p.depth, true) };
      });
      if (text !== undefined) s.notify(ch, undefined, text);
      return;
    }
    const book = this.sim.book(c);
    const bids = new Map(book.bids);
    const asks = new Map(book.asks);
    if (!prev) {
      s.channelState.set(ch, { bids, asks, changeId });
      s.notify(ch, {
        type: 'snapshot',
        timestamp: t,
        instrument_name,
        change_id: changeId,
        bids: book.bids.map(([px, a]) => ['new', px, a]),
        asks: book.asks.map(([px, a]) => ['new', px, a]),
      });
      return;
    }
    const diff = (old: Map<number, number>, now: Map<number, number>, desc: boolean) => {
      const out: [string, number, number][] = [];
      for (const [px, a] of now) {
        const o = old.get(px);
        if (o === undefined) out.push(['new', px, a]);
        else if (o !== a) out.push(['change', px, a]);
      }
      for (const px of old.keys()) if (!now.has(px)) out.push(['delete', px, 0]);
      out.sort((x, y) => (desc ? y[1] - x[1] : x[1] - y[1]));
      return out;
    };
    let prevId = prev.changeId;
    if (s.gapPending) {
      s.gapPending = false;
      prevId = prev.changeId - 3; // mismatch: the client must resubscribe
      this.injected.gap++;
    }
    const data = { type: 'change', timestamp: t, prev_change_id: prevId, instrument_name, change_id: changeId, bids: diff(prev.bids, bids, true), asks: diff(prev.asks, asks, false) };
    // diffs are against what this client last received, so a skipped frame only makes the next diff bigger
    const before = s.sentFrames;
    s.notify(ch, data);
    if (s.sentFrames > before) s.channelState.set(ch, { bids, asks, changeId });
  }

  private announce(hub: DeribitHub, events: SimEvent[]): void {
    const terminated = new Set(events.filter((e) => e.type === 'terminated').map((e) => e.instrumentName));
    eachSubscription(hub.sessions, hub.errors, 'announce', (s, ch) => {
      const p = this.parse(ch);
      // a subscribed ticker of an expired instrument stops; drop it so nothing stale is sent
      if (p?.t === 'ticker' && terminated.has(p.inst)) s.subs.delete(ch);
      if (!p || p.t !== 'state') return;
      if (p.kind !== 'option' && p.kind !== 'any') return;
      for (const e of events) {
        if (p.cur !== 'any' && p.cur !== e.currency) continue;
        s.notifyEssential(ch, { timestamp: e.timestamp, state: e.type, instrument_name: e.instrumentName });
      }
    });
  }

  /** One 10 MB frame to every session (the `oversize` fault). */
  sendOversize(hub: DeribitHub): number {
    const pad = 'x'.repeat(10 * 1024 * 1024);
    let n = 0;
    for (const s of hub.sessions) {
      const ch = [...s.subs].find((c) => c.startsWith('ticker.')) ?? 'ticker.BTC-PERPETUAL.100ms';
      const text = JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel: ch, data: { instrument_name: ch.split('.')[1], timestamp: this.sim.timeMs, padding: pad } } });
      if (s.sendOversized(text)) n++;
    }
    this.injected.oversize += n;
    return n;
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

export function parseChannel(ch: string): Parsed | null {
  const parts = ch.split('.');
  const every = (iv: string | undefined) => (iv !== undefined ? INTERVAL_TICKS.get(iv) : undefined);
  switch (parts[0]) {
    case 'ticker': {
      const e = every(parts[2]);
      if (parts.length !== 3 || e === undefined) return null;
      const pn = parseInstrumentName(parts[1]);
      if (!pn || (pn.currency !== 'BTC' && pn.currency !== 'ETH')) return null;
      return { t: 'ticker', inst: parts[1], every: e };
    }
    case 'book': {
      const c = PERP.get(parts[1]);
      if (!c) return null;
      if (parts.length === 3 && every(parts[2]) !== undefined) return { t: 'book', inst: c, every: every(parts[2])! };
      if (parts.length === 5 && every(parts[4]) !== undefined && ['1', '10', '20'].includes(parts[3])) {
        const group = BOOK_GROUPS.get(c)!.get(parts[2]);
        if (group === undefined) return null;
        return { t: 'bookGrouped', inst: c, group, depth: Number(parts[3]), every: every(parts[4])! };
      }
      return null;
    }
    case 'markprice': {
      const c = IDX.get(parts[2]);
      return parts.length === 3 && parts[1] === 'options' && c ? { t: 'markprice', c, every: 10 } : null;
    }
    case 'deribit_price_index': {
      const c = IDX.get(parts[1]);
      return parts.length === 2 && c ? { t: 'index', c, every: 1 } : null;
    }
    case 'estimated_expiration_price': {
      const c = IDX.get(parts[1]);
      return parts.length === 2 && c ? { t: 'estimated', c, every: 10 } : null;
    }
    case 'perpetual': {
      const c = PERP.get(parts[1]);
      const e = every(parts[2]);
      return parts.length === 3 && c && e !== undefined ? { t: 'perpetual', c, every: e } : null;
    }
    case 'instrument': {
      if (parts.length !== 4 || parts[1] !== 'state') return null;
      const kind = parts[2];
      const cur = parts[3];
      // Deribit's documented currency enum, case and all: `instrument.state.option.btc` is refused.
      if (!['option', 'future', 'any', 'spot', 'combo'].includes(kind) || !['BTC', 'ETH', 'USDC', 'USDT', 'any'].includes(cur)) return null;
      return { t: 'state', kind, cur };
    }
    case 'platform_state':
      return parts.length === 1 ? { t: 'platform' } : null;
    default:
      return null;
  }
}
