/**
 * EngineHost: owns the feeds, the chain stores and the recompute loop, and speaks the worker protocol.
 * It does not know it runs in a worker: it gets a clock, a socket factory and a `post` function, so the
 * same class runs in the browser worker, in Node tests and could run in the server.
 *
 * Data path: feed -> FeedSink (this file) -> ChainStore (columns updated in place) -> dirty flag ->
 * RecomputeScheduler (<= 4 Hz, at once on a selection change) -> engine -> ResultGate (acked) -> post.
 * Nothing thrown by a feed callback, the engine or a message handler escapes: it becomes a counter and
 * a notice (reliability §5 test 12/20).
 */
import type {
  Clock, FeedEvent, FeedSink, SocketFactory, VenueAdapter, VenueFeed,
} from '../feeds/adapter.ts';
import { CURRENCIES, DATA_STALE_MS, DEALER_MODELS, SOURCES, oneOf } from '../shared/policy.ts';
import { expiryLabel } from '../shared/expiry.ts';
import { VenueTime } from '../feeds/venue-time.ts';
import { availableAdapters } from '../feeds/registry.ts';
import { ChainStore } from '../chain/store.ts';
import { computeGex, PreparedLines } from '../engine/index.ts';
import type {
  ChainColumns, Currency, ForwardUpdate, OptionInstrument, OptionLineUpdate, PerpQuote, VenueId,
} from '../chain/model.ts';
import type { ExposureParams, GexResult, VisibleDepth } from '../engine/types.ts';
import {
  checkLadder, DEFAULT_LADDER, FEEDBACK_SHOCKS, PROTOCOL_VERSION, transferablesOf,
  type ExpiryInfo, type FamilyLines, type FeedHealth, type FeedState, type FromWorker, type ResultMessage, type ToWorker,
  type ViewSelection, type WorkerRequest,
} from './protocol.ts';
import { DEFAULT_MIN_INTERVAL_MS, RecomputeScheduler, ResultGate } from './scheduler.ts';
import { exclusionReason } from '../engine/exposure.ts';

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

export interface EngineHostOptions {
  clock: Clock;
  socketFactory: SocketFactory;
  /** Base for local sources (sim/replay), e.g. ws://127.0.0.1:8787; the hello message may set it. */
  localBase?: string;
  post(msg: FromWorker, transfer: ArrayBuffer[]): void;
  /** Venue adapters; default: the registry. */
  adapters?: readonly VenueAdapter[];
  /** Chain store factory; default: ChainStore. */
  createStore?: (venue: VenueId, currency: Currency) => ChainStoreLike;
  /** The engine; default: computeGex. */
  compute?: (chain: ChainColumns, params: ExposureParams) => GexResult;
  /** Recompute ceiling, default 250 ms (4 Hz). */
  minIntervalMs?: number;
  /** Health message period, default 1 s. */
  healthIntervalMs?: number;
  /** No data message for this long = stale (default DATA_STALE_MS, 10 s). */
  staleAfterMs?: number;
  /** Reconnecting without data for this long = down (default 60 s). */
  downAfterMs?: number;
  /** Venue-specific extras passed to every createFeed (tests: e.g. Deribit `heartbeatSec`). */
  feedOptions?: Record<string, unknown>;
}

/** Counters of things the host survived (exposed for tests and the soak). */
export interface HostStats {
  recomputes: number;
  resultsPosted: number;
  resultsReplaced: number;
  errors: Record<string, number>;
}

const DOWN_AFTER_MS = 60_000;
const NOTICE_MIN_SPACING_MS = 10_000;
export { expiryLabel };

/** One venue feed of the view: the health fields it reports as they are (FeedHealth), and its own state. */
interface FeedEntry extends Pick<FeedHealth, 'venue' | 'messagesPerSec' | 'reconnects' | 'dropped' | 'excludedLines' | 'lastError' | 'retryAtMs'> {
  currency: Currency;
  adapter: VenueAdapter;
  store: ChainStoreLike;
  feed: VenueFeed | null;
  stopped: boolean;
  instrumentsComplete: boolean;
  spot: number | null;
  perp: PerpQuote | null;
  /** This feed's venue time: the one guard on its timestamps (re-anchored on each connection). */
  venueTime: VenueTime;
  // health
  state: Exclude<FeedState, 'stale'>;
  startedAtMs: number;
  lastDataAtMs: number | null;
  msgCount: number;
  msgWindowStartMs: number;
  /** Included in the last computed figures (to notice when staleness changes the totals). */
  included: boolean;
  /** The feed's standing assumptions, by key (FeedEvent `assumption`). */
  assumptions: Map<string, string>;
}

