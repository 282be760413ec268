/**
 * The one client-side store (zustand vanilla), fed by the worker client. Slices: view (mirrors the URL),
 * results (latest ResultMessage only: results, not ticks), feed health, notices (bounded) and the
 * session history (spot and zero gamma, bounded, persisted per venue+currency).
 * React reads it through narrow selectors; values that change faster than a few hertz (ages, latency)
 * should be read with `store.subscribe` into refs rather than re-rendering.
 */
import { createContext, useContext } from 'react';
import { createStore, useStore, type StoreApi } from 'zustand';
import type { FeedHealth, FromWorker, ResultMessage } from '../worker/protocol.ts';
import { decodeSavedFigures, encodeSavedFigures } from './saved-figures.ts';
import { defaultView, sameSelection, toSelection, type ViewState } from './url.ts';
import { DATA_STALE_MS } from '../shared/policy.ts';

export type NoticeLevel = 'info' | 'warn' | 'error';
export interface Notice {
  id: number;
  level: NoticeLevel;
  message: string;
  /** How many times the same message arrived (repeats are folded, not listed). */
  count: number;
}

/** One session-history sample; `t` is venue time (the valuation instant), epoch ms. */
export interface HistoryPoint {
  t: number;
  spot: number;
  zeroGamma: number | null;
}

/**
 * The page was in the background (hidden or frozen) and its figures cannot be trusted as live until a
 * result shows the venue clock has been caught up. A frozen page freezes its worker too; on resume the
 * worker first works through the frames its socket buffered meanwhile, and those results arrive "now"
 * although they are valued at the old venue time, so neither receipt time nor feed data age reveals them
 * (measured: e2e/hidden-tab.spec.ts).
 */
export interface PageSuspension {
  /** Main-thread clock when the page went to the background. */
  sinceMs: number;
  /** When it came back (visible), null while still in the background. */
  resumedAtMs: number | null;
  /**
   * The venue clock as last seen before leaving: the valuation time of a result, the worker clock when it
   * was computed, and venue milliseconds per wall millisecond (the sim's speed; 1 live), or null if the
   * page had not seen enough results to tell.
   */
  venueClock: { nowMs: number; computedAtMs: number; rate: number } | null;
}

export interface GexState {
  view: ViewState;
  result: ResultMessage | null;
  /** Main-thread clock when the latest result arrived. */
  resultReceivedAtMs: number | null;
  /** The result on screen was saved at an earlier visit (`showSavedFigures`), not received now: stale, never live. */
  resultSaved: boolean;
  feeds: FeedHealth[];
  /** Worker time of the latest health message, and main-thread receipt time. */
  healthAtMs: number | null;
  healthReceivedAtMs: number | null;
  notices: Notice[];
  history: HistoryPoint[];
  workerRestarts: number;
  /** Non-null from the page going to the background until current figures are back. */
  suspended: PageSuspension | null;
  actions: GexActions;
}

export interface GexActions {
  setView(patch: Partial<ViewState>): void;
  applyMessage(msg: FromWorker): void;
  addNotice(level: NoticeLevel, message: string): void;
  dismissNotice(id: number): void;
  setWorkerRestarts(n: number): void;
  /** Writes the session history and the last figures now (call on pagehide). */
  flushHistory(): void;
  /** The page went to the background (hidden, frozen). Wired to the document by default (`StoreOptions.lifecycle`). */
  pageSuspended(): void;
  /** The page is visible again: figures stay flagged until a result has caught up with the venue clock. */
  pageResumed(): void;
  /**
   * With no result yet, shows the figures saved for this exact view at an earlier visit, flagged as
   * saved (stale, not live) until a live result replaces them. Returns whether there were any.
   */
  showSavedFigures(): boolean;
}

/** The document events the store follows (injectable for tests). */
export type LifecycleSource = Pick<Document, 'visibilityState' | 'addEventListener'>;

/** Subset of the Web Storage API (injectable for tests). */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'>;

export interface StoreOptions {
  initialView?: ViewState;
  storage?: KeyValueStorage | null;
  /** Main-thread clock, injectable for tests. */
  nowMs?: () => number;
  /** History resolution and depth (venue time). Defaults: one point per 10 s, 6 h. */
  historyStepMs?: number;
  historyMaxMs?: number;
  /** Minimum wall time between history writes to storage. */
  persistEveryMs?: number;
  maxNotices?: number;
  /** Page lifecycle events (visibilitychange, freeze, resume); default the global document, null for none. */
  lifecycle?: LifecycleSource | null;
}

