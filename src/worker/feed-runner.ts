/**
 * One venue feed of the view (a venue and a currency): its adapter's feed, its chain store, its venue
 * time, and what the page reads of its health. The sink it gives the feed is the one way frames reach
 * the chain: callbacks of a stopped feed (a zombie socket) are ignored, a throw becomes a counter, and
 * every stamped frame passes the venue-time guard (guardSink, src/feeds/venue-time.ts: the same one
 * the feed tests use) before it touches state.
 */
import type { Clock, FeedEvent, FeedOptions, FeedSink, VenueAdapter, VenueFeed } from '../feeds/adapter.ts';
import { VenueTime, guardSink } from '../feeds/venue-time.ts';
import type { ChainColumns, Currency, ForwardUpdate, OptionInstrument, OptionLineUpdate, PerpQuote, TapeTrade, VenueId } from '../chain/model.ts';
import { exclusionReason } from '../engine/exposure.ts';
import type { FamilyLines, FeedHealth, FeedState } from './protocol.ts';
import type { TapeKeeper } from './tape-keeper.ts';

/** The part of ChainStore the host uses (the real one lives in src/chain/store.ts). */
export interface ChainStoreLike {
  upsertInstruments(list: OptionInstrument[], complete: boolean): unknown;
  applyOptions(updates: OptionLineUpdate[]): { applied: number; stale: number; unknown: number };
  applyForwards(updates: ForwardUpdate[]): unknown;
  removeExpired(nowMs: number): unknown;
  columns(): ChainColumns;
  /** The instrument of a line (families are counted from it); optional for test doubles. */
  instrumentAt?(i: number): OptionInstrument | undefined;
  expiries(): { expiryMs: number; lines: number }[];
  readonly size: number;
}

/** What a runner needs of its host. */
export interface RunnerHost {
  clock: Clock;
  /** No data for this long: stale; reconnecting without data for `downAfterMs`: down. */
  staleAfterMs: number;
  downAfterMs: number;
  /** New data: the figures are dirty. */
  dirty(): void;
  notice(level: 'info' | 'warn' | 'error', message: string, key?: string): void;
  fail(where: string, e: unknown): void;
  /**
   * Live trades of this runner's venue and currency that passed the venue-time guard (issue 13: the
   * worker's tape takes them from here). Absent: trades are not kept.
   */
  onTrades?(venue: VenueId, currency: Currency, trades: TapeTrade[]): void;
}

/** The figures' valuation time and expiry filter, which family counts are judged by. */
export interface Valuation {
  nowMs: number;
  expiries: ReadonlySet<number> | null;
}

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};


export class FeedRunner {
  feed: VenueFeed | null = null;
  stopped = false;
  instrumentsComplete = false;
  spot: number | null = null;
  perp: PerpQuote | null = null;
  /** This feed's venue time: the one guard on its timestamps (re-anchored on each connection). */
  readonly venueTime = new VenueTime();
  /** Included in the last computed figures (to notice when staleness changes the totals). */
  included = false;
  /** The feed's trade tape (the host gives it one); its live span follows the connection. */
  tape: TapeKeeper | null = null;
  // health, reported as FeedHealth
  state: Exclude<FeedState, 'stale'> = 'connecting';
  readonly startedAtMs: number;
  lastDataAtMs: number | null = null;
  messagesPerSec = 0;
  reconnects = 0;
  readonly dropped: Record<string, number> = {};
  excludedLines: Record<string, number> = {};
  lastError: string | null = null;
  retryAtMs: number | null = null;
  /** The feed's standing assumptions, by key (FeedEvent `assumption`). */
  private readonly assumptions = new Map<string, string>();
  private msgCount = 0;
  private msgWindowStartMs: number;
  readonly sink: FeedSink;

  constructor(
    readonly adapter: VenueAdapter,
    readonly currency: Currency,
    readonly store: ChainStoreLike,
    private readonly host: RunnerHost,
  ) {
    this.startedAtMs = host.clock.now();
    this.msgWindowStartMs = this.startedAtMs;
    this.sink = this.makeSink();
  }

  get venue(): VenueId {
    return this.adapter.id;
  }

  /** Start the adapter's feed on `url` (live or local); a failure marks the runner down, never throws. */
  start(url: string, options: Omit<FeedOptions, 'url' | 'currency' | 'clock' | 'sink' | 'venueNow'> & Record<string, unknown>): void {
    try {
      this.feed = this.adapter.createFeed({
        ...options, url, currency: this.currency, clock: this.host.clock, sink: this.sink, venueNow: () => this.venueTime.nowMs,
      });
      this.feed.start();
    } catch (e) {
      this.markDown(`could not start: ${e instanceof Error ? e.message : String(e)}`);
      this.host.fail('feedStart', e);
    }
  }

  stop(): void {
    this.stopped = true;
    try {
      this.feed?.stop();
    } catch (e) {
      this.host.fail('feedStop', e);
    }
  }