interface Built {
  msg: Omit<ResultMessage, 'seq'>;
}

/** The models the worker computes today; `flow` joins when the tape reaches the worker (issue 13). */
const MODELS = DEALER_MODELS.filter((m) => m !== 'flow');

export class EngineHost {
  private readonly clock: Clock;
  private readonly socketFactory: SocketFactory;
  private localBase: string | null;
  private readonly postRaw: (msg: FromWorker, transfer: ArrayBuffer[]) => void;
  private readonly adapters: Map<VenueId, VenueAdapter>;
  private readonly createStore: (venue: VenueId, currency: Currency) => ChainStoreLike;
  private readonly compute: (chain: ChainColumns, params: ExposureParams) => GexResult;
  private readonly staleAfterMs: number;
  private readonly downAfterMs: number;
  private readonly healthIntervalMs: number;
  private readonly feedOptions: Record<string, unknown>;
  private readonly scheduler: RecomputeScheduler;
  private readonly gate: ResultGate<ResultMessage>;
  private selection: ViewSelection | null = null;
  private entries: FeedEntry[] = [];
  private seq = 0;
  private healthTimer: unknown = null;
  private disposed = false;
  private readonly lastNoticeAt = new Map<string, number>();
  private scratch: ChainColumns | null = null;
  private fallbackNoticeFor = '';
  /** Valuation time and expiry filter of the last figures (families count their lines in by them). */
  private lastValuation: { nowMs: number; expiries: Set<number> | null } | null = null;
  readonly stats: HostStats = { recomputes: 0, resultsPosted: 0, resultsReplaced: 0, errors: {} };

  constructor(options: EngineHostOptions) {
    this.clock = options.clock;
    this.socketFactory = options.socketFactory;
    this.localBase = options.localBase ?? null;
    this.postRaw = options.post;
    this.adapters = new Map((options.adapters ?? availableAdapters()).map((a) => [a.id, a]));
    this.createStore = options.createStore ?? ((venue, currency) => new ChainStore(venue, currency));
    // The worker recomputes ~4x/s: one scratch for the per-line constants, reused.
    const scratch = new PreparedLines();
    this.compute = options.compute ?? ((chain, params) => computeGex(chain, params, scratch));
    this.staleAfterMs = options.staleAfterMs ?? DATA_STALE_MS;
    this.downAfterMs = options.downAfterMs ?? DOWN_AFTER_MS;
    this.healthIntervalMs = options.healthIntervalMs ?? 1_000;
    this.feedOptions = options.feedOptions ?? {};
    this.scheduler = new RecomputeScheduler({
      clock: this.clock,
      run: () => this.recompute(),
      minIntervalMs: options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS,
    });
    this.gate = new ResultGate<ResultMessage>((msg) => {
      this.stats.resultsPosted++;
      this.post(msg, transferablesOf(msg));
    });
  }

  /** Entry point for every ToWorker message. Never throws. */
  handle(msg: ToWorker): void {
    try {
      if (!msg || typeof msg !== 'object' || typeof (msg as { type?: unknown }).type !== 'string') {
        this.fail('badMessage', new Error('message without a type'));
        return;
      }
      switch (msg.type) {
        case 'hello':
          if (msg.protocolVersion !== PROTOCOL_VERSION) {
            this.notice('error', `protocol mismatch: page ${msg.protocolVersion}, engine ${PROTOCOL_VERSION}; reload the page`);
          }
          this.gate.reset();
          if (typeof msg.localBase === 'string' && msg.localBase !== this.localBase) {
            this.localBase = msg.localBase;
            // Local feeds started without a base (or with another one) must reconnect to the new one.
            if (this.selection && this.selection.source !== 'live') this.restartFeeds(this.selection);
          }
          this.post({ type: 'hello', protocolVersion: PROTOCOL_VERSION }, []);
          break;
        case 'select':
          this.select(msg.selection);
          break;
        case 'ack':
          if (Number.isFinite(msg.seq)) this.gate.ack(msg.seq);
          break;
        case 'request':
          this.answer(msg.id, msg.request);
          break;
        case 'ping':
          this.post({ type: 'pong', id: msg.id }, []);
          break;
        default: {
          const unknown: never = msg;
          this.fail('badMessage', new Error(`unknown message type ${(unknown as { type: string }).type}`));
        }
      }
    } catch (e) {
      this.fail('message', e);
    }
  }

