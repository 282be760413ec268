/**
 * The public trade tape of one venue and currency, as the worker keeps it for the `flow` model (design:
 * "Dealer positions from the trade tape"): every trade held once by its venue trade id, only trades
 * inside the window [W0, now], and per instrument the sums the model reads (B, S, trades, block trades)
 * kept as trades come and go, so a live trade costs one map update, never a pass over the tape.
 *
 * Beside the trades, `Coverage` says which spans of venue time the tape holds completely (history pages
 * fetched, the live channel while it was up): a line listed after the start of the span that reaches
 * now was seen whole; before the window is full the view says which window it covers.
 */
import type { Currency, TapeTrade, VenueId } from '../chain/model.ts';

/** The per-instrument sums over the trades held (contracts in the unit of the line's open interest). */
export interface InstrumentSums {
  /** B: contracts bought by takers. */
  bought: number;
  /** S: contracts sold by takers. */
  sold: number;
  trades: number;
  blockTrades: number;
}

/** What became of trades offered to the tape, by outcome. */
export interface AddOutcome {
  added: number;
  /** Already held (same venue trade id): a reconnect, a page overlap, a reload. */
  duplicate: number;
  /** Older than the window's start. */
  outsideWindow: number;
  /** Not a usable trade (another venue, no id, a bad number or side). */
  malformed: number;
}

/** The most trades one tape holds; past it the oldest go first (counted), never a crash. */
export const MAX_TAPE_TRADES = 1_000_000;

/** A trade the tape can hold: its own venue, an id, a finite time and a finite non-negative size. */
export function isUsableTrade(t: TapeTrade, venue: VenueId): boolean {
  return typeof t === 'object' && t !== null && t.venue === venue && typeof t.tradeId === 'string' && t.tradeId.length > 0
    && typeof t.instrument === 'string' && t.instrument.length > 0 && Number.isFinite(t.timestampMs)
    && (t.takerSide === 'buy' || t.takerSide === 'sell') && Number.isFinite(t.contracts) && t.contracts >= 0;
}

export class Tape {
  private readonly byId = new Map<string, TapeTrade>();
  /** Min-heap by time: the oldest trade leaves first when the window moves. */
  private readonly heap: TapeTrade[] = [];
  private readonly sums = new Map<string, InstrumentSums>();
  private windowStart = -Infinity;
  /** Trades that left because the tape was full (the window is then shorter than asked). */
  droppedOverCapacity = 0;
  readonly coverage = new Coverage();

  constructor(
    readonly venue: VenueId,
    readonly currency: Currency,
    private readonly maxTrades = MAX_TAPE_TRADES,
  ) {}

  /** Trades held. */
  get size(): number {
    return this.heap.length;
  }

  /** W0 the tape was last bounded to (-Infinity before the first). */
  get windowStartMs(): number {
    return this.windowStart;
  }

  /** Time of the oldest trade held, or null. */
  get oldestMs(): number | null {
    return this.heap.length > 0 ? this.heap[0].timestampMs : null;
  }

  /** Adds trades not yet held that are inside the window; the sums follow. Those taken are pushed to `taken`. */
  add(trades: Iterable<TapeTrade>, taken?: TapeTrade[]): AddOutcome {
    const out: AddOutcome = { added: 0, duplicate: 0, outsideWindow: 0, malformed: 0 };
    for (const t of trades) {
      if (!isUsableTrade(t, this.venue)) out.malformed++;
      else if (this.byId.has(t.tradeId)) out.duplicate++;
      else if (t.timestampMs < this.windowStart) out.outsideWindow++;
      else {
        if (this.heap.length >= this.maxTrades) this.dropOldest();
        this.byId.set(t.tradeId, t);
        this.push(t);
        this.count(t, 1);
        taken?.push(t);
        out.added++;
      }
    }
    return out;
  }

  /**
   * Bounds the tape to the window starting at `startMs` (venue time): older trades leave and their
   * contracts leave the sums; coverage before it is forgotten. Returns the trades removed.
   */
  setWindowStart(startMs: number): number {
    this.windowStart = startMs;
    let removed = 0;
    while (this.heap.length > 0 && this.heap[0].timestampMs < startMs) {
      this.remove(this.pop());
      removed++;
    }
    this.coverage.trimBefore(startMs);
    return removed;
  }

  /** The sums of an instrument, undefined when no trade of it is held. */
  sumsOf(instrument: string): InstrumentSums | undefined {
    return this.sums.get(instrument);
  }

  has(tradeId: string): boolean {
    return this.byId.has(tradeId);
  }

  /** Every trade held, in no particular order. */
  trades(): IterableIterator<TapeTrade> {
    return this.byId.values();
  }

