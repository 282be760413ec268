/**
 * The one client-side store (zustand vanilla, no React: react.ts binds it), fed by the worker client.
 * Slices: view (mirrors the URL), results (latest ResultMessage only: results, not ticks), feed health,
 * notices (bounded), the series' history (spot and zero gamma every 10 s, history.ts; GEX each minute,
 * minutes.ts; both kept in IndexedDB, history-db.ts), a past minute shown instead of the present (the
 * scrubber), and the alert log (alerts.ts). Whether the figures are current is judged apart
 * (staleness.ts), with the page's absences tracked here (suspension.ts).
 * React reads it through narrow selectors; values that change faster than a few hertz (ages, latency)
 * should be read with `store.subscribe` into refs rather than re-rendering.
 */
import { createStore, type StoreApi } from 'zustand';
import type { FeedHealth, FromWorker, ResultMessage, TapeProgress } from '../worker/protocol.ts';
import { decodeSavedFigures, encodeSavedFigures } from './saved-figures.ts';
import { defaultView, sameSelection, toSelection, type ViewState } from './url.ts';
import {
  HISTORY_MAX_MS, HISTORY_STEP_MS, appendPoint, legacyHistoryKey, loadHistory, mergePoints, readStorage, savedFiguresKey, writeStorage,
  type HistoryPoint, type KeyValueStorage,
} from './history.ts';
import { CATCH_UP_MAX_MS, SUSPEND_GRACE_MS, VenueClockSampler, caughtUp, wireLifecycle, type LifecycleSource, type PageSuspension } from './suspension.ts';
import { MINUTES_MAX_MS, appendSample, mergeSamples, minuteOf, pastGex, sampleAt, sampleOf, seriesKey, type MinuteSample } from './minutes.ts';
import { MEMORY_ONLY, openHistoryStorage, type HistoryStorage } from './history-db.ts';
import { ALERT_LOG_MAX, AlertMachine, alertInput, type AlertEntry } from './alerts.ts';
import { staleness } from './staleness.ts';

export type { AlertEntry, HistoryPoint, KeyValueStorage, LifecycleSource, MinuteSample, PageSuspension };
export { HISTORY_MAX_MS, HISTORY_STEP_MS, legacyHistoryKey, loadHistory, savedFiguresKey };

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
  /** The trade tapes of the view's venues and their history fills (the flow model's progress bar). */
  tape: TapeProgress[];
  /** Worker time of the latest health message, and main-thread receipt time. */
  healthAtMs: number | null;
  healthReceivedAtMs: number | null;
  notices: Notice[];
  /** Spot and zero gamma of the series on screen, every 10 s of venue time, 6 h. */
  history: HistoryPoint[];
  /** GEX over time of the series on screen: a sample a minute of venue time, 24 h. */
  minutes: MinuteSample[];
  /** Whether the history survives a reload (IndexedDB); null while the storage opens. */
  historyKept: boolean | null;
  /** A past minute shown in the views instead of the present (the scrubber); null for live. */
  past: PastView | null;
  /** The latest alerts, newest first. */
  alertLog: AlertEntry[];
  workerRestarts: number;
  /** Non-null from the page going to the background until current figures are back. */
  suspended: PageSuspension | null;
  actions: GexActions;
}

/** A past minute as the views draw it: the live result's frame with that minute's figures. */
export interface PastView {
  /** The minute (venue time, its start). */
  t: number;
  result: ResultMessage;
}