  /** Stop everything (worker terminating, test teardown). */
  dispose(): void {
    this.disposed = true;
    this.stopFeeds();
    this.scheduler.dispose();
    if (this.healthTimer !== null) this.clock.clearTimeout(this.healthTimer);
    this.healthTimer = null;
  }

  /** Feed health now, one entry per running feed. */
  health(): FeedHealth[] {
    const now = this.clock.now();
    return this.entries.map((e) => {
      const h: FeedHealth = {
        venue: e.venue,
        stream: 'all',
        state: this.stateOf(e, now),
        dataAgeMs: e.lastDataAtMs === null ? null : Math.max(0, now - e.lastDataAtMs),
        messagesPerSec: e.messagesPerSec,
        reconnects: e.reconnects,
        dropped: { ...e.dropped },
        excludedLines: { ...e.excludedLines },
        lastError: e.lastError,
        retryAtMs: e.retryAtMs,
      };
      const r = e.feed?.requestStats?.();
      if (r) h.subscribes = { lastHour: r.subscribesLastHour, budgetPerHour: r.subscribeBudgetPerHour };
      const families = this.familyLines(e);
      if (families) h.families = families;
      if (e.assumptions.size > 0) h.assumptions = [...e.assumptions.values()];
      return h;
    });
  }

  /** A fresh result computed now (not gated, not transferred), or null if there is nothing to show yet. */
  snapshot(): ResultMessage | null {
    const built = this.build();
    return built ? { ...built.msg, seq: this.seq } : null;
  }

  /** Valuation time now: the newest accepted venue timestamp of the feeds in use. */
  valuationTimeMs(): number | null {
    let t: number | null = null;
    for (const e of this.entries) {
      const v = e.venueTime.nowMs;
      if (v !== null && (t === null || v > t)) t = v;
    }
    return t;
  }

  // ---------------------------------------------------------------------------------------------
  // Selection and feeds

  private select(raw: ViewSelection): void {
    const sel = this.validate(raw);
    if (!sel) return;
    const prev = this.selection;
    this.selection = sel;
    const sameFeeds = prev !== null && prev.source === sel.source && prev.currency === sel.currency
      && prev.venues.length === sel.venues.length && prev.venues.every((v, i) => v === sel.venues[i]);
    if (!sameFeeds) this.restartFeeds(sel);
    this.ensureHealthTimer();
    // Expiries, model or range alone: recompute at once without touching the sockets.
    this.scheduler.runNow();
  }

  private validate(raw: ViewSelection): ViewSelection | null {
    if (!raw || typeof raw !== 'object') {
      this.notice('warn', 'ignored an invalid selection');
      return null;
    }
    const problems: string[] = [];
    const source = oneOf(SOURCES, raw.source) ? raw.source : null;
    if (!source) problems.push(`source ${String(raw.source)}`);
    const currency = oneOf(CURRENCIES, raw.currency) ? raw.currency : null;
    if (!currency) problems.push(`currency ${String(raw.currency)}`);
    const venues: VenueId[] = [];
    for (const v of Array.isArray(raw.venues) ? raw.venues : []) {
      if (this.adapters.has(v) && !venues.includes(v)) venues.push(v);
      else problems.push(`venue ${String(v)}`);
    }
    const model = oneOf(MODELS, raw.model) ? raw.model : 'classic';
    if (model !== raw.model) problems.push(`model ${String(raw.model)}`);
    const profileRange = Number.isFinite(raw.profileRange) && raw.profileRange > 0 && raw.profileRange <= 1
      ? raw.profileRange : 0.2;
    if (profileRange !== raw.profileRange) problems.push(`range ${String(raw.profileRange)}`);
    const expiries = (Array.isArray(raw.expiries) ? raw.expiries : []).filter((x) => Number.isFinite(x));
    const checkedLadder = checkLadder(raw.ladder);
    if (!checkedLadder) problems.push('ladder');
    const ladder = checkedLadder ?? { ...DEFAULT_LADDER };
    if (!source || !currency) {
      this.notice('warn', `ignored a selection with an invalid ${problems.join(', ')}`);
      return null;
    }
    if (problems.length > 0) this.notice('warn', `ignored in selection: ${problems.join(', ')}`);
    if (venues.length === 0) this.notice('warn', 'no known venue selected');
    return {
      source, venues, currency, expiries: [...new Set(expiries)].sort((a, b) => a - b), model, profileRange,
      includeExpiring: raw.includeExpiring === true, afterNextExpiry: raw.afterNextExpiry === true, ladder,
    };
  }

