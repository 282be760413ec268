/**
 * The perpetual's order book from Deribit `book.{instrument}.100ms`: a snapshot, then changes chained
 * by change_id / prev_change_id. A broken chain is a gap: the caller resubscribes that one channel
 * (cheaper than a reconnect, and it yields a fresh snapshot); until then the book reports no depth.
 * The levels live in the venue-neutral LevelBook (../level-book.ts); memory is bounded: each side
 * keeps at most `maxLevels` prices, evicting the farthest from the touch.
 */
import type { PerpQuote } from '../../chain/model.ts';
import { drop, isRecord, ok, readNumber, readString, readTimestampMs, type Read } from '../frame-guard.ts';
import { LevelBook, depthWithinBands } from '../level-book.ts';
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

/** What the perp quote takes from the book: the touch and PerpQuote.depth (empty without a book). */
export interface BookTop {
  bestBid: number | null;
  bestAsk: number | null;
  depth: PerpQuote['depth'];
}

/**
 * The change_id chain of one `book.{instrument}` channel over the venue-neutral LevelBook. Deribit's
 * raw book is the whole book, so every depth band is complete (`wholeBook`) unless memory bounding
 * had to trim the far levels.
 */
export class DeribitBookChain {
  readonly book = new LevelBook();
  private lastChangeId: number | null = null;
  private lastTimestampMs = 0;
  /** Levels evicted to keep memory bounded (for diagnostics). */
  evicted = 0;

  /**
   * @param inverse amounts are USD (Deribit inverse perp): the book holds coin = USD / price.
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
    this.book.clear();
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
    for (const [action, price, amount] of d.bids) this.book.set('bid', price, this.coin(action, price, amount));
    for (const [action, price, amount] of d.asks) this.book.set('ask', price, this.coin(action, price, amount));
    this.evicted += this.book.trim(this.maxLevels);
    this.lastChangeId = d.changeId;
    this.lastTimestampMs = d.timestampMs;
    return 'applied';
  }

  /** The touch and the depth in coin within the bands of mid; nothing before a snapshot. */
  top(): BookTop {
    if (!this.hasSnapshot) return { bestBid: null, bestAsk: null, depth: [] };
    const bids = this.book.bids();
    const asks = this.book.asks();
    return {
      bestBid: bids.length > 0 ? bids[0].price : null,
      bestAsk: asks.length > 0 ? asks[0].price : null,
      depth: depthWithinBands(bids, asks, 1, { wholeBook: !this.book.truncated }).depth,
    };
  }

  private coin(action: BookAction, price: number, amount: number): number {
    if (action === 'delete') return 0;
    return this.inverse ? amount / price : amount;
  }
}