export const HISTORY_STEP_MS = 10_000;
export const HISTORY_MAX_MS = 6 * 3_600_000;
const STORAGE_PREFIX = 'gexdesk.history.v1.';
const FIGURES_PREFIX = 'gexdesk.figures.v1.';
/**
 * With no result this long after a view starts (page load, currency switch), its saved figures are
 * shown (the bridge calls showSavedFigures): a normal start has live figures well before, an offline
 * one shows the last ones, marked, instead of an empty page.
 */
export const SAVED_FIGURES_AFTER_MS = 3_000;

/** Shorter absences are not flagged: the figures on screen are then at most about this much older. */
export const SUSPEND_GRACE_MS = 1_000;
/** A result may trail the venue clock by this much wall time (recompute interval, transport, load) and count as caught up. */
export const CATCH_UP_TOLERANCE_MS = 1_500;
/** Without a venue clock reference, results computed this long after the return count as caught up. */
export const CATCH_UP_SETTLE_MS = 1_500;
/** After this, the flag is dropped and the usual staleness rules (feed health, result age) decide alone. */
export const CATCH_UP_MAX_MS = 30_000;
/** Venue clock samples: at most one per this much worker time, kept over the window below. */
const CLOCK_SAMPLE_EVERY_MS = 500;
const CLOCK_WINDOW_MS = 20_000;
/** A rate needs at least this much worker time between the oldest and newest sample. */
const CLOCK_MIN_SPAN_MS = 2_000;

const seriesKey = (view: Pick<ViewState, 'venues' | 'currency' | 'source'>) => `${view.source}.${[...view.venues].sort().join('+')}.${view.currency}`;

export function historyKey(view: Pick<ViewState, 'venues' | 'currency' | 'source'>): string {
  return STORAGE_PREFIX + seriesKey(view);
}

/** Where the last figures of a series are saved (one entry per source, venues and currency). */
export function savedFiguresKey(view: Pick<ViewState, 'venues' | 'currency' | 'source'>): string {
  return FIGURES_PREFIX + seriesKey(view);
}

/** Reads stored history; anything malformed is ignored (never thrown). */
export function loadHistory(storage: KeyValueStorage | null | undefined, key: string, maxPoints: number): HistoryPoint[] {
  const raw = readStorage(storage, key);
  if (!raw || raw.length > 2_000_000) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { v?: unknown }).v !== 1) return [];
  const pts = (parsed as { points?: unknown }).points;
  if (!Array.isArray(pts)) return [];
  const out: HistoryPoint[] = [];
  for (const p of pts) {
    if (!Array.isArray(p) || p.length !== 3) continue;
    const [t, spot, zg] = p as unknown[];
    if (typeof t !== 'number' || !Number.isFinite(t) || typeof spot !== 'number' || !Number.isFinite(spot) || spot <= 0) continue;
    if (zg !== null && (typeof zg !== 'number' || !Number.isFinite(zg))) continue;
    if (out.length > 0 && t <= out[out.length - 1].t) continue; // keep strictly ascending
    out.push({ t, spot, zeroGamma: zg as number | null });
  }
  return out.slice(-maxPoints);
}

/** Writes `value()` under `key`; quota or privacy mode: it simply does not survive a reload. */
function writeStorage(storage: KeyValueStorage | null | undefined, key: string, value: () => string): void {
  if (!storage) return;
  try {
    storage.setItem(key, value());
  } catch {
    // not kept
  }
}

function saveHistory(storage: KeyValueStorage | null | undefined, key: string, points: HistoryPoint[]): void {
  writeStorage(storage, key, () => JSON.stringify({ v: 1, points: points.map((p) => [p.t, p.spot, p.zeroGamma]) }));
}