  private restartFeeds(sel: ViewSelection): void {
    this.stopFeeds();
    this.gate.reset();
    const now = this.clock.now();
    for (const venue of sel.venues) {
      const adapter = this.adapters.get(venue);
      if (!adapter) continue;
      const entry: FeedEntry = {
        venue, currency: sel.currency, adapter, store: this.createStore(venue, sel.currency), feed: null,
        stopped: false, instrumentsComplete: false, spot: null, perp: null, venueTime: new VenueTime(),
        state: 'connecting', startedAtMs: now, lastDataAtMs: null, msgCount: 0, msgWindowStartMs: now,
        messagesPerSec: 0, reconnects: 0, dropped: {}, excludedLines: {}, lastError: null, retryAtMs: null,
        included: false, assumptions: new Map(),
      };
      this.entries.push(entry);
      let url: string;
      if (sel.source === 'live') url = adapter.liveUrl;
      else if (this.localBase) url = this.localBase.replace(/\/+$/, '') + adapter.localPath;
      else {
        entry.state = 'down';
        entry.lastError = `no local server address for source ${sel.source}`;
        this.notice('error', `${adapter.label}: ${entry.lastError}`);
        continue;
      }
      try {
        entry.feed = adapter.createFeed({
          ...this.feedOptions,
          url, currency: sel.currency, clock: this.clock, socketFactory: this.socketFactory, sink: this.sinkFor(entry),
          restRelayOrigin: this.localBase ? this.localBase.replace(/^ws/, 'http').replace(/\/+$/, '') : undefined,
          venueNow: () => entry.venueTime.nowMs,
        });
        entry.feed.start();
      } catch (e) {
        entry.state = 'down';
        entry.lastError = `could not start: ${errorText(e)}`;
        this.fail('feedStart', e);
      }
    }
  }

  private stopFeeds(): void {
    for (const e of this.entries) {
      e.stopped = true;
      try {
        e.feed?.stop();
      } catch (err) {
        this.fail('feedStop', err);
      }
    }
    this.entries = [];
  }

  /** One sink per feed: callbacks from a stopped feed (a zombie socket) are ignored. */
  private sinkFor(entry: FeedEntry): FeedSink {
    const guard = <A extends unknown[], R>(name: string, fn: (...args: A) => R) => (...args: A): R | undefined => {
      if (entry.stopped || this.disposed) return undefined;
      try {
        return fn(...args);
      } catch (e) {
        bump(entry.dropped, 'handlerError');
        this.fail(`sink.${name}`, e);
        return undefined;
      }
    };
    const mine = (venue: VenueId, currency?: Currency): boolean => {
      if (venue === entry.venue && (currency === undefined || currency === entry.currency)) return true;
      bump(entry.dropped, 'wrongVenue');
      return false;
    };
    return {
      instruments: guard('instruments', (venue: VenueId, currency: Currency, list: OptionInstrument[], complete: boolean) => {
        if (!mine(venue, currency) || !Array.isArray(list)) return;
        entry.store.upsertInstruments(list, complete);
        if (complete) entry.instrumentsComplete = true;
        this.touch(entry);
      }),
      options: guard('options', (venue: VenueId, updates: OptionLineUpdate[]): boolean | void => {
        if (!mine(venue) || !Array.isArray(updates) || updates.length === 0) return;
        // Checked before the store sees it: a line stamped an hour ahead would block that line's
        // ordinary updates as stale for an hour.
        if (!this.admitVenueTime(entry, newestStamp(updates))) return false;
        const r = entry.store.applyOptions(updates);
        if (r.stale > 0) bump(entry.dropped, 'staleLine', r.stale);
        if (r.unknown > 0) bump(entry.dropped, 'unknownInstrument', r.unknown);
        this.touch(entry);
        return true;
      }),
      forwards: guard('forwards', (venue: VenueId, currency: Currency, updates: ForwardUpdate[]): boolean | void => {
        if (!mine(venue, currency) || !Array.isArray(updates) || updates.length === 0) return;
        if (!this.admitVenueTime(entry, newestStamp(updates))) return false;
        entry.store.applyForwards(updates);
        this.touch(entry);
        return true;
      }),
      index: guard('index', (venue: VenueId, currency: Currency, price: number, timestampMs: number): boolean | void => {
        if (!mine(venue, currency)) return;
        if (!(Number.isFinite(price) && price > 0)) {
          bump(entry.dropped, 'badNumber');
          return;
        }
        if (!this.admitVenueTime(entry, timestampMs)) return false;
        entry.spot = price;
        this.touch(entry);
        return true;
      }),
      perp: guard('perp', (quote: PerpQuote, currency: Currency): boolean | void => {
        if (!quote || !mine(quote.venue, currency)) return;
        if (entry.perp && quote.timestampMs < entry.perp.timestampMs) {
          bump(entry.dropped, 'stale');
          return;
        }
        if (!this.admitVenueTime(entry, quote.timestampMs)) return false;
        entry.perp = quote;
        this.touch(entry);
        return true;
      }),
      status: guard('status', (venue: VenueId, event: FeedEvent) => {
        if (!mine(venue)) return;
        this.onStatus(entry, event);
      }),
    };
  }

