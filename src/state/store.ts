/**
 * The one client-side store (zustand vanilla, no React: react.ts binds it), fed by the worker client.
 * Slices: view (mirrors the URL), results (latest ResultMessage only: results, not ticks), feed health,
 * notices (bounded) and the session history (history.ts). Whether the figures are current is judged
 * apart (staleness.ts), with the page's absences tracked here (suspension.ts).
 * React reads it through narrow selectors; values that change faster than a few hertz (ages, latency)
 * should be read with `store.subscribe` into refs rather than re-rendering.
 */
import { createStore, type StoreApi } from 'zustand';
import type { FeedHealth, FromWorker, ResultMessage } from '../worker/protocol.ts';
import { decodeSavedFigures, encodeSavedFigures } from './saved-figures.ts';
import { defaultView, sameSelection, toSelection, type ViewState } from './url.ts';
import {
  HISTORY_MAX_MS, HISTORY_STEP_MS, appendPoint, historyKey, loadHistory, readStorage, saveHistory, savedFiguresKey, writeStorage,
  type HistoryPoint, type KeyValueStorage,
} from './history.ts';
import { CATCH_UP_MAX_MS, SUSPEND_GRACE_MS, VenueClockSampler, caughtUp, wireLifecycle, type LifecycleSource, type PageSuspension } from './suspension.ts';

export type { HistoryPoint, KeyValueStorage, LifecycleSource, PageSuspension };
export { HISTORY_MAX_MS, HISTORY_STEP_MS, historyKey, loadHistory, savedFiguresKey };

export type NoticeLevel = 'info' | 'warn' | 'error';
export interface Notice {
  id: number;
  level: NoticeLevel;
  message: string;
  /** How many times the same message arrived (repeats are folded, not listed). */
  count: number;
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

/**
 * With no result this long after a view starts (page load, currency switch), its saved figures are
 * shown (the bridge calls showSavedFigures): a normal start has live figures well before, an offline
 * one shows the last ones, marked, instead of an empty page.
 */
export const SAVED_FIGURES_AFTER_MS = 3_000;

const sameVenues = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
/** A result computed for the series on screen (currency, source, venues): anything else is in flight from before a switch. */
const ofSeries = (msg: ResultMessage, v: ViewState) =>
  msg.selection.currency === v.currency && msg.selection.source === v.source && sameVenues(msg.selection.venues, v.venues);

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
  /** Recent results' venue clock while the page was in the foreground. */
  const clock = new VenueClockSampler();
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
      const g = msg.gex;
      if (!Number.isFinite(g.nowMs) || !Number.isFinite(g.spot) || g.spot <= 0) return;
      const zeroGamma = g.zeroGammaLevel !== null && Number.isFinite(g.zeroGammaLevel) ? g.zeroGammaLevel : null;
      const history = get().history;
      const next = appendPoint(history, { t: g.nowMs, spot: g.spot, zeroGamma }, stepMs, maxMs, maxPoints);
      if (next === history) return;
      dirtyHistory = true;
      set({ history: next });
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

    const applyResult = (msg: ResultMessage) => {
      // In flight from before a switch of currency, source or venues: not the series on screen.
      if (!ofSeries(msg, get().view)) return;
      let sus = get().suspended;
      if (sus && sus.resumedAtMs !== null && !caughtUp(sus, msg) && now() - sus.resumedAtMs > CATCH_UP_MAX_MS) {
        // The reference was wrong (speed changed, venue clock jumped) or the figures really lag: stop
        // waiting, say so, and let feed health and result age judge from here.
        addNotice('warn', `figures did not catch up with the venue clock within ${CATCH_UP_MAX_MS / 1000} s of the page's return`);
        sus = null;
        set({ suspended: null });
      }
      if (sus === null) clock.sample(msg);
      const back = sus !== null && caughtUp(sus, msg);
      const fresh = { result: msg, resultReceivedAtMs: now(), resultSaved: false };
      set(back ? { ...fresh, suspended: null } : fresh);
      dirtyFigures = true;
      appendHistory(msg);
      persist(false);
    };

    const actions: GexActions = {
      setView(patch) {
        const prev = get().view;
        const view: ViewState = { ...prev, ...patch };
        const seriesChanged = historyKey(view) !== historyKey(prev);
        if (seriesChanged) {
          persist(true);
          dirtyFigures = false;
          clock.reset();
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
          case 'result':
            applyResult(msg);
            return;
          case 'health':
            set({ feeds: msg.feeds, healthAtMs: msg.atMs, healthReceivedAtMs: now() });
            return;
          case 'notice':
            addNotice(msg.level, msg.message);
            return;
          case 'hello':
          case 'response':
          case 'pong':
          case 'expiryFallback':
            return; // the worker client and the bridge act on these
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
        set({ suspended: { sinceMs: t, resumedAtMs: null, venueClock: clock.venueClock() } });
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

  if (lifecycle) wireLifecycle(lifecycle, store.getState().actions);
  return store;
}
