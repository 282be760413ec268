/**
 * The perpetual's order book from Deribit `book.{instrument}.100ms`: a snapshot, then changes chained
 * by change_id / prev_change_id. A broken chain is a gap: the caller resubscribes that one channel
 * (cheaper than a reconnect, and it yields a fresh snapshot); until then the book reports no depth.
 * Memory is bounded: each side keeps at most `maxLevels` prices, evicting the farthest from the touch.
 */
import { drop, isRecord, ok, readNumber, readString, readTimestampMs, type Read } from '../frame-guard.ts';
import { MAX_BOOK_LEVELS_PER_SIDE } from '../limits.ts';

export type BookAction = 'new' | 'change' | 'delete';
export type BookEntry = [action: BookAction, price: number, amount: number];

export interface BookData {
  instrument: string;
  timestampMs: number;
  changeId: number;
  /** Null on the first (snapshot) notification. */
  prevChangeId: number | null;
  isSnapshot: boolean;
  bids: BookEntry[];
  asks: BookEntry[];
}

/** The bands of PerpQuote.depth, percent of mid. */
export const DEPTH_BANDS_PCT = [0.5, 1, 2] as const;
/** Entries per side in one notification; beyond this the frame is dropped as oversize. */
export const MAX_BOOK_ENTRIES_PER_MESSAGE = 50_000;

function readEntries(v: unknown): Read<BookEntry[]> {
  if (!Array.isArray(v)) return drop('malformed');
  if (v.length > MAX_BOOK_ENTRIES_PER_MESSAGE) return drop('oversize');
  const out: BookEntry[] = [];
  for (const e of v) {
    if (!Array.isArray(e)) return drop('malformed');
    // Grouped books (`book.X.group.depth.interval`) send [price, amount]: always a full snapshot.
    const [action, price, amount] = e.length === 2 ? ['new', e[0], e[1]] : e.length === 3 ? e : [null, null, null];
    if (action !== 'new' && action !== 'change' && action !== 'delete') return drop('malformed');
    if (typeof price !== 'number' || typeof amount !== 'number') return drop('badNumber');
    if (!Number.isFinite(price) || price <= 0) return drop('badNumber');
    if (!Number.isFinite(amount) || amount < 0) return drop('badNumber');
    out.push([action, price, amount]);
  }
  return ok(out);
}

/** Validates a book notification's `data`. Never throws. */
export function parseBookData(data: unknown): Read<BookData> {
  if (!isRecord(data)) return drop('malformed');
  const instrument = readString(data, 'instrument_name');
  if (!instrument.ok) return instrument;
  const ts = readTimestampMs(data, 'timestamp');
  if (!ts.ok) return ts;
  const changeId = readNumber(data, 'change_id', { ge: 0 });
  if (!changeId.ok) return changeId;
  let prevChangeId: number | null = null;
  if (data.prev_change_id !== undefined && data.prev_change_id !== null) {
    const p = readNumber(data, 'prev_change_id', { ge: 0 });
    if (!p.ok) return p;
    prevChangeId = p.value;
  }
  const type = data.type;
  if (type !== undefined && type !== 'snapshot' && type !== 'change') return drop('malformed');
  // Older captures and grouped books carry no `type`: the first message (no prev_change_id) is the snapshot.
  const isSnapshot = type === 'snapshot' || (type === undefined && prevChangeId === null);
  const bids = readEntries(data.bids);
  if (!bids.ok) return bids;
  const asks = readEntries(data.asks);
  if (!asks.ok) return asks;
  return ok({
    instrument: instrument.value,
    timestampMs: ts.value,
    changeId: changeId.value,
    prevChangeId,
    isSnapshot,
    bids: bids.value,
    asks: asks.value,
  });
}

/** `duplicate`: the same change delivered twice (harmless, ignored; not a gap). */
export type BookApply = 'applied' | 'gap' | 'noSnapshot' | 'duplicate';

export interface DepthBand {
  bandPct: number;
  bidCoin: number;
  askCoin: number;
}

export class PerpBook {
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  private lastChangeId: number | null = null;
  private lastTimestampMs = 0;
  /** Levels evicted to keep memory bounded (for diagnostics). */
  evicted = 0;

  /**
   * @param inverse amounts are USD (Deribit inverse perp): coin = USD / price.
   * @param maxLevels cap per side.
   */
  constructor(
    readonly inverse: boolean,
    private readonly maxLevels = MAX_BOOK_LEVELS_PER_SIDE,
  ) {}

  get hasSnapshot(): boolean {
    return this.lastChangeId !== null;
  }

  get timestampMs(): number {
    return this.lastTimestampMs;
  }

  /** Forget everything; the next message must be a snapshot. */
  reset(): void {
    this.bids.clear();
    this.asks.clear();
    this.lastChangeId = null;
  }

  /** Applies a validated notification. A gap resets the book and tells the caller to resubscribe. */
  apply(d: BookData): BookApply {
    if (d.isSnapshot) {
      this.reset();
    } else {
      if (this.lastChangeId === null) return 'noSnapshot';
      if (d.changeId === this.lastChangeId && d.prevChangeId !== this.lastChangeId) return 'duplicate';
      if (d.prevChangeId !== this.lastChangeId) {
        this.reset();
        return 'gap';
      }
    }
    this.applySide(this.bids, d.bids, true);
    this.applySide(this.asks, d.asks, false);
    this.lastChangeId = d.changeId;
    this.lastTimestampMs = d.timestampMs;
    return 'applied';
  }

  private applySide(side: Map<number, number>, entries: BookEntry[], isBid: boolean): void {
    for (const [action, price, amount] of entries) {
      if (action === 'delete' || amount === 0) side.delete(price);
      else side.set(price, amount);
    }
    if (side.size > this.maxLevels) {
      // Evict the levels farthest from the touch (lowest bids, highest asks): one sort, not one scan per level.
      const prices = [...side.keys()].sort((a, b) => (isBid ? b - a : a - b));
      for (let i = this.maxLevels; i < prices.length; i++) side.delete(prices[i]);
      this.evicted += prices.length - this.maxLevels;
    }
  }

  bestBid(): number | null {
    if (!this.hasSnapshot) return null;
    let best = -Infinity;
    for (const p of this.bids.keys()) if (p > best) best = p;
    return best === -Infinity ? null : best;
  }

  bestAsk(): number | null {
    if (!this.hasSnapshot) return null;
    let best = Infinity;
    for (const p of this.asks.keys()) if (p < best) best = p;
    return best === Infinity ? null : best;
  }

  levels(): { bids: number; asks: number } {
    return { bids: this.bids.size, asks: this.asks.size };
  }

  /**
   * Resting size within +-band % of mid, in coin: bids at or above mid*(1-band), asks at or below
   * mid*(1+band). Empty when the book has no snapshot or one side is empty (no mid).
   */
  depth(bandsPct: readonly number[] = DEPTH_BANDS_PCT): DepthBand[] {
    const bid = this.bestBid();
    const ask = this.bestAsk();
    if (bid === null || ask === null) return [];
    const mid = (bid + ask) / 2;
    const out = bandsPct.map((bandPct) => ({ bandPct, bidCoin: 0, askCoin: 0 }));
    const coin = (price: number, amount: number) => (this.inverse ? amount / price : amount);
    for (const [p, a] of this.bids) {
      for (const b of out) if (p >= mid * (1 - b.bandPct / 100)) b.bidCoin += coin(p, a);
    }
    for (const [p, a] of this.asks) {
      for (const b of out) if (p <= mid * (1 + b.bandPct / 100)) b.askCoin += coin(p, a);
    }
    return out;
  }
}