  /** A data callback arrived: data age restarts, figures are dirty. */
  private touch(entry: FeedEntry): void {
    entry.lastDataAtMs = this.clock.now();
    if (entry.state !== 'down') entry.state = 'connected';
    this.scheduler.markDirty();
  }

  /**
   * Valuation time follows the venue's clock (brief: "Valuation time") through the feed's VenueTime,
   * the one guard on venue timestamps: a refused frame is counted by reason and not applied.
   */
  private admitVenueTime(entry: FeedEntry, ts: number): boolean {
    const verdict = entry.venueTime.admit(ts, this.clock.now());
    if (verdict === 'accepted') return true;
    bump(entry.dropped, verdict);
    return false;
  }

  private onStatus(entry: FeedEntry, ev: FeedEvent): void {
    const now = this.clock.now();
    switch (ev.kind) {
      case 'connecting':
        entry.state = entry.reconnects > 0 || entry.lastDataAtMs !== null ? 'reconnecting' : 'connecting';
        break;
      case 'open':
        // A new connection: follow whatever time it brings, however long the gap (issue #6).
        entry.venueTime.newConnection();
        entry.state = 'connected';
        entry.retryAtMs = null;
        break;
      case 'subscribed':
        entry.state = 'connected';
        entry.retryAtMs = null;
        break;
      case 'serverTime':
        if (!entry.venueTime.anchor(ev.timestampMs, now)) bump(entry.dropped, 'badTimestamp');
        break;
      case 'data':
        entry.msgCount++;
        entry.lastDataAtMs = now;
        entry.state = 'connected';
        entry.retryAtMs = null;
        break;
      case 'dropped':
        bump(entry.dropped, typeof ev.reason === 'string' ? ev.reason : 'unknown');
        break;
      case 'assumption':
        if (typeof ev.message === 'string') entry.assumptions.set(String(ev.key), ev.message.slice(0, 200));
        else entry.assumptions.delete(String(ev.key));
        break;
      case 'closed':
        entry.reconnects++;
        entry.state = 'reconnecting';
        entry.retryAtMs = Number.isFinite(ev.retryInMs) ? now + ev.retryInMs : null;
        entry.lastError = `connection closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`;
        this.scheduler.markDirty();
        break;
      case 'venueError':
        entry.lastError = `${entry.adapter.label} error${ev.code !== null ? ` ${ev.code}` : ''}: ${ev.message}`;
        if (ev.retryInMs !== null && Number.isFinite(ev.retryInMs)) {
          entry.state = 'reconnecting';
          entry.retryAtMs = now + ev.retryInMs;
        }
        this.notice('warn', entry.lastError, `venueError:${entry.venue}:${ev.code}`);
        break;
      default: {
        const unknown: never = ev;
        bump(entry.dropped, `status:${String((unknown as { kind: unknown }).kind)}`);
      }
    }
  }

  private stateOf(e: FeedEntry, now: number): FeedState {
    if (e.state === 'down') return 'down';
    const lastGood = e.lastDataAtMs ?? e.startedAtMs;
    if (e.state !== 'connected') return now - lastGood > this.downAfterMs ? 'down' : e.state;
    return now - lastGood > this.staleAfterMs ? 'stale' : 'connected';
  }

  /** Fresh enough to count in the totals. */
  private isFresh(e: FeedEntry, now: number): boolean {
    return e.lastDataAtMs !== null && now - e.lastDataAtMs <= this.staleAfterMs && this.stateOf(e, now) !== 'down';
  }

  // ---------------------------------------------------------------------------------------------
  // Health

