/**
 * EngineHost: speaks the worker protocol, owns the feeds of the selected view (one FeedRunner per venue)
 * and the recompute loop. It does not know it runs in a worker: it gets a clock, a socket factory and a
 * `post` function, so the same class runs in the browser worker, in Node tests and could run in the server.
 *
 * Data path: feed -> FeedRunner's sink (feed-runner.ts) -> ChainStore (columns updated in place) -> dirty
 * flag -> RecomputeScheduler (<= 4 Hz, at once on a selection change) -> aggregate (aggregate.ts) ->
 * engine -> ResultGate (acked) -> post. Nothing thrown by a feed callback, the engine or a message
 * handler escapes: it becomes a counter and a notice (reliability §5 test 12/20).
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
import { NoticeThrottle } from './notices.ts';
import { TapeKeeper, type KeeperHost } from './tape-keeper.ts';
import { MEMORY_TAPES, openTapeStorage, tapeKey, type TapeStorage } from './tape-db.ts';

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
  tapeStorage?: TapeStorage | Promise<{ storage: TapeStorage; problem: string | null }>;
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
  private readonly keeperHost: KeeperHost;
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
  /** The trade tapes of the running feeds, by tapeKey (kept across a restart of the same feed). */
  private keepers = new Map<string, TapeKeeper>();
  private readonly tapeStorage: Promise<TapeStorage>;
  private tapeStorageProblem: string | null = null;
  private tapeStorageSaid = false;
  private readonly tapeProgressEveryMs: number;
  private tapeTimer: unknown = null;
  private lastTapePostAt = -Infinity;
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
    this.tapeProgressEveryMs = options.tapeProgressEveryMs ?? 500;
    const opening = options.tapeStorage ?? openTapeStorage(typeof indexedDB === 'undefined' ? null : indexedDB);
    this.tapeStorage = Promise.resolve(opening).then(
      (o) => {
        if ('storage' in o) {
          this.tapeStorageProblem = o.problem;
          return o.storage;
        }
        return o;
      },
      (e: unknown) => {
        this.tapeStorageProblem = errorText(e);
        return MEMORY_TAPES;
      },
    );
    const random = options.random ?? Math.random;
    this.keeperHost = {
      clock: this.clock,
      random,
      storage: this.tapeStorage,
      notice: (level, message, key) => this.notices.notice(level, message, key),
      dirty: () => this.scheduler.markDirty(),
      changed: () => this.tapeChanged(),
    };
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
    for (const k of this.keepers.values()) void k.stop();
    this.keepers.clear();
    this.scheduler.dispose();
    if (this.healthTimer !== null) this.clock.clearTimeout(this.healthTimer);
    this.healthTimer = null;
    if (this.tapeTimer !== null) this.clock.clearTimeout(this.tapeTimer);
    this.tapeTimer = null;
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
    // The tapes of feeds that go stop (what is pending is written); those of feeds that stay are kept.
    const keep = new Map<string, TapeKeeper>();
    for (const venue of sel.venues) {
      const key = tapeKey(sel.source, venue, sel.currency);
      const k = this.keepers.get(key);
      if (k) keep.set(key, k);
    }
    for (const [key, k] of this.keepers) if (!keep.has(key)) void k.stop();
    this.keepers = keep;
    for (const venue of sel.venues) {
      const adapter = this.adapters.get(venue);
      if (!adapter) continue;
      const runner = new FeedRunner(adapter, sel.currency, this.createStore(venue, sel.currency), this.runnerHost);
      const key = tapeKey(sel.source, venue, sel.currency);
      let keeper = this.keepers.get(key);
      if (!keeper) this.keepers.set(key, (keeper = new TapeKeeper(key, venue, sel.currency, this.keeperHost)));
      runner.tape = keeper;
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
  // Trade tapes

  /** Each recompute: every tape bounded to its window, read back and filled when the view is on `flow`. */
  private updateTapes(sel: ViewSelection): void {
    const flow = sel.model === 'flow';
    if (flow && !this.tapeStorageSaid) {
      this.tapeStorageSaid = true;
      void this.tapeStorage.then((s) => {
        if (!s.persistent) this.notices.notice('info', `trade tape kept in memory only (${this.tapeStorageProblem ?? 'no IndexedDB'}): a reload fetches the history again`);
      });
    }
    for (const r of this.runners) r.tape?.update(r.venueTime.nowMs, sel.windowDays, flow, r.feed?.tradeHistory);
  }

  /** The tapes' progress, posted at most every tapeProgressEveryMs (the last change always goes out). */
  private tapeChanged(): void {
    if (this.tapeTimer !== null || this.disposed) return;
    const wait = Math.max(0, this.lastTapePostAt + this.tapeProgressEveryMs - this.clock.now());
    this.tapeTimer = this.clock.setTimeout(() => {
      this.tapeTimer = null;
      this.lastTapePostAt = this.clock.now();
      this.postTape();
    }, wait);
  }

  private postTape(): void {
    try {
      this.post({ type: 'tape', venues: this.runners.flatMap((r) => (r.tape ? [r.tape.status(r.feed?.tradeHistory)] : [])), atMs: this.clock.now() }, []);
    } catch (e) {
      this.fail('tape', e);
    }
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
      if (this.selection) this.updateTapes(this.selection);
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

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return 'unprintable error';
  }
}