  /** Totals over every instrument held (trades and block trades). */
  totals(): { trades: number; blockTrades: number } {
    let trades = 0;
    let blockTrades = 0;
    for (const s of this.sums.values()) {
      trades += s.trades;
      blockTrades += s.blockTrades;
    }
    return { trades, blockTrades };
  }

  private dropOldest(): void {
    const t = this.pop();
    this.remove(t);
    this.droppedOverCapacity++;
    // The tape no longer holds everything up to this trade: its coverage starts after it.
    this.coverage.trimBefore(t.timestampMs + 1);
  }

  private remove(t: TapeTrade): void {
    this.byId.delete(t.tradeId);
    this.count(t, -1);
  }

  private count(t: TapeTrade, sign: 1 | -1): void {
    let s = this.sums.get(t.instrument);
    if (!s) this.sums.set(t.instrument, (s = { bought: 0, sold: 0, trades: 0, blockTrades: 0 }));
    s.trades += sign;
    if (s.trades <= 0) {
      // The last trade of the line left: exact zeros, not the residue of additions and subtractions.
      this.sums.delete(t.instrument);
      return;
    }
    if (t.takerSide === 'buy') s.bought += sign * t.contracts;
    else s.sold += sign * t.contracts;
    if (t.block) s.blockTrades += sign;
  }

  private push(t: TapeTrade): void {
    const h = this.heap;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].timestampMs <= t.timestampMs) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = t;
  }

  private pop(): TapeTrade {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r].timestampMs < h[l].timestampMs ? r : l;
      if (h[c].timestampMs >= last.timestampMs) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
    return top;
  }
}

/** A span of venue time, [fromMs, toMs]. */
export interface Span {
  fromMs: number;
  toMs: number;
}

/**
 * The spans of venue time the tape holds every trade of: history pages fetched, and the live channel
 * while it was up (`liveFromMs`, open-ended: it reaches whatever "now" is asked). Spans are kept sorted
 * and merged where they touch.
 */
export class Coverage {
  private list: Span[] = [];
  /** Since when the live channel has been delivering (venue time), null while it is not. */
  liveFromMs: number | null = null;

  /** The closed spans, oldest first (a copy). */
  spans(): Span[] {
    return this.list.map((s) => ({ ...s }));
  }

  add(fromMs: number, toMs: number): void {
    if (!(fromMs <= toMs)) return;
    const out: Span[] = [];
    let cur = { fromMs, toMs };
    for (const s of this.list) {
      if (s.toMs < cur.fromMs) out.push(s);
      else if (s.fromMs > cur.toMs) {
        out.push(cur);
        cur = s;
      } else cur = { fromMs: Math.min(s.fromMs, cur.fromMs), toMs: Math.max(s.toMs, cur.toMs) };
    }
    out.push(cur);
    this.list = out;
  }

  /** Replaces the closed spans (from storage); bad ones are left out. */
  restore(spans: readonly Span[]): void {
    this.list = [];
    for (const s of spans) this.add(s.fromMs, s.toMs);
  }

  trimBefore(ms: number): void {
    this.list = this.list.filter((s) => s.toMs >= ms).map((s) => (s.fromMs < ms ? { fromMs: ms, toMs: s.toMs } : s));
    if (this.liveFromMs !== null && this.liveFromMs < ms) this.liveFromMs = ms;
  }

  /** The live channel stopped at `atMs`: what it delivered becomes a closed span. */
  endLive(atMs: number): void {
    if (this.liveFromMs !== null) this.add(this.liveFromMs, Math.max(this.liveFromMs, atMs));
    this.liveFromMs = null;
  }

  /** The closed spans with the live one closed at `nowMs` (what is saved). */
  spansAt(nowMs: number): Span[] {
    const c = new Coverage();
    c.restore(this.list);
    if (this.liveFromMs !== null) c.add(this.liveFromMs, Math.max(this.liveFromMs, nowMs));
    return c.list;
  }

  /**
   * The start of the covered stretch that reaches `nowMs` without a gap (a line listed after it was seen
   * whole), or null when `nowMs` itself is not covered.
   */
  coveredFrom(nowMs: number): number | null {
    const spans = this.spansAt(nowMs);
    const last = spans[spans.length - 1];
    return last && last.fromMs <= nowMs && last.toMs >= nowMs ? last.fromMs : null;
  }

  /** The parts of [fromMs, toMs] not covered, oldest first. */
  gaps(fromMs: number, toMs: number, nowMs = toMs): Span[] {
    const out: Span[] = [];
    let at = fromMs;
    for (const s of this.spansAt(nowMs)) {
      if (s.toMs < at) continue;
      if (s.fromMs > toMs) break;
      if (s.fromMs > at) out.push({ fromMs: at, toMs: s.fromMs });
      at = Math.max(at, s.toMs);
    }
    if (at < toMs) out.push({ fromMs: at, toMs });
    return out;
  }
}