  private ensureHealthTimer(): void {
    if (this.healthTimer !== null || this.disposed) return;
    const tick = (): void => {
      this.healthTimer = null;
      if (this.disposed) return;
      try {
        this.healthTick();
      } catch (e) {
        this.fail('health', e);
      }
      this.healthTimer = this.clock.setTimeout(tick, this.healthIntervalMs);
    };
    this.healthTimer = this.clock.setTimeout(tick, this.healthIntervalMs);
  }

  private healthTick(): void {
    const now = this.clock.now();
    for (const e of this.entries) {
      const span = now - e.msgWindowStartMs;
      if (span > 0) e.messagesPerSec = Math.round((e.msgCount * 1000) / span * 10) / 10;
      e.msgCount = 0;
      e.msgWindowStartMs = now;
      // A venue going stale (or coming back) changes the totals even if no frame arrives.
      if (this.isFresh(e, now) !== e.included) this.scheduler.markDirty();
    }
    this.post({ type: 'health', feeds: this.health(), atMs: now }, []);
  }

  // ---------------------------------------------------------------------------------------------
  // Recompute

  private recompute(): void {
    try {
      this.stats.recomputes++;
      const built = this.build();
      if (!built) return;
      const msg: ResultMessage = { ...built.msg, seq: ++this.seq };
      this.gate.offer(msg);
      this.stats.resultsReplaced = this.gate.replaced;
    } catch (e) {
      this.fail('recompute', e);
    }
  }

  private build(): Built | null {
    const sel = this.selection;
    if (!sel || this.entries.length === 0) return null;
    const now = this.clock.now();
    const withData = this.entries.filter((e) => e.instrumentsComplete && e.spot !== null && e.venueTime.nowMs !== null);
    const fresh = withData.filter((e) => this.isFresh(e, now));
    // When every venue is stale the figures keep their last values (health says stale) rather than
    // collapsing to zero, which would read as data.
    const included = fresh.length > 0 ? fresh : withData;
    for (const e of this.entries) e.included = included.includes(e) && fresh.length > 0;
    if (included.length === 0) return null;

    const excludedVenues: { venue: VenueId; reason: string }[] = [];
    for (const e of this.entries) {
      if (included.includes(e)) {
        if (fresh.length === 0) excludedVenues.push({ venue: e.venue, reason: 'stale: last values shown' });
        continue;
      }
      const st = this.stateOf(e, now);
      excludedVenues.push({
        venue: e.venue,
        reason: !e.instrumentsComplete || e.spot === null ? 'no data yet' : st === 'connected' ? 'stale' : st,
      });
    }

    let valuation = -Infinity;
    for (const e of included) if (e.venueTime.nowMs! > valuation) valuation = e.venueTime.nowMs!;
    for (const e of this.entries) e.store.removeExpired(valuation);

    // Expiries listed by the included venues.
    const lines = new Map<number, number>();
    for (const e of included) {
      for (const x of e.store.expiries()) {
        if (x.expiryMs > valuation) lines.set(x.expiryMs, (lines.get(x.expiryMs) ?? 0) + x.lines);
      }
    }
    const expiries: ExpiryInfo[] = [...lines.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([expiryMs, n]) => ({ expiryMs, label: expiryLabel(expiryMs), lines: n }));
    const expiredSelected = sel.expiries.filter((x) => !lines.has(x));
    let expirySet: Set<number> | null = null;
    if (sel.expiries.length > 0) {
      expirySet = new Set(sel.expiries.filter((x) => lines.has(x)));
      if (expirySet.size === 0 && expiries.length > 0) {
        // Every selected expiry has gone: show the next one rather than an empty chart or all of them.
        expirySet = new Set([expiries[0].expiryMs]);
        const key = sel.expiries.join(',');
        if (this.fallbackNoticeFor !== key) {
          this.fallbackNoticeFor = key;
          this.notice('info', `expiry ${sel.expiries.map(expiryLabel).join(', ')} has expired — showing next expiry ${expiries[0].label}`);
        }
      }
    }

    for (const e of included) if (e.adapter.forwardsFromIndex) this.forwardsFromIndex(e);
    const spotEntry = included.find((e) => e.spot !== null)!;
    const spot = spotEntry.spot!;
    const chain = included.length === 1 ? included[0].store.columns() : this.concat(included.map((e) => e.store.columns()));
    const gex = this.compute(chain, {
      spot, nowMs: valuation, model: sel.model, expiries: expirySet, profileRange: sel.profileRange,
      includeExpiring: sel.includeExpiring, afterNextExpiry: sel.afterNextExpiry, scenarios: sel.ladder,
      visibleDepth: visibleDepth(included.map((e) => e.perp)), feedbackShocks: FEEDBACK_SHOCKS,
    });
    this.lastValuation = { nowMs: valuation, expiries: expirySet };

    if (included.length === 1) included[0].excludedLines = nonZero(gex.excluded);
    else for (const e of included) e.excludedLines = exclusionsOf(e.store.columns(), valuation, expirySet);

    let newestFrameAtMs: number | null = null;
    for (const e of included) {
      if (e.lastDataAtMs !== null && (newestFrameAtMs === null || e.lastDataAtMs > newestFrameAtMs)) newestFrameAtMs = e.lastDataAtMs;
    }
    const perps: PerpQuote[] = [];
    for (const e of this.entries) if (e.perp) perps.push(e.perp);

    return {
      msg: {
        type: 'result',
        selection: sel,
        computedAtMs: now,
        newestFrameAtMs,
        gex,
        perps,
        includedVenues: included.map((e) => e.venue),
        excludedVenues,
        spotSource: spotSourceText(spotEntry, included),
        expiries,
        expiredSelected,
      },
    };
  }

