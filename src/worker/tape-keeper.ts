/**
 * The trade tape of one feed of the view (a source, venue and currency), kept whatever the model: live
 * trades from the feed's trade channel go on the tape and into storage at once; when the view is on
 * `flow`, the stored tape is read back and the history fill (tape-fill.ts) fetches what the window
 * still lacks, once the live channel is up (so the fill's end meets the live tape without a gap).
 *
 * Coverage of the live channel: from the venue time of the feed's first subscription confirmation on a
 * connection to the venue time when it closes; a reconnect leaves a gap the next fill fetches.
 */
import type { Clock, TradeHistory } from '../feeds/adapter.ts';
import type { Currency, TapeTrade, VenueId } from '../chain/model.ts';
import type { HistoryState, TapeProgress } from './protocol.ts';
import { Tape } from './tape.ts';
import { HistoryFill } from './tape-fill.ts';
import type { TapeStorage } from './tape-db.ts';

export const DAY_MS = 86_400_000;
/** Wall time between writes of live trades (each a transaction). */
export const TAPE_WRITE_EVERY_MS = 2_000;
/** Wall time between writes of the coverage alone (no new trades). */
export const TAPE_COVERAGE_WRITE_EVERY_MS = 30_000;

export interface KeeperHost {
  clock: Clock;
  random: () => number;
  /** The storage, once opened (memory-only without IndexedDB). */
  storage: Promise<TapeStorage>;
  notice(level: 'info' | 'warn' | 'error', message: string, key?: string): void;
  /** The tape changed: the figures are dirty. */
  dirty(): void;
  /** Progress changed: post it (at a bounded rate). */
  changed(): void;
}

export class TapeKeeper {
  readonly tape: Tape;
  private storage: TapeStorage | null = null;
  private loadState: 'no' | 'loading' | 'yes' = 'no';
  /** Trades taken and not yet written. */
  private pending: TapeTrade[] = [];
  private writing: Promise<void> | null = null;
  private lastWriteAt = -Infinity;
  private writeTimer: unknown = null;
  /** Where this tape's stored trades start after a full quota dropped days (what is written keeps to it). */
  private storedFromMs = -Infinity;
  private fill: HistoryFill | null = null;
  /** The fill of this live session is done: the window is held, the live channel keeps it. */
  private filled = false;
  /** The person cancelled: no fill until they resume. */
  private cancelled = false;
  /** The live channel is up but venue time was unknown when it came: its span starts at the first venue time. */
  private livePending = false;
  private windowMs = 0;
  private stopped = false;
  private venueNow: number | null = null;
  private saidOverCapacity = 0;

  constructor(
    readonly key: string,
    readonly venue: VenueId,
    readonly currency: Currency,
    private readonly host: KeeperHost,
  ) {
    this.tape = new Tape(venue, currency);
    void host.storage.then((s) => {
      this.storage = s;
    });
  }

  /** Live trades of the feed (past the venue-time guard). */
  live(trades: TapeTrade[]): void {
    if (this.stopped) return;
    const out = this.tape.add(trades, this.pending);
    if (out.added > 0) this.host.dirty();
  }

  /** The feed's subscriptions are confirmed on a connection: the live channel covers from now on. */
  liveUp(venueNowMs: number | null): void {
    if (this.tape.coverage.liveFromMs !== null || this.livePending) return;
    if (venueNowMs === null) this.livePending = true;
    else this.tape.coverage.liveFromMs = venueNowMs;
    // A new live session: the fill fetches what the window lacks up to it (after a reconnect, the gap).
    this.filled = false;
  }

  /** The connection closed (or the feed stopped): the live span ends at the feed's venue time. */
  liveDown(venueNowMs: number | null): void {
    this.livePending = false;
    if (this.tape.coverage.liveFromMs === null) return;
    this.tape.coverage.endLive(venueNowMs ?? this.tape.coverage.liveFromMs);
    this.fill?.cancel();
    this.fill = null;
  }

