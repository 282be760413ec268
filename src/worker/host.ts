/**
 * EngineHost: speaks the worker protocol, owns the feeds of the selected view (one FeedRunner per venue)
 * and the recompute loop. It does not know it runs in a worker: it gets a clock, a socket factory and a
 * `post` function, so the same class runs in the browser worker, in Node tests and could run in the server.
 *
 * Data path: feed -> FeedRunner's sink (feed-runner.ts) -> ChainStore (columns updated in place) -> dirty
 * flag -> RecomputeScheduler (<= 4 Hz, at once on a selection change) -> aggregate (aggregate.ts) ->
 * engine -> ResultGate (acked) -> post. Nothing thrown by a feed callback, the engine or a message
 * handler escapes: it becomes a counter and a notice (reliability §5 test 12/20).
 *
 * About 380 lines: the message switch, the feeds' lifecycle, the recompute and the health loop share the
 * host's state. What has a seam is apart: each feed (feed-runner.ts), the trade tapes (host-tapes.ts),
 * the sums over venues (aggregate.ts), the notices (notices.ts), the pacing (scheduler.ts).
 */
import type { Clock, SocketFactory, VenueAdapter } from '../feeds/adapter.ts';
import { DATA_STALE_MS } from '../shared/policy.ts';
import { expiryLabel } from '../shared/expiry.ts';
import { availableAdapters } from '../feeds/registry.ts';
import { ChainStore } from '../chain/store.ts';
import { computeGex, PreparedLines } from '../engine/index.ts';
import type { ChainColumns, Currency, VenueId } from '../chain/model.ts';
import {
  PROTOCOL_VERSION, parseSelection, transferablesOf,
  type FeedHealth, type FromWorker, type RequestKind, type ResultMessage, type ToWorker, type ViewSelection, type WorkerRequest, type WorkerRequests,
} from './protocol.ts';
import { DEFAULT_MIN_INTERVAL_MS, RecomputeScheduler, ResultGate } from './scheduler.ts';
import { FeedRunner, type ChainStoreLike, type RunnerHost, type Valuation } from './feed-runner.ts';
import { aggregate, listedExpiries, type Aggregate, type Compute } from './aggregate.ts';
import { HostTapes, type TapeStorageOption } from './host-tapes.ts';
import { errorText, NoticeThrottle } from './notices.ts';

export type { ChainStoreLike };
export { expiryLabel };

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
  compute?: Compute;
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
  /**
   * Where the trade tapes are kept: default the worker's IndexedDB (memory only without one, said once
   * the flow model is used); a storage or its opening in tests.
   */
  tapeStorage?: TapeStorageOption;
  /** Uniform [0, 1) for the history fill's backoff jitter; default Math.random. */
  random?: () => number;
  /** Least time between two tape progress messages, default 500 ms. */
  tapeProgressEveryMs?: number;
}

/** Counters of things the host survived (exposed for tests and the soak). */
export interface HostStats {
  recomputes: number;
  resultsPosted: number;
  resultsReplaced: number;
  errors: Record<string, number>;
}

const DOWN_AFTER_MS = 60_000;

export class EngineHost {
  private readonly clock: Clock;
  private readonly socketFactory: SocketFactory;
  private localBase: string | null;
  private readonly postRaw: (msg: FromWorker, transfer: ArrayBuffer[]) => void;
  private readonly adapters: Map<VenueId, VenueAdapter>;
  private readonly createStore: (venue: VenueId, currency: Currency) => ChainStoreLike;
  private readonly compute: Compute;
  private readonly healthIntervalMs: number;
  private readonly feedOptions: Record<string, unknown>;
  private readonly scheduler: RecomputeScheduler;
  private readonly gate: ResultGate<ResultMessage>;
  private readonly notices: NoticeThrottle;
  private readonly runnerHost: RunnerHost;
  private selection: ViewSelection | null = null;
  private runners: FeedRunner[] = [];
  private seq = 0;
  private healthTimer: unknown = null;
  private disposed = false;
  /** Reused columns when several venues are summed. */
  private readonly scratch: { value: ChainColumns | null } = { value: null };
  /** The last expiry fallback announced (so it is said once, not on every recompute). */
  private fallbackSaid = '';
  /** Valuation time and expiry filter of the last figures (families count their lines in by them). */
  private lastValuation: Valuation | null = null;
  /** The trade tapes of the running feeds (kept across a restart of the same feed). */
  private readonly tapes: HostTapes;
  readonly stats: HostStats = { recomputes: 0, resultsPosted: 0, resultsReplaced: 0, errors: {} };