function readStorage(storage: KeyValueStorage | null | undefined, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

const sameVenues = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export type GexStore = StoreApi<GexState>;

export function createGexStore(opts: StoreOptions = {}): GexStore {
  const now = opts.nowMs ?? (() => Date.now());
  const storage = opts.storage === undefined ? (typeof localStorage === 'undefined' ? null : localStorage) : opts.storage;
  const stepMs = opts.historyStepMs ?? HISTORY_STEP_MS;
  const maxMs = opts.historyMaxMs ?? HISTORY_MAX_MS;
  const maxPoints = Math.ceil(maxMs / stepMs) + 1;
  const persistEveryMs = opts.persistEveryMs ?? 10_000;
  const maxNotices = opts.maxNotices ?? 6;
  const initialView = opts.initialView ?? defaultView();
  const lifecycle = opts.lifecycle === undefined ? (typeof document === 'undefined' ? null : document) : opts.lifecycle;
  let nextNoticeId = 1;
  /** (worker clock, valuation time) of recent results while the page was in the foreground. */
  let clockSamples: { computedAtMs: number; nowMs: number }[] = [];
  let lastPersistAt = -Infinity;
  let dirtyHistory = false;
  /** A live result has arrived since the figures were last saved. */
  let dirtyFigures = false;

  const store = createStore<GexState>()((set, get) => {
    const persist = (force: boolean) => {
      if (!dirtyHistory && !dirtyFigures) return;
      const t = now();
      if (!force && t - lastPersistAt < persistEveryMs) return;
      lastPersistAt = t;
      const { view, history, result, resultReceivedAtMs, resultSaved } = get();
      if (dirtyHistory) saveHistory(storage, historyKey(view), history);
      if (dirtyFigures && result && !resultSaved && resultReceivedAtMs !== null) {
        writeStorage(storage, savedFiguresKey(view), () => encodeSavedFigures(result, resultReceivedAtMs));
      }
      dirtyHistory = false;
      dirtyFigures = false;
    };

    const appendHistory = (msg: ResultMessage) => {
      const { view, history } = get();
      const sel = msg.selection;
      // Only the series of what is on screen; results of an older selection do not belong to it.
      if (sel.currency !== view.currency || sel.source !== view.source || !sameVenues(sel.venues, view.venues)) return;
      const g = msg.gex;
      if (!Number.isFinite(g.nowMs) || !Number.isFinite(g.spot) || g.spot <= 0) return;
      const last = history[history.length - 1];
      let next: HistoryPoint[];
      if (!last || g.nowMs < last.t - stepMs) {
        // Venue time jumped back (replay restarted, different session): start a new series.
        next = last ? [] : history;
      } else if (g.nowMs - last.t < stepMs) {
        return;
      } else {
        next = history;
      }
      const zg = g.zeroGammaLevel !== null && Number.isFinite(g.zeroGammaLevel) ? g.zeroGammaLevel : null;
      const cutoff = g.nowMs - maxMs;
      let start = 0;
      while (start < next.length && next[start].t < cutoff) start++;
      const kept = next.slice(Math.max(start, next.length + 1 - maxPoints));
      kept.push({ t: g.nowMs, spot: g.spot, zeroGamma: zg });
      dirtyHistory = true;
      set({ history: kept });
    };

    const sampleVenueClock = (msg: ResultMessage) => {
      const c = msg.computedAtMs;
      const n = msg.gex.nowMs;
      if (!Number.isFinite(c) || !Number.isFinite(n)) return;
      const last = clockSamples[clockSamples.length - 1];
      // Venue time going back (replay looped, another session) starts over.
      if (last && (n < last.nowMs || c < last.computedAtMs)) clockSamples = [];
      else if (last && c - last.computedAtMs < CLOCK_SAMPLE_EVERY_MS) return;
      clockSamples.push({ computedAtMs: c, nowMs: n });
      while (clockSamples.length > 2 && c - clockSamples[0].computedAtMs > CLOCK_WINDOW_MS) clockSamples.shift();
    };

    const venueClock = (): PageSuspension['venueClock'] => {
      if (clockSamples.length < 2) return null;
      const a = clockSamples[0];
      const b = clockSamples[clockSamples.length - 1];
      const span = b.computedAtMs - a.computedAtMs;
      if (span < CLOCK_MIN_SPAN_MS) return null;
      return { nowMs: b.nowMs, computedAtMs: b.computedAtMs, rate: (b.nowMs - a.nowMs) / span };
    };

    /** Has this result (of the series on screen) caught up with the venue clock since the page came back? */
    const caughtUp = (sus: PageSuspension, msg: ResultMessage): boolean => {
      if (sus.resumedAtMs === null) return false;
      // Computed before the return: it may come from the backlog of a frozen worker.
      if (!(msg.computedAtMs >= sus.resumedAtMs)) return false;
      const ref = sus.venueClock;
      if (!ref) return msg.computedAtMs - sus.resumedAtMs >= CATCH_UP_SETTLE_MS;
      const expected = ref.nowMs + ref.rate * (msg.computedAtMs - ref.computedAtMs);
      return msg.gex.nowMs >= expected - ref.rate * CATCH_UP_TOLERANCE_MS;
    };

    const addNotice = (level: NoticeLevel, message: string) => {
      const notices = get().notices;
      const same = notices.find((n) => n.message === message && n.level === level);
      if (same) {
        set({ notices: notices.map((n) => (n === same ? { ...n, count: n.count + 1 } : n)) });
        return;
      }
      const next = [{ id: nextNoticeId++, level, message, count: 1 }, ...notices].slice(0, maxNotices);
      set({ notices: next });
    };

    const actions: GexActions = {
      setView(patch) {
        const prev = get().view;
        const view: ViewState = { ...prev, ...patch };
        const seriesChanged = historyKey(view) !== historyKey(prev);
        if (seriesChanged) {
          persist(true);
          dirtyFigures = false;
          clockSamples = [];
          const sus = get().suspended;
          set({
            // The venue clock seen before leaving was another series'.
            suspended: sus ? { ...sus, venueClock: null } : null,
            view,
            // The figures on screen belong to the old currency/venue/source: clear rather than mislabel.
            result: null,
            resultReceivedAtMs: null,
            resultSaved: false,
            history: loadHistory(storage, historyKey(view), maxPoints),
          });
        } else if (get().resultSaved && !sameSelection(get().result!.selection, toSelection(view))) {
          // Saved figures are of one exact view (model, expiries, range): not to be shown under another.
          set({ view, result: null, resultReceivedAtMs: null, resultSaved: false });
        } else {
          set({ view });
        }
      },
      applyMessage(msg) {
        switch (msg.type) {
          case 'result': {
            const v = get().view;
            if (msg.selection.currency !== v.currency || msg.selection.source !== v.source) return;
            let sus = get().suspended;
            if (sus && sus.resumedAtMs !== null && !caughtUp(sus, msg) && now() - sus.resumedAtMs > CATCH_UP_MAX_MS) {
              // The reference was wrong (speed changed, venue clock jumped) or the figures really lag: stop
              // waiting, say so, and let feed health and result age judge from here.
              addNotice('warn', `figures did not catch up with the venue clock within ${CATCH_UP_MAX_MS / 1000} s of the page's return`);
              sus = null;
              set({ suspended: null });
            }
            if (sus === null) sampleVenueClock(msg);
            const back = sus !== null && caughtUp(sus, msg);
            const fresh = { result: msg, resultReceivedAtMs: now(), resultSaved: false };
            set(back ? { ...fresh, suspended: null } : fresh);
            dirtyFigures = true;
            appendHistory(msg);
            persist(false);
            return;
          }
          case 'health':
            set({ feeds: msg.feeds, healthAtMs: msg.atMs, healthReceivedAtMs: now() });
            return;
          case 'notice':
            addNotice(msg.level, msg.message);
            return;
          case 'hello':
          case 'response':
          case 'pong':
            return;
          default: {
            const never: never = msg;
            void never;
          }
        }
      },
      addNotice,
      dismissNotice(id) {
        set({ notices: get().notices.filter((n) => n.id !== id) });
      },
      setWorkerRestarts(n) {
        if (n !== get().workerRestarts) set({ workerRestarts: n });
      },
      flushHistory() {
        persist(true);
      },
      pageSuspended() {
        const sus = get().suspended;
        // Still away (hidden, then frozen): one absence.
        if (sus && sus.resumedAtMs === null) return;
        const t = now();
        // Back but not caught up yet, and away again: the figures are as old as the first absence made them.
        if (sus && t - sus.resumedAtMs! <= CATCH_UP_MAX_MS) {
          set({ suspended: { ...sus, resumedAtMs: null } });
          return;
        }
        set({ suspended: { sinceMs: t, resumedAtMs: null, venueClock: venueClock() } });
      },
      pageResumed() {
        const sus = get().suspended;
        if (!sus || sus.resumedAtMs !== null) return;
        const t = now();
        // A short absence: what is on screen is about as current as it would have been.
        set({ suspended: t - sus.sinceMs <= SUSPEND_GRACE_MS ? null : { ...sus, resumedAtMs: t } });
      },
      showSavedFigures() {
        const { view, result } = get();
        if (result !== null) return false;
        const saved = decodeSavedFigures(readStorage(storage, savedFiguresKey(view)));
        if (!saved || !sameSelection(saved.result.selection, toSelection(view))) return false;
        set({ result: saved.result, resultReceivedAtMs: saved.receivedAtMs, resultSaved: true });
        return true;
      },
    };

    return {
      view: initialView,
      result: null,
      resultReceivedAtMs: null,
      resultSaved: false,
      feeds: [],
      healthAtMs: null,
      healthReceivedAtMs: null,
      notices: [],
      history: loadHistory(storage, historyKey(initialView), maxPoints),
      workerRestarts: 0,
      suspended: null,
      actions,
    };
  });

  if (lifecycle) {
    // Hidden covers a background tab, a minimised window and (before it) a frozen page; freeze/resume
    // come on their own only where a visible page can be frozen. The store lives as long as the page.
    const { pageSuspended, pageResumed } = store.getState().actions;
    lifecycle.addEventListener('visibilitychange', () => (lifecycle.visibilityState === 'visible' ? pageResumed() : pageSuspended()));
    lifecycle.addEventListener('freeze', () => pageSuspended());
    lifecycle.addEventListener('resume', () => {
      if (lifecycle.visibilityState === 'visible') pageResumed();
    });
  }
  return store;
}

export const GexStoreContext = createContext<GexStore | null>(null);

/** Narrow selector hook: `const spot = useGex((s) => s.result?.gex.spot)`. */
export function useGex<T>(selector: (s: GexState) => T): T {
  const store = useContext(GexStoreContext);
  if (!store) throw new Error('GexStoreContext missing');
  return useStore(store, selector);
}

/** The store itself, for transient subscriptions and actions. */
export function useGexStoreApi(): GexStore {
  const store = useContext(GexStoreContext);
  if (!store) throw new Error('GexStoreContext missing');
  return store;
}

/** How long the page was away, if that still makes its figures suspect at `nowMs`; null if not. */
export function suspensionInForce(sus: PageSuspension | null | undefined, nowMs: number): number | null {
  if (!sus) return null;
  const awayMs = (sus.resumedAtMs ?? nowMs) - sus.sinceMs;
  if (awayMs <= SUSPEND_GRACE_MS) return null;
  if (sus.resumedAtMs !== null && nowMs - sus.resumedAtMs > CATCH_UP_MAX_MS) return null;
  return awayMs;
}

/**
 * Stale when no result for `staleAfterMs` on the main-thread clock, a feed reports stale/down/reconnecting,
 * the page has been in the background for more than `SUSPEND_GRACE_MS` and no result has caught up since,
 * or the figures on screen are saved ones from an earlier visit.
 */
export interface Staleness {
  stale: boolean;
  /** Milliseconds since the last data we know of (null before the first). */
  ageMs: number | null;
  reason: string | null;
}

/** Figures older than this are stale on screen: the same threshold as a venue's feed health. */
export const STALE_AFTER_MS = DATA_STALE_MS;

/**
 * @param sinceMs when the current view started waiting for data (page load, currency switch): with no
 *   result at all for `staleAfterMs` after it, that is stale too.
 */
export function staleness(
  s: Pick<GexState, 'resultReceivedAtMs' | 'feeds' | 'healthReceivedAtMs'> & { suspended?: PageSuspension | null; resultSaved?: boolean },
  nowMs: number,
  sinceMs: number | null = null,
  staleAfterMs = STALE_AFTER_MS,
): Staleness {
  const since = s.resultReceivedAtMs ?? sinceMs;
  const sinceResult = since === null ? null : Math.max(0, nowMs - since);
  // Feed age extrapolated from the last health message (the worker's own view of the venue).
  let feedAge: number | null = null;
  let badFeed: FeedHealth | undefined;
  for (const f of s.feeds) {
    if (f.dataAgeMs !== null) {
      const a = f.dataAgeMs + (s.healthReceivedAtMs === null ? 0 : Math.max(0, nowMs - s.healthReceivedAtMs));
      feedAge = feedAge === null ? a : Math.max(feedAge, a);
    }
    if (f.state === 'stale' || f.state === 'down' || f.state === 'reconnecting') badFeed ??= f;
  }
  let ageMs = sinceResult === null ? feedAge : feedAge === null ? sinceResult : Math.max(sinceResult, feedAge);
  const awayMs = suspensionInForce(s.suspended, nowMs);
  // The figures on screen may be as old as the absence.
  if (awayMs !== null) ageMs = Math.max(ageMs ?? 0, awayMs);
  if (s.resultSaved) {
    const saved = 'saved figures from an earlier visit, not live';
    return { stale: true, ageMs, reason: badFeed ? `${badFeed.venue} feed ${badFeed.state} · ${saved}` : saved };
  }
  if (badFeed) return { stale: true, ageMs, reason: `${badFeed.venue} feed ${badFeed.state}` };
  if (awayMs !== null) return { stale: true, ageMs, reason: `page was in the background ${Math.round(awayMs / 1000)} s: catching up` };
  if (sinceResult !== null && sinceResult > staleAfterMs) return { stale: true, ageMs, reason: 'no update' };
  if (feedAge !== null && feedAge > staleAfterMs) return { stale: true, ageMs, reason: 'no data from the venue' };
  return { stale: false, ageMs, reason: null };
}