  /**
   * Once per recompute: the window at the feed's venue time, the stored tape read when the view needs
   * it, the fill started or paused, what is pending written.
   */
  update(venueNowMs: number | null, windowDays: number, wantHistory: boolean, history: TradeHistory | undefined): void {
    if (this.stopped) return;
    this.venueNow = venueNowMs;
    const windowMs = windowDays * DAY_MS;
    if (windowMs > this.windowMs) this.filled = false; // a longer window: its head is missing
    this.windowMs = windowMs;
    if (venueNowMs !== null) {
      if (this.livePending) {
        this.livePending = false;
        this.tape.coverage.liveFromMs = venueNowMs;
      }
      if (this.tape.setWindowStart(venueNowMs - windowMs) > 0) this.host.dirty();
    }
    if (wantHistory && this.loadState === 'no') this.load();
    if (!wantHistory && this.fill) {
      // Not on `flow`: stop spending the venue's request budget; the next look at `flow` goes on.
      this.fill.cancel();
      this.fill = null;
    }
    const filling = this.fill !== null && (this.fill.progress.state === 'filling' || this.fill.progress.state === 'retrying');
    if (wantHistory && history && !filling && !this.filled && !this.cancelled && this.loadState === 'yes' && venueNowMs !== null && this.tape.coverage.liveFromMs !== null) {
      // Whole milliseconds: the venues' history methods take integer times.
      this.startFill(history, Math.floor(venueNowMs - windowMs), Math.floor(venueNowMs));
    }
    if (this.tape.droppedOverCapacity > this.saidOverCapacity) {
      this.saidOverCapacity = this.tape.droppedOverCapacity;
      this.host.notice('warn', `${this.venue} ${this.currency} trade tape is full (${this.tape.size.toLocaleString('en-US')} trades): the oldest leave first, so the window covers less (${this.saidOverCapacity.toLocaleString('en-US')} dropped)`, `tapeFull:${this.key}`);
    }
    this.write(false);
  }

  cancel(): void {
    this.cancelled = true;
    this.fill?.cancel();
    this.host.changed();
  }

  resume(): void {
    this.cancelled = false;
    this.fill = null;
    this.host.changed();
    this.host.dirty();
  }

  /** The feed stops (another view): what is pending is written, the fill stops. */
  stop(): Promise<void> {
    this.liveDown(this.venueNow);
    this.fill?.cancel();
    this.fill = null;
    this.stopped = true;
    if (this.writeTimer !== null) this.host.clock.clearTimeout(this.writeTimer);
    this.writeTimer = null;
    return this.write(true);
  }

  /** Since when the tape holds every trade up to `nowMs`, at the window's start at the earliest; null when nothing reaches now. */
  coveredFrom(nowMs: number): number | null {
    const from = this.tape.coverage.coveredFrom(nowMs);
    return from === null ? null : Math.max(from, this.tape.windowStartMs);
  }

  /** Time of [fromMs, nowMs] the tape holds. */
  private coveredWithin(fromMs: number, nowMs: number): number {
    let ms = 0;
    for (const s of this.tape.coverage.spansAt(nowMs)) ms += Math.max(0, Math.min(s.toMs, nowMs) - Math.max(s.fromMs, fromMs));
    return ms;
  }

  status(history: TradeHistory | undefined): TapeProgress {
    const f = this.fill?.progress;
    let state: HistoryState;
    if (!history) state = 'none';
    else if (this.loadState === 'loading') state = 'loading';
    else if (this.cancelled) state = 'cancelled';
    else if (f && (f.state === 'filling' || f.state === 'retrying')) state = f.state;
    else if (this.filled) state = 'done';
    else state = 'waiting';
    const now = this.venueNow;
    return {
      venue: this.venue,
      currency: this.currency,
      history: state,
      reach: history?.reach ?? null,
      note: history ? String(history.note).slice(0, 200) : null,
      windowStartMs: Number.isFinite(this.tape.windowStartMs) ? this.tape.windowStartMs : null,
      coveredFromMs: now === null ? null : this.coveredFrom(now),
      coveredMs: now === null ? 0 : this.coveredWithin(this.tape.windowStartMs, now),
      trades: this.tape.size,
      pages: f?.pages ?? 0,
      fetched: f?.added ?? 0,
      done: f?.done ?? (this.filled ? 1 : 0),
      etaMs: f && state !== 'cancelled' ? f.etaMs : null,
      error: f?.error ?? null,
      retryAtMs: f?.retryAtMs ?? null,
    };
  }