  constructor(options: EngineHostOptions) {
    this.clock = options.clock;
    this.socketFactory = options.socketFactory;
    this.localBase = options.localBase ?? null;
    this.postRaw = options.post;
    this.adapters = new Map((options.adapters ?? availableAdapters()).map((a) => [a.id, a]));
    this.createStore = options.createStore ?? ((venue, currency) => new ChainStore(venue, currency));
    // The worker recomputes ~4x/s: one scratch for the per-line constants, reused.
    const lines = new PreparedLines();
    this.compute = options.compute ?? ((chain, params) => computeGex(chain, params, lines));
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
    this.notices = new NoticeThrottle(this.clock, (level, message) => this.post({ type: 'notice', level, message }, []));
    this.runnerHost = {
      clock: this.clock,
      staleAfterMs: options.staleAfterMs ?? DATA_STALE_MS,
      downAfterMs: options.downAfterMs ?? DOWN_AFTER_MS,
      dirty: () => this.scheduler.markDirty(),
      notice: (level, message, key) => this.notices.notice(level, message, key),
      fail: (where, e) => this.fail(where, e),
      onTrades: (venue, currency, trades) => this.runners.find((r) => r.venue === venue && r.currency === currency)?.tape?.live(trades),
    };
    this.tapes = new HostTapes({
      clock: this.clock,
      random: options.random ?? Math.random,
      storage: options.tapeStorage,
      progressEveryMs: options.tapeProgressEveryMs ?? 500,
      runners: () => this.runners,
      notice: (level, message, key) => this.notices.notice(level, message, key),
      dirty: () => this.scheduler.markDirty(),
      post: (venues) => this.post({ type: 'tape', venues, atMs: this.clock.now() }, []),
      fail: (where, e) => this.fail(where, e),
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
            this.notices.notice('error', `protocol mismatch: page ${msg.protocolVersion}, engine ${PROTOCOL_VERSION}; reload the page`);
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
        case 'history':
          for (const r of this.runners) {
            if (msg.action === 'cancel') r.tape?.cancel();
            else if (msg.action === 'resume') r.tape?.resume();
          }
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
    this.tapes.dispose();
    this.scheduler.dispose();
    if (this.healthTimer !== null) this.clock.clearTimeout(this.healthTimer);
    this.healthTimer = null;
  }

  /** Feed health now, one entry per running feed. */
  health(): FeedHealth[] {
    const now = this.clock.now();
    return this.runners.map((r) => r.health(now, this.lastValuation));
  }

  /** A fresh result computed now (not gated, not transferred), or null if there is nothing to show yet. */
  snapshot(): ResultMessage | null {
    const a = this.aggregate();
    return a ? { ...a.body, seq: this.seq } : null;
  }

  /** Valuation time now: the newest accepted venue timestamp of the feeds in use. */
  valuationTimeMs(): number | null {
    let t: number | null = null;
    for (const r of this.runners) {
      const v = r.venueTime.nowMs;
      if (v !== null && (t === null || v > t)) t = v;
    }
    return t;
  }

  // ---------------------------------------------------------------------------------------------
  // Selection and feeds

  private select(raw: ViewSelection): void {
    const { selection: sel, problems } = parseSelection(raw, (v) => this.adapters.has(v));
    if (!sel) {
      this.notices.notice('warn', `ignored a selection with an invalid ${problems.join(', ')}`);
      return;
    }
    if (problems.length > 0) this.notices.notice('warn', `ignored in selection: ${problems.join(', ')}`);
    if (sel.venues.length === 0) this.notices.notice('warn', 'no known venue selected');
    const prev = this.selection;
    this.selection = sel;
    const sameFeeds = prev !== null && prev.source === sel.source && prev.currency === sel.currency
      && prev.venues.length === sel.venues.length && prev.venues.every((v, i) => v === sel.venues[i]);
    if (!sameFeeds) this.restartFeeds(sel);
    this.ensureHealthTimer();
    // Expiries, model or range alone: recompute at once without touching the sockets.
    this.scheduler.runNow();
  }

  private restartFeeds(sel: ViewSelection): void {
    this.stopFeeds();
    this.gate.reset();
    this.tapes.keepOnly(sel);
    for (const venue of sel.venues) {
      const adapter = this.adapters.get(venue);
      if (!adapter) continue;
      const runner = new FeedRunner(adapter, sel.currency, this.createStore(venue, sel.currency), this.runnerHost);
      runner.tape = this.tapes.keeperFor(sel.source, venue, sel.currency);
      this.runners.push(runner);
      const base = this.localBase?.replace(/\/+$/, '') ?? null;
      if (sel.source !== 'live' && base === null) {
        runner.markDown(`no local server address for source ${sel.source}`);
        this.notices.notice('error', `${adapter.label}: ${runner.lastError}`);
        continue;
      }
      runner.start(sel.source === 'live' ? adapter.liveUrl : base + adapter.localPath, {
        ...this.feedOptions,
        socketFactory: this.socketFactory,
        restRelayOrigin: base === null ? undefined : base.replace(/^ws/, 'http'),
      });
    }
  }

  private stopFeeds(): void {
    for (const r of this.runners) {
      r.stop();
      r.tape?.liveDown(r.venueTime.nowMs);
    }
    this.runners = [];
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
    for (const r of this.runners) {
      r.tickRate(now);
      // A venue going stale (or coming back) changes the totals even if no frame arrives.
      if (r.isFresh(now) !== r.included) this.scheduler.markDirty();
    }
    this.post({ type: 'health', feeds: this.health(), atMs: now }, []);
  }

  // ---------------------------------------------------------------------------------------------
  // Recompute

  private aggregate(): Aggregate | null {
    const sel = this.selection;
    if (!sel || this.runners.length === 0) return null;
    const a = aggregate(this.runners, sel, this.clock.now(), this.compute, this.scratch);
    if (a) this.lastValuation = a.valuation;
    return a;
  }

  private recompute(): void {
    try {
      this.stats.recomputes++;
      if (this.selection) this.tapes.update(this.selection);
      const a = this.aggregate();
      if (!a) return;
      this.announceFallback(a);
      const msg: ResultMessage = { ...a.body, seq: ++this.seq };
      this.gate.offer(msg);
      this.stats.resultsReplaced = this.gate.replaced;
    } catch (e) {
      this.fail('recompute', e);
    }
  }

  /** Gone expiries: said once per selection and outcome, as a typed event the page mirrors. */
  private announceFallback(a: Aggregate): void {
    const f = a.fallback;
    const key = f ? `${a.body.selection.expiries.join(',')}>${f.showing.join(',')}` : '';
    if (key === this.fallbackSaid) return;
    this.fallbackSaid = key;
    if (f) this.post({ type: 'expiryFallback', selection: a.body.selection, ...f }, []);
  }

  // ---------------------------------------------------------------------------------------------
  // Requests, posting, errors

  private answer(id: number, request: WorkerRequest): void {
    const reply = <K extends RequestKind>(kind: K, data: WorkerRequests[K]['answer']) =>
      this.post({ type: 'response', id, ok: true, kind, data } as FromWorker, []);
    try {
      switch (request?.kind) {
        case 'expiries': {
          const valuation = this.valuationTimeMs() ?? -Infinity;
          const runners = this.runners.filter((r) => r.currency === request.currency && request.venues.includes(r.venue));
          reply('expiries', listedExpiries(runners, valuation));
          break;
        }
        case 'snapshot':
          reply('snapshot', this.snapshot());
          break;
        default:
          throw new Error(`unknown request ${String((request as { kind?: unknown } | null)?.kind)}`);
      }
    } catch (e) {
      this.post({ type: 'response', id, ok: false, error: errorText(e) }, []);
    }
  }

  private post(msg: FromWorker, transfer: ArrayBuffer[]): void {
    try {
      this.postRaw(msg, transfer);
    } catch {
      // Posting failed (e.g. unclonable data): count it; do not recurse through a notice.
      this.stats.errors.post = (this.stats.errors.post ?? 0) + 1;
    }
  }

  private fail(where: string, e: unknown): void {
    this.stats.errors[where] = (this.stats.errors[where] ?? 0) + 1;
    this.notices.notice('error', `engine: ${where} failed: ${errorText(e)} (counted, still running)`, `fail:${where}`);
  }
}
