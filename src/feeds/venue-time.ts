/**
 * Venue time of one feed (brief "Valuation time", issue #6): the newest venue timestamp accepted from
 * that feed's frames. The host values options at it and removes passed expiries by it; the venue
 * clients read it (FeedOptions.venueNow) to stop listing and subscribing expired instruments. This is
 * the one guard on venue timestamps: the host runs it for every stamped sink call, clients do not
 * guard again.
 *
 * Two things must both hold: one corrupt frame stamped an hour ahead must neither move venue time (it
 * would expire the front month) nor block later frames; and a feed that really moves on must be
 * followed at once, whatever the replay/simulator speed (480x moves 48 s between frames 100 ms apart)
 * and however long a reconnect gap lasted. So:
 * - Each connection re-anchors, whatever the gap since the last one: the venue's own clock read on it
 *   (Deribit `usOut` of the hello reply, `anchor`) becomes the guard's reference at once; without one,
 *   the connection's first jump needs a single later frame to confirm it instead of two (a corrupt
 *   first frame is still caught: the next ordinary frame cancels it). Server time only guards: venue
 *   time itself stays the newest frame stamp (a server clock is not quantised like the stamps, and
 *   figures must not move without data).
 * - A frame may run ahead of the reference (venue time, or server time if later) by
 *   VENUE_TIME_MAX_AHEAD_MS, or by twice the venue's recent pace (venue ms per local ms over ordinary
 *   steps) times the local time since the reference last moved: a 480x replay stalled 300 ms is
 *   ordinary, one frame an hour ahead is not. The pace carries across reconnects.
 * - Further ahead is a jump (replay seek, simulator expireAt): refused until
 *   VENUE_JUMP_CONFIRM_FRAMES later frames, each stamped later than the one before, confirm it with no
 *   ordinary frame between. An ordinary frame cancels it; copies of one corrupt stamp never confirm.
 *   Only the very first stamp of a feed has nothing to be checked against and is taken.
 * Pure: the caller passes local time; no timers. Frames older than venue time are accepted (their
 * per-channel order is the chain store's business) but never move it back. `guardSink` puts the guard
 * around a feed's sink, as the host runs it.
 */
import type { Clock, FeedSink } from './adapter.ts';
import { VENUE_JUMP_CONFIRM_FRAMES, VENUE_PACE_MIN_SPAN_MS, VENUE_PACE_WINDOW_MS, VENUE_TIME_MAX_AHEAD_MS } from './limits.ts';

/** What `admit` says about one stamped frame; the refusals are drop reasons the host counts. */
export type VenueTimeVerdict = 'accepted' | 'badTimestamp' | 'futureTimestamp';
export type VenueTimeRefusal = Exclude<VenueTimeVerdict, 'accepted'>;

const valid = (ts: number): boolean => Number.isFinite(ts) && ts > 0;

export class VenueTime {
  private venueMs: number | null = null;
  /** What the guard measures from: venue time, or the venue's server time when that is later. */
  private refMs: number | null = null;
  /** A new connection not yet anchored: its first jump needs one later frame, not two. */
  private anchorPending = true;
  /** Local time the reference last moved forward (or was anchored). */
  private movedAtLocalMs = 0;
  /**
   * The venue's pace: venue and local time summed over ordinary steps only (a confirmed jump, a seek,
   * an anchor add nothing), halved when the local sum passes VENUE_PACE_WINDOW_MS so it stays recent.
   */
  private paceVenueMs = 0;
  private paceLocalMs = 0;
  private jump: { firstMs: number; lastMs: number; laterFrames: number } | null = null;

  /** Newest accepted venue time, or null before the first stamped frame. */
  get nowMs(): number | null {
    return this.venueMs;
  }

  /** A new connection opened: a gap of any length before it is followed from its first frames. */
  newConnection(): void {
    this.anchorPending = true;
    this.jump = null;
  }

  /** The venue's clock read on the current connection (a server-time field of a reply). */
  anchor(serverMs: number, localMs: number): boolean {
    if (!valid(serverMs)) return false;
    this.moveRef(serverMs, localMs, false);
    return true;
  }

  /**
   * One stamped frame (for a batch, its newest stamp). Refused frames must not be applied.
   * `mayJump` false (a trade): a stamp beyond the allowance is refused without counting towards a jump,
   * so the several trades of one push never confirm one; trades follow venue time, the frames lead it.
   */
  admit(ts: number, localMs: number, mayJump = true): VenueTimeVerdict {
    if (!valid(ts)) return 'badTimestamp';
    const ref = this.refMs;
    if (ref === null) {
      this.accept(ts, localMs, false);
      return 'accepted';
    }
    if (ts <= ref + this.allowanceMs(localMs)) {
      this.accept(ts, localMs, true);
      return 'accepted';
    }
    if (!mayJump) return 'futureTimestamp';
    const j = this.jump;
    if (j === null || ts < j.firstMs - VENUE_TIME_MAX_AHEAD_MS) {
      // The first frame of a jump, or one far before the held one (which was then the odd one out).
      this.jump = { firstMs: ts, lastMs: ts, laterFrames: 0 };
    } else if (ts > j.lastMs) {
      j.lastMs = ts;
      j.laterFrames++;
      if (j.laterFrames >= (this.anchorPending ? 1 : VENUE_JUMP_CONFIRM_FRAMES)) {
        this.accept(ts, localMs, false);
        return 'accepted';
      }
    }
    return 'futureTimestamp';
  }

