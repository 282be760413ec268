/**
 * The OKX perpetual's `books` channel kept whole, as OKX serves it since 2026:
 *
 * - `checksum` is 0 on every frame since 23 June 2026 ("Order Book Channels Checksum Field
 *   Deprecation"): 0 means no checksum, and the `seqId`/`prevSeqId` chain is the integrity check. A
 *   non-zero checksum (older sessions, old recordings) is still verified.
 * - The initial snapshot is no longer pushed (changelog "Delist initial snapshot and checksum field in
 *   order book channels"): the snapshot comes from REST `GET /api/v5/market/books` and the pushed
 *   updates chain onto it by seqId, whichever arrives first. Updates that arrive before it wait in a
 *   bounded buffer. A pushed `action: snapshot` (the venue before 2026, old recordings) is taken as
 *   the book too.
 * - A snapshot taken at seqId S is joined by the first update with prevSeqId <= S < seqId (levels are
 *   absolute sizes, so an update that straddles S applies cleanly); from then on every update must
 *   name the previous one's seqId. A REST answer without seqId is joined by time (`ts`) instead.
 *
 * A broken chain (or a checksum mismatch) clears the book; the caller fetches a new snapshot (at a
 * bounded rate) rather than resubscribing, which would spend OKX's 480-per-hour subscribe budget.
 */
import { LevelBook } from '../level-book.ts';
import { okxBookChecksum, type OkxBookSnapshot, type OkxMessage } from './parse.ts';

type BookUpdate = Extract<OkxMessage, { kind: 'book' }>;

/** Updates held while no snapshot is in place: ~30 s of a 100 ms channel. */
export const OKX_BOOK_BUFFER = 300;

/**
 * What a frame or a snapshot did to the book:
 * - `applied`: the book moved (or a snapshot is in place);
 * - `waiting`: held until a snapshot arrives, or already contained in the one in place;
 * - `duplicate`: the update just applied, again (same seqId and prevSeqId): ignored, not a break;
 * - `broken`: the chain broke or the checksum disagreed; the book is cleared and needs a new snapshot;
 * - `unjoined`: a REST snapshot the buffered chain does not continue (taken too early): fetch again.
 */
export type BookVerdict = 'applied' | 'waiting' | 'duplicate' | 'broken' | 'unjoined';

export class OkxBookSync {
  readonly book = new LevelBook();
  private ready = false;
  /** seqId of the last update in the book (or of the snapshot); null when the venue sends none. */
  private lastSeqId: number | null = null;
  /** prevSeqId of the last update applied: with lastSeqId, what an exact repeat of it carries. */
  private lastPrevSeqId: number | null = null;
  /** Set while the book is a snapshot no update has joined yet: the first update may straddle it. */
  private joinAt: { seqId: number | null; ts: number } | null = null;
  private pending: BookUpdate[] = [];

  /** A complete book is in place. */
  get isReady(): boolean {
    return this.ready;
  }

  /** Forget everything (a new connection, or after a break). */
  reset(): void {
    this.book.clear();
    this.ready = false;
    this.lastSeqId = null;
    this.lastPrevSeqId = null;
    this.joinAt = null;
    this.pending = [];
  }

  /** One pushed frame of the channel. */
  onPush(m: BookUpdate): BookVerdict {
    if (m.action === 'snapshot') {
      this.reset();
      this.ready = true;
      return this.apply(m);
    }
    if (!this.ready) {
      if (this.pending.length >= OKX_BOOK_BUFFER) this.pending.shift();
      this.pending.push(m);
      return 'waiting';
    }
    if (this.joinAt !== null) {
      if (this.contained(m, this.joinAt)) return 'waiting';
      if (m.prevSeqId !== null && this.joinAt.seqId !== null && m.prevSeqId > this.joinAt.seqId) return this.break();
      this.joinAt = null;
      return this.apply(m);
    }
    if (m.prevSeqId !== null && this.lastSeqId !== null && m.prevSeqId !== this.lastSeqId) {
      // The same update twice is harmless; any other link (a gap, a seqId reset after maintenance) is a
      // break, and a new snapshot the only safe way back.
      if (m.seqId === this.lastSeqId && m.prevSeqId === this.lastPrevSeqId) return 'duplicate';
      return this.break();
    }
    return this.apply(m);
  }

  /** A REST snapshot. Ignored when a book is already in place (a pushed snapshot came first). */
  onSnapshot(s: OkxBookSnapshot): BookVerdict {
    if (this.ready) return 'waiting';
    const held = this.pending;
    this.pending = [];
    this.book.clear();
    for (const [p, z] of s.bids) this.book.apply('bid', p, z);
    for (const [p, z] of s.asks) this.book.apply('ask', p, z);
    this.ready = true;
    this.lastSeqId = s.seqId;
    this.joinAt = { seqId: s.seqId, ts: s.timestampMs };
    for (const m of held) {
      // A break here: the buffered chain starts after the snapshot, which was taken too early.
      if (this.onPush(m) === 'broken') return 'unjoined';
    }
    return 'applied';
  }

  /** Whether an update is already contained in the snapshot the book was built from. */
  private contained(m: BookUpdate, at: { seqId: number | null; ts: number }): boolean {
    if (at.seqId !== null && m.seqId !== null) return m.seqId <= at.seqId;
    return m.timestampMs <= at.ts;
  }

  private apply(m: BookUpdate): BookVerdict {
    for (const [p, s] of m.bids) this.book.apply('bid', p, s);
    for (const [p, s] of m.asks) this.book.apply('ask', p, s);
    if (m.seqId !== null) this.lastSeqId = m.seqId;
    this.lastPrevSeqId = m.prevSeqId;
    if (m.checksum !== null && okxBookChecksum(this.book.bids(), this.book.asks()) !== m.checksum) return this.break();
    return 'applied';
  }

  private break(): BookVerdict {
    this.reset();
    return 'broken';
  }
}