  markDown(reason: string): void {
    this.state = 'down';
    this.lastError = reason;
  }

  stateOf(now: number): FeedState {
    if (this.state === 'down') return 'down';
    const lastGood = this.lastDataAtMs ?? this.startedAtMs;
    if (this.state !== 'connected') return now - lastGood > this.host.downAfterMs ? 'down' : this.state;
    return now - lastGood > this.host.staleAfterMs ? 'stale' : 'connected';
  }

  /** Fresh enough to count in the totals. */
  isFresh(now: number): boolean {
    return this.lastDataAtMs !== null && now - this.lastDataAtMs <= this.host.staleAfterMs && this.stateOf(now) !== 'down';
  }

  /** Has what the figures need: a complete listing, a spot, a venue time. */
  get hasData(): boolean {
    return this.instrumentsComplete && this.spot !== null && this.venueTime.nowMs !== null;
  }

  /** Close the message-rate window (once a health period). */
  tickRate(now: number): void {
    const span = now - this.msgWindowStartMs;
    if (span > 0) this.messagesPerSec = Math.round(((this.msgCount * 1000) / span) * 10) / 10;
    this.msgCount = 0;
    this.msgWindowStartMs = now;
  }

  health(now: number, valuation: Valuation | null): FeedHealth {
    const h: FeedHealth = {
      venue: this.venue,
      state: this.stateOf(now),
      dataAgeMs: this.lastDataAtMs === null ? null : Math.max(0, now - this.lastDataAtMs),
      messagesPerSec: this.messagesPerSec,
      reconnects: this.reconnects,
      dropped: { ...this.dropped },
      excludedLines: { ...this.excludedLines },
      lastError: this.lastError,
      retryAtMs: this.retryAtMs,
    };
    const r = this.feed?.requestStats?.();
    if (r) h.subscribes = { lastHour: r.subscribesLastHour, budgetPerHour: r.subscribeBudgetPerHour };
    const families = this.familyLines(valuation);
    if (families) h.families = families;
    if (this.assumptions.size > 0) h.assumptions = [...this.assumptions.values()];
    return h;
  }

  /** A venue without forwards: its index stands in as every expiry's forward (design, "Model"). */
  forwardsFromIndex(): void {
    if (this.spot === null) return;
    const timestampMs = this.venueTime.nowMs ?? 0;
    const forward = this.spot;
    this.store.applyForwards(this.store.expiries().map(({ expiryMs }) => ({ expiryMs, forward, timestampMs })));
  }

  /**
   * Per option family of a venue that lists several (OKX), lines listed and lines in the figures, by the
   * engine's own validity test at the last valuation and expiry filter. Null for single-family venues.
   */
  private familyLines(v: Valuation | null): FamilyLines[] | null {
    const at = this.store.instrumentAt;
    if (!at) return null;
    const cols = this.store.columns();
    const out = new Map<string, FamilyLines>();
    for (let i = 0; i < cols.length; i++) {
      const ins = at.call(this.store, i);
      if (ins?.family === undefined) continue;
      let f = out.get(ins.family);
      if (!f) out.set(ins.family, (f = { family: ins.family, settleCurrency: ins.settleCurrency ?? null, lines: 0, linesIn: 0 }));
      if (v?.expiries && !v.expiries.has(cols.expiryMs[i])) continue;
      f.lines++;
      if (v && this.included && exclusionReason(cols, i, v.nowMs) === null) f.linesIn++;
    }
    return out.size > 0 ? [...out.values()] : null;
  }