export interface GexActions {
  setView(patch: Partial<ViewState>): void;
  /** Shows the minute `t` of the series' history in the views (null: back to live). */
  showPast(t: number | null): void;
  applyMessage(msg: FromWorker): void;
  addNotice(level: NoticeLevel, message: string): void;
  dismissNotice(id: number): void;
  setWorkerRestarts(n: number): void;
  /** Writes the history and the last figures now (call on pagehide); resolves when the history is written. */
  flushHistory(): Promise<void>;
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
  /** Where the history is kept: default the browser's IndexedDB; null keeps it in memory (tests). */
  historyStorage?: HistoryStorage | Promise<{ storage: HistoryStorage; problem: string | null }> | null;
  /** Minimum wall time between history writes (each a transaction). */
  historyWriteEveryMs?: number;
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
/** Where the figures on screen come from: a switch of any of these clears them (history.ts). */
const figuresKey = (v: ViewState) => legacyHistoryKey(v);

/** The past minute `t` of `minutes` as the views draw it, or null when the history holds no such minute. */
function pastView(minutes: readonly MinuteSample[], t: number, live: ResultMessage | null, view: ViewState): PastView | null {
  const sample = sampleAt(minutes, t);
  if (!sample) return null;
  const frame: ResultMessage = live ?? {
    type: 'result', seq: -1, selection: toSelection(view), computedAtMs: NaN, newestFrameAtMs: null, gex: null as never, perps: [],
    includedVenues: [], excludedVenues: [], spotSource: '', expiries: [], expiredSelected: [], tape: null,
  };
  return { t, result: { ...frame, perps: [], gex: pastGex(sample, live?.gex ?? null) } };
}

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
  /** A live result has arrived since the figures were last saved. */
  let dirtyFigures = false;
  const historyWriteEveryMs = opts.historyWriteEveryMs ?? 1_000;
  const opening = opts.historyStorage === undefined
    ? openHistoryStorage(typeof indexedDB === 'undefined' ? null : indexedDB)
    : opts.historyStorage === null ? { storage: MEMORY_ONLY, problem: null } : opts.historyStorage;
  let historyStorage: HistoryStorage | null = null;
  /** The series whose history is on screen (seriesKey), and what of it is not written yet. */
  let series = seriesKey(initialView);
  let pending: { series: string; minutes: MinuteSample[]; points: HistoryPoint[] } = { series, minutes: [], points: [] };
  let lastHistoryWriteAt = -Infinity;
  let writing: Promise<void> | null = null;
  /** Bumped on every series switch: a load that resolves for an earlier series is dropped. */
  let loadToken = 0;
  let alertId = 0;
  let alerts = new AlertMachine(initialView.alerts, initialView.currency, () => ++alertId);