  /**
   * Per option family of a venue that lists several (OKX), lines listed and lines in the figures, by the
   * engine's own validity test at the last valuation and expiry filter. Null for single-family venues.
   */
  private familyLines(e: FeedEntry): FamilyLines[] | null {
    const at = e.store.instrumentAt;
    if (!at) return null;
    const cols = e.store.columns();
    const v = this.lastValuation;
    const out = new Map<string, FamilyLines>();
    for (let i = 0; i < cols.length; i++) {
      const ins = at.call(e.store, i);
      if (ins?.family === undefined) continue;
      let f = out.get(ins.family);
      if (!f) out.set(ins.family, (f = { family: ins.family, settleCurrency: ins.settleCurrency ?? null, lines: 0, linesIn: 0 }));
      if (v?.expiries && !v.expiries.has(cols.expiryMs[i])) continue;
      f.lines++;
      if (v && e.included && exclusionReason(cols, i, v.nowMs) === null) f.linesIn++;
    }
    return out.size > 0 ? [...out.values()] : null;
  }

  /** A venue without forwards: its index stands in as every expiry's forward (design, "Model"). */
  private forwardsFromIndex(e: FeedEntry): void {
    if (e.spot === null) return;
    const timestampMs = e.venueTime.nowMs ?? 0;
    const forward = e.spot;
    e.store.applyForwards(e.store.expiries().map(({ expiryMs }) => ({ expiryMs, forward, timestampMs })));
  }