  /**
   * Three rings: the outer one drops callbacks of a stopped feed, turns a throw into a counter and
   * refuses what must not move venue time (another venue's frame, an empty batch, a bad price, an older
   * perp quote); the venue-time guard (guardSink) admits every stamped call; the inner one applies.
   */
  private makeSink(): FeedSink {
    const inner: FeedSink = {
      instruments: (_venue, _currency, list, complete) => {
        this.store.upsertInstruments(list, complete);
        if (complete) this.instrumentsComplete = true;
        this.touch();
      },
      options: (_venue, updates) => {
        // After the guard: a line stamped an hour ahead would block that line's ordinary updates as stale for an hour.
        const r = this.store.applyOptions(updates);
        if (r.stale > 0) bump(this.dropped, 'staleLine', r.stale);
        if (r.unknown > 0) bump(this.dropped, 'unknownInstrument', r.unknown);
        this.touch();
        return true;
      },
      forwards: (_venue, _currency, updates) => {
        this.store.applyForwards(updates);
        this.touch();
        return true;
      },
      index: (_venue, _currency, price) => {
        this.spot = price;
        this.touch();
        return true;
      },
      perp: (quote) => {
        this.perp = quote;
        this.touch();
        return true;
      },
      trades: (venue, currency, trades) => {
        this.host.onTrades?.(venue, currency, trades);
        return true;
      },
      status: (_venue, event) => this.onStatus(event),
    };
    const guarded = guardSink(inner, this.venueTime, this.host.clock, (reason) => bump(this.dropped, reason));
    const guard = <A extends unknown[], R>(name: string, fn: (...args: A) => R) => (...args: A): R | undefined => {
      if (this.stopped) return undefined;
      try {
        return fn(...args);
      } catch (e) {
        bump(this.dropped, 'handlerError');
        this.host.fail(`sink.${name}`, e);
        return undefined;
      }
    };
    const mine = (venue: VenueId, currency?: Currency): boolean => {
      if (venue === this.venue && (currency === undefined || currency === this.currency)) return true;
      bump(this.dropped, 'wrongVenue');
      return false;
    };
    return {
      instruments: guard('instruments', (venue: VenueId, currency: Currency, list: OptionInstrument[], complete: boolean) => {
        if (mine(venue, currency) && Array.isArray(list)) guarded.instruments(venue, currency, list, complete);
      }),
      options: guard('options', (venue: VenueId, updates: OptionLineUpdate[]): boolean | void => {
        if (mine(venue) && Array.isArray(updates) && updates.length > 0) return guarded.options(venue, updates);
      }),
      forwards: guard('forwards', (venue: VenueId, currency: Currency, updates: ForwardUpdate[]): boolean | void => {
        if (mine(venue, currency) && Array.isArray(updates) && updates.length > 0) return guarded.forwards(venue, currency, updates);
      }),
      index: guard('index', (venue: VenueId, currency: Currency, price: number, timestampMs: number): boolean | void => {
        if (!mine(venue, currency)) return;
        if (!(Number.isFinite(price) && price > 0)) {
          bump(this.dropped, 'badNumber');
          return;
        }
        return guarded.index(venue, currency, price, timestampMs);
      }),
      perp: guard('perp', (quote: PerpQuote, currency: Currency): boolean | void => {
        if (!quote || !mine(quote.venue, currency)) return;
        if (this.perp && quote.timestampMs < this.perp.timestampMs) {
          bump(this.dropped, 'stale');
          return;
        }
        return guarded.perp(quote, currency);
      }),
      trades: guard('trades', (venue: VenueId, currency: Currency, trades: TapeTrade[]): boolean | void => {
        if (mine(venue, currency) && Array.isArray(trades) && trades.length > 0) return guarded.trades(venue, currency, trades);
      }),
      status: guard('status', (venue: VenueId, event: FeedEvent) => {
        if (mine(venue)) guarded.status(venue, event);
      }),
    };
  }

  /** A data callback arrived: data age restarts, figures are dirty. */
  private touch(): void {
    this.lastDataAtMs = this.host.clock.now();
    if (this.state !== 'down') this.state = 'connected';
    this.host.dirty();
  }

  private onStatus(ev: FeedEvent): void {
    const now = this.host.clock.now();
    switch (ev.kind) {
      case 'connecting':
        this.state = this.reconnects > 0 || this.lastDataAtMs !== null ? 'reconnecting' : 'connecting';
        break;
      case 'open':
        // A new connection (the guard re-anchors venue time on it: issue #6).
        this.state = 'connected';
        this.retryAtMs = null;
        break;
      case 'subscribed':
        this.state = 'connected';
        this.retryAtMs = null;
        this.tape?.liveUp(this.venueTime.nowMs);
        break;
      case 'serverTime':
        break; // the guard anchors venue time on it
      case 'data':
        this.msgCount++;
        this.lastDataAtMs = now;
        this.state = 'connected';
        this.retryAtMs = null;
        break;
      case 'dropped': {
        const n = ev.count === undefined ? 1 : ev.count;
        if (Number.isSafeInteger(n) && n > 0) bump(this.dropped, typeof ev.reason === 'string' ? ev.reason : 'unknown', n);
        break;
      }
      case 'assumption':
        if (typeof ev.message === 'string') this.assumptions.set(String(ev.key), ev.message.slice(0, 200));
        else this.assumptions.delete(String(ev.key));
        break;
      case 'closed':
        this.tape?.liveDown(this.venueTime.nowMs);
        this.reconnects++;
        this.state = 'reconnecting';
        this.retryAtMs = Number.isFinite(ev.retryInMs) ? now + ev.retryInMs : null;
        this.lastError = `connection closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`;
        this.host.dirty();
        break;
      case 'venueError':
        this.lastError = `${this.adapter.label} error${ev.code !== null ? ` ${ev.code}` : ''}: ${ev.message}`;
        if (ev.retryInMs !== null && Number.isFinite(ev.retryInMs)) {
          this.state = 'reconnecting';
          this.retryAtMs = now + ev.retryInMs;
        }
        this.host.notice('warn', this.lastError, `venueError:${this.venue}:${ev.code}`);
        break;
      default: {
        const unknown: never = ev;
        bump(this.dropped, `status:${String((unknown as { kind: unknown }).kind)}`);
      }
    }
  }
}