  private load(): void {
    this.loadState = 'loading';
    this.host.changed();
    void this.host.storage
      .then((s) => s.load(this.key, this.venue, this.venueNow === null ? -Infinity : this.venueNow - this.windowMs))
      .then(
        (loaded) => {
          if (this.stopped) return;
          this.tape.add(loaded.trades);
          for (const s of loaded.spans) this.tape.coverage.add(s.fromMs, s.toMs);
          if (loaded.skipped > 0) this.host.notice('warn', `${loaded.skipped} stored trade${loaded.skipped > 1 ? 's were' : ' was'} unreadable and left out`);
        },
        (e: unknown) => this.host.notice('warn', `the stored trade tape could not be read (${String(e)}): the history is fetched again`),
      )
      .finally(() => {
        this.loadState = 'yes';
        this.host.changed();
        this.host.dirty();
      });
  }

  private startFill(history: TradeHistory, windowStartMs: number, endMs: number): void {
    const fill = new HistoryFill({
      history,
      tape: this.tape,
      clock: this.host.clock,
      random: this.host.random,
      onPage: (added, dropped) => {
        this.pending.push(...added);
        const bad = Object.entries(dropped).filter(([, n]) => n > 0);
        if (bad.length > 0) this.host.notice('warn', `${this.venue} trade history: rows dropped (${bad.map(([r, n]) => `${r} ${n}`).join(', ')})`, `historyDropped:${this.key}`);
        this.host.dirty();
        this.write(false);
      },
      onChange: () => this.host.changed(),
    }, windowStartMs, endMs);
    this.fill = fill;
    void fill.finished.then(() => {
      if (fill.progress.state === 'done' && this.fill === fill) this.filled = true;
      this.host.changed();
      this.host.dirty();
    });
  }

  /** Writes what is pending (one transaction at a time), at most every TAPE_WRITE_EVERY_MS unless forced. */
  private write(force: boolean): Promise<void> {
    if (this.writing) return force ? this.writing.then(() => this.write(true)) : this.writing;
    const storage = this.storage;
    if (storage && !storage.persistent) this.pending = []; // memory only: the tape is all there is
    if (!storage || !storage.persistent || this.venueNow === null) return Promise.resolve();
    const t = this.host.clock.now();
    // Trades at most every TAPE_WRITE_EVERY_MS; the live span's reach alone now and then, so a reload
    // fetches a short tail.
    const due = this.pending.length > 0 ? TAPE_WRITE_EVERY_MS : TAPE_COVERAGE_WRITE_EVERY_MS;
    if (!force && t - this.lastWriteAt < due) {
      // Trades wait at most TAPE_WRITE_EVERY_MS, recompute or not (a quiet market).
      if (this.pending.length > 0 && this.writeTimer === null && !this.stopped) {
        this.writeTimer = this.host.clock.setTimeout(() => {
          this.writeTimer = null;
          void this.write(false);
        }, this.lastWriteAt + due - t);
      }
      return Promise.resolve();
    }
    this.lastWriteAt = t;
    const batch = this.pending;
    this.pending = [];
    const from = Math.max(this.tape.windowStartMs, this.storedFromMs);
    this.writing = storage
      .write(this.key, batch, this.tape.coverage.spansAt(this.venueNow), from)
      .then((out) => {
        if (out.storedFromMs !== null) this.storedFromMs = out.storedFromMs;
        if (out.droppedDays > 0) this.host.notice('warn', `storage is full: the oldest ${out.droppedDays} day${out.droppedDays > 1 ? 's' : ''} of stored trades dropped to make room (a reload fetches them again)`, 'tapeQuota');
        if (out.failed) this.host.notice('warn', `the trade tape could not be saved (${out.failed}): a reload fetches the history again`, 'tapeWrite');
      }, (e: unknown) => this.host.notice('warn', `the trade tape could not be saved (${String(e)})`, 'tapeWrite'))
      .finally(() => {
        this.writing = null;
      });
    return this.writing;
  }
}