  /**
   * Several venues: their lines side by side in one chain, so the engine sums by strike (each venue's
   * strikes kept as they are) and finds one zero gamma for the total. Scratch columns are reused.
   */
  private concat(parts: ChainColumns[]): ChainColumns {
    let n = 0;
    for (const p of parts) n += p.length;
    let s = this.scratch;
    if (!s || s.strike.length < n) {
      const cap = Math.max(64, n * 2);
      s = {
        length: 0, strike: new Float64Array(cap), expiryMs: new Float64Array(cap), isCall: new Uint8Array(cap),
        markIv: new Float64Array(cap), forward: new Float64Array(cap), openInterest: new Float64Array(cap),
        multiplier: new Float64Array(cap),
      };
      this.scratch = s;
    }
    let o = 0;
    for (const p of parts) {
      const k = p.length;
      s.strike.set(p.strike.subarray(0, k), o);
      s.expiryMs.set(p.expiryMs.subarray(0, k), o);
      s.isCall.set(p.isCall.subarray(0, k), o);
      s.markIv.set(p.markIv.subarray(0, k), o);
      s.forward.set(p.forward.subarray(0, k), o);
      s.openInterest.set(p.openInterest.subarray(0, k), o);
      s.multiplier.set(p.multiplier.subarray(0, k), o);
      o += k;
    }
    s.length = n;
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Requests, posting, errors

  private answer(id: number, request: WorkerRequest): void {
    try {
      let data: unknown;
      switch (request?.kind) {
        case 'expiries':
          data = this.expiriesFor(request.venues, request.currency);
          break;
        case 'snapshot':
          data = this.snapshot();
          break;
        default:
          throw new Error(`unknown request ${String((request as { kind?: unknown } | null)?.kind)}`);
      }
      this.post({ type: 'response', id, ok: true, data }, []);
    } catch (e) {
      this.post({ type: 'response', id, ok: false, error: errorText(e) }, []);
    }
  }

  private expiriesFor(venues: VenueId[], currency: Currency): ExpiryInfo[] {
    const valuation = this.valuationTimeMs() ?? -Infinity;
    const lines = new Map<number, number>();
    for (const e of this.entries) {
      if (e.currency !== currency || !venues.includes(e.venue)) continue;
      for (const x of e.store.expiries()) {
        if (x.expiryMs > valuation) lines.set(x.expiryMs, (lines.get(x.expiryMs) ?? 0) + x.lines);
      }
    }
    return [...lines.entries()].sort((a, b) => a[0] - b[0]).map(([expiryMs, n]) => ({ expiryMs, label: expiryLabel(expiryMs), lines: n }));
  }

  private post(msg: FromWorker, transfer: ArrayBuffer[]): void {
    try {
      this.postRaw(msg, transfer);
    } catch (e) {
      // Posting failed (e.g. unclonable data): count it; do not recurse through notice().
      bump(this.stats.errors, 'post');
      void e;
    }
  }

  private notice(level: 'info' | 'warn' | 'error', message: string, key = message): void {
    const now = this.clock.now();
    const last = this.lastNoticeAt.get(key);
    if (last !== undefined && now - last < NOTICE_MIN_SPACING_MS) return;
    this.lastNoticeAt.set(key, now);
    if (this.lastNoticeAt.size > 500) this.lastNoticeAt.clear();
    this.post({ type: 'notice', level, message }, []);
  }

  private fail(where: string, e: unknown): void {
    bump(this.stats.errors, where);
    this.notice('error', `engine: ${where} failed: ${errorText(e)} (counted, still running)`, `fail:${where}`);
  }
}

function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/** Newest stamp of a batch (non-numbers ignored; -Infinity when none, which the guard refuses). */
function newestStamp(updates: { timestampMs: number }[]): number {
  let newest = -Infinity;
  for (const u of updates) if (u && u.timestampMs > newest) newest = u.timestampMs;
  return newest;
}

/**
 * A venue's lines left out of the summed figures, by the engine's own reason (the test computeGex
 * applies to every line of the selected expiries): a linear pass, where a second engine run per venue
 * (its zero-gamma search over +-50 % included) cost as much as the figures themselves.
 */
function exclusionsOf(chain: ChainColumns, nowMs: number, expiries: Set<number> | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < chain.length; i++) {
    if (expiries && !expiries.has(chain.expiryMs[i])) continue;
    const reason = exclusionReason(chain, i, nowMs);
    if (reason !== null) out[reason] = (out[reason] ?? 0) + 1;
  }
  return out;
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(counts)) if (counts[k] > 0) out[k] = counts[k];
  return out;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return 'unprintable error';
  }
}

/**
 * The perpetual books of the venues in the figures summed per band, for the feedback estimate
 * (design: "Feedback estimate"); null without any book.
 */
function visibleDepth(perps: (PerpQuote | null)[]): VisibleDepth | null {
  const bands = new Map<number, { bid: number; ask: number }>();
  for (const p of perps) {
    for (const d of p?.depth ?? []) {
      const b = bands.get(d.bandPct) ?? { bid: 0, ask: 0 };
      b.bid += d.bidCoin;
      b.ask += d.askCoin;
      bands.set(d.bandPct, b);
    }
  }
  if (bands.size === 0) return null;
  const bandPct = [...bands.keys()].sort((a, b) => a - b);
  return { bandPct, bidUnits: bandPct.map((k) => bands.get(k)!.bid), askUnits: bandPct.map((k) => bands.get(k)!.ask) };
}

/** What the spot is and where forwards come from, in words for the status bar. */
function spotSourceText(spotEntry: FeedEntry, included: FeedEntry[]): string {
  const fromIndex = included.filter((e) => e.adapter.forwardsFromIndex).map((e) => e.adapter.label);
  const fromVenue = included.filter((e) => !e.adapter.forwardsFromIndex).map((e) => e.adapter.label);
  const parts = [`spot from ${spotEntry.adapter.label} index`];
  if (fromVenue.length > 0) parts.push(`forwards from ${fromVenue.join(', ')}`);
  if (fromIndex.length > 0) parts.push(`${fromIndex.join(', ')}: no forward published, index used`);
  return parts.join('; ');
}