  const store = createStore<GexState>()((set, get) => {
    const persist = (force: boolean) => {
      if (!dirtyFigures) return;
      const t = now();
      if (!force && t - lastPersistAt < persistEveryMs) return;
      lastPersistAt = t;
      const { view, result, resultReceivedAtMs, resultSaved } = get();
      if (result && !resultSaved && resultReceivedAtMs !== null) {
        writeStorage(storage, savedFiguresKey(view), () => encodeSavedFigures(result, resultReceivedAtMs));
      }
      dirtyFigures = false;
    };

    /** Writes what is pending (one transaction), at most every historyWriteEveryMs unless forced; one write at a time. */
    const writeHistory = (force: boolean): Promise<void> => {
      if (writing) return force ? writing.then(() => writeHistory(true)) : writing;
      if (!historyStorage || (pending.minutes.length === 0 && pending.points.length === 0)) return Promise.resolve();
      const t = now();
      if (!force && t - lastHistoryWriteAt < historyWriteEveryMs) return Promise.resolve();
      lastHistoryWriteAt = t;
      const batch = pending;
      pending = { series, minutes: [], points: [] };
      const newestMinute = batch.minutes.length > 0 ? batch.minutes[batch.minutes.length - 1].t : -Infinity;
      const newestPoint = batch.points.length > 0 ? batch.points[batch.points.length - 1].t : -Infinity;
      writing = historyStorage
        .write(batch.series, batch.minutes, batch.points, newestMinute - MINUTES_MAX_MS, newestPoint - maxMs)
        .then((out) => {
          if (out.droppedHours > 0) addNotice('warn', `history storage is full: the oldest ${out.droppedHours} hour${out.droppedHours > 1 ? 's' : ''} of history dropped to make room`);
          if (out.failed) addNotice('warn', `history could not be saved (${out.failed}): it will not survive a reload`);
        }, (e: unknown) => addNotice('warn', `history could not be saved (${String(e)})`))
        .finally(() => {
          writing = null;
        });
      return writing;
    };

    /** Loads the series' stored history and merges it with what was taken since (the page may have run meanwhile). */
    const loadSeries = (key: string, view: ViewState) => {
      const token = ++loadToken;
      void Promise.resolve(opening).then(async (opened) => {
        const first = historyStorage === null;
        historyStorage = 'storage' in opened ? opened.storage : opened;
        if (first) {
          set({ historyKept: historyStorage.persistent });
          const problem = 'problem' in opened ? opened.problem : null;
          if (problem) addNotice('info', `history kept in memory only (${problem}): it will not survive a reload`);
        }
        const loaded = await historyStorage.load(key, -Infinity, -Infinity).catch((e: unknown) => {
          addNotice('warn', `stored history could not be read (${String(e)})`);
          return { minutes: [], points: [], skipped: 0 };
        });
        if (token !== loadToken) return;
        if (loaded.skipped > 0) addNotice('warn', `${loaded.skipped} stored history record${loaded.skipped > 1 ? 's were' : ' was'} unreadable and left out`);
        let points = loaded.points;
        if (points.length === 0) {
          // Points an earlier version kept in Web Storage: moved here once.
          const legacy = loadHistory(storage, legacyHistoryKey(view), maxPoints);
          if (legacy.length > 0) {
            points = legacy;
            pending.points.unshift(...legacy);
            try {
              storage?.removeItem?.(legacyHistoryKey(view));
            } catch {
              // read again next time: the merge keeps one point per step
            }
          }
        }
        const s = get();
        set({ history: mergePoints(points, s.history, stepMs, maxMs, maxPoints), minutes: mergeSamples(loaded.minutes, s.minutes) });
        void writeHistory(false);
      });
    };

    const appendHistory = (msg: ResultMessage) => {
      const g = msg.gex;
      if (!Number.isFinite(g.nowMs) || !Number.isFinite(g.spot) || g.spot <= 0) return;
      // Only the figures of the series on screen (a model or expiry switch may have results in flight).
      if (seriesKey(msg.selection) !== series) return;
      const zeroGamma = g.zeroGammaLevel !== null && Number.isFinite(g.zeroGammaLevel) ? g.zeroGammaLevel : null;
      const { history, minutes } = get();
      const next = appendPoint(history, { t: g.nowMs, spot: g.spot, zeroGamma }, stepMs, maxMs, maxPoints);
      const last = minutes[minutes.length - 1];
      const sample = last && minuteOf(g.nowMs) === last.t ? null : sampleOf(series, msg, last);
      const nextMinutes = sample ? appendSample(minutes, sample) : minutes;
      if (next !== history) pending.points.push(next[next.length - 1]);
      if (nextMinutes !== minutes) pending.minutes.push(sample!);
      if (next !== history || nextMinutes !== minutes) set({ history: next, minutes: nextMinutes });
      void writeHistory(false);
    };

    const feedAlerts = (msg: ResultMessage) => {
      if (seriesKey(msg.selection) !== series) return;
      const stale = staleness(get(), now()).stale;
      const fired = alerts.feed(alertInput(msg, stale));
      if (fired.length > 0) set({ alertLog: [...fired.reverse(), ...get().alertLog].slice(0, ALERT_LOG_MAX) });
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
      feedAlerts(msg);
      persist(false);
    };

    const actions: GexActions = {
      setView(patch) {
        const prev = get().view;
        const view: ViewState = { ...prev, ...patch };
        if (view.alerts !== prev.alerts) alerts.setRules(view.alerts);
        const nextSeries = seriesKey(view);
        if (nextSeries !== series) {
          // Another series' history (and alert states): what is pending of this one is written first.
          void writeHistory(true);
          series = nextSeries;
          pending = { series, minutes: [], points: [] };
          alerts = new AlertMachine(view.alerts, view.currency, () => ++alertId);
          set({ history: [], minutes: [], past: null });
          loadSeries(series, view);
        }
        const seriesChanged = figuresKey(view) !== figuresKey(prev);
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
            tape: [],
            resultReceivedAtMs: null,
            resultSaved: false,
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
          case 'tape':
            set({ tape: msg.venues });
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
      showPast(t) {
        const s = get();
        set({ past: t === null ? null : pastView(s.minutes, t, s.result, s.view) });
      },
      flushHistory() {
        persist(true);
        return writeHistory(true);
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

    loadSeries(series, initialView);
    return {
      view: initialView,
      result: null,
      resultReceivedAtMs: null,
      resultSaved: false,
      feeds: [],
      tape: [],
      healthAtMs: null,
      healthReceivedAtMs: null,
      notices: [],
      history: [],
      minutes: [],
      historyKept: null,
      past: null,
      alertLog: [],
      workerRestarts: 0,
      suspended: null,
      actions,
    };
  });

  if (lifecycle) wireLifecycle(lifecycle, store.getState().actions);
  return store;
}