  /** How far ahead of the reference a frame may be stamped now and still be ordinary. */
  allowanceMs(localMs: number): number {
    return Math.max(VENUE_TIME_MAX_AHEAD_MS, 2 * this.pace() * Math.max(0, localMs - this.movedAtLocalMs));
  }

  /** Venue ms per local ms on ordinary steps; 1 until measured over VENUE_PACE_MIN_SPAN_MS. */
  pace(): number {
    return this.paceLocalMs >= VENUE_PACE_MIN_SPAN_MS ? Math.max(1, this.paceVenueMs / this.paceLocalMs) : 1;
  }

  private accept(ts: number, localMs: number, ordinary: boolean): void {
    if (this.venueMs === null || ts > this.venueMs) this.venueMs = ts;
    this.moveRef(ts, localMs, ordinary);
  }

  /** Never back; an `ordinary` step forward is a pace sample. */
  private moveRef(ts: number, localMs: number, ordinary: boolean): void {
    if (this.refMs === null || ts > this.refMs) {
      if (ordinary && this.refMs !== null) {
        this.paceVenueMs += ts - this.refMs;
        this.paceLocalMs += Math.max(0, localMs - this.movedAtLocalMs);
        if (this.paceLocalMs > VENUE_PACE_WINDOW_MS) {
          this.paceVenueMs /= 2;
          this.paceLocalMs /= 2;
        }
      }
      this.refMs = ts;
      this.movedAtLocalMs = localMs;
    } else if (!ordinary) {
      // An anchor at or behind the reference: the clock restarts from now for the allowance.
      this.movedAtLocalMs = localMs;
    }
    this.anchorPending = false;
    this.jump = null;
  }
}

/** Expired by venue time (never by the wall clock). Unknown venue time expires nothing. */
export function expiredAt(expiryMs: number, venueNowMs: number | null): boolean {
  return venueNowMs !== null && expiryMs <= venueNowMs;
}

/** Newest stamp of a batch (non-numbers ignored; -Infinity when none, which the guard refuses). */
export function newestStamp(updates: readonly { timestampMs: number }[]): number {
  let newest = -Infinity;
  for (const u of updates) if (u && u.timestampMs > newest) newest = u.timestampMs;
  return newest;
}

/**
 * The host's part in venue time, around one feed's sink: every stamped call (options, forwards,
 * index, perp; a batch by its newest stamp; trades one by one, never starting a jump) is admitted by `venueTime` first, and a refused one is
 * reported to `onDrop`, answered `false` (FeedSink) and never reaches `sink`; a new connection
 * (`open`) and the venue's clock read on it (`serverTime`; an invalid one is a `badTimestamp` drop)
 * re-anchor it before `sink` hears of them. Checks that must not move venue time (a wrong venue, a bad
 * price, an older perp quote) belong outside it; an empty batch passes through unadmitted.
 */
export function guardSink(sink: FeedSink, venueTime: VenueTime, clock: Clock, onDrop: (reason: VenueTimeRefusal) => void): FeedSink {
  const admit = (ts: number, mayJump = true): boolean => {
    const verdict = venueTime.admit(ts, clock.now(), mayJump);
    if (verdict === 'accepted') return true;
    onDrop(verdict);
    return false;
  };
  const batch = (updates: unknown): boolean => !Array.isArray(updates) || updates.length === 0 || admit(newestStamp(updates));
  return {
    instruments: (venue, currency, list, complete) => sink.instruments(venue, currency, list, complete),
    options: (venue, updates) => (batch(updates) ? sink.options(venue, updates) : false),
    forwards: (venue, currency, updates) => (batch(updates) ? sink.forwards(venue, currency, updates) : false),
    index: (venue, currency, price, timestampMs) => (admit(timestampMs) ? sink.index(venue, currency, price, timestampMs) : false),
    perp: (quote, currency) => (admit(quote.timestampMs) ? sink.perp(quote, currency) : false),
    trades: (venue, currency, trades) => {
      // Each trade on its own (one push may carry several; a history page never comes this way): a trade
      // stamped ahead of venue time is refused and counted, the rest go on to the tape.
      if (!Array.isArray(trades) || trades.length === 0) return sink.trades(venue, currency, trades);
      const taken = trades.filter((t) => admit(t?.timestampMs, false));
      return taken.length > 0 ? sink.trades(venue, currency, taken) : false;
    },
    status: (venue, event) => {
      if (event.kind === 'open') venueTime.newConnection();
      else if (event.kind === 'serverTime' && !venueTime.anchor(event.timestampMs, clock.now())) onDrop('badTimestamp');
      sink.status(venue, event);
    },
  };
}
