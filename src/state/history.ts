/**
 * The session history (spot and zero gamma every 10 s of venue time, 6 h) and the last figures of each
 * series' view, so a reload or a restarted wall display shows where the market has been. Pure helpers:
 * the store decides when to append and when to write; the points are kept in IndexedDB with the
 * minutes of GEX over time (history-db.ts), the last figures in Web Storage (saved-figures.ts). Points
 * an earlier version kept in Web Storage are read once (`legacyHistoryKey`) and move over.
 */
import type { ViewState } from './url.ts';

/** One session-history sample; `t` is venue time (the valuation instant), epoch ms. */
export interface HistoryPoint {
  t: number;
  spot: number;
  zeroGamma: number | null;
}

export const HISTORY_STEP_MS = 10_000;
export const HISTORY_MAX_MS = 6 * 3_600_000;
const STORAGE_PREFIX = 'gexdesk.history.v1.';
const FIGURES_PREFIX = 'gexdesk.figures.v1.';

/** Subset of the Web Storage API (injectable for tests). */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'> & Partial<Pick<Storage, 'removeItem'>>;

type Series = Pick<ViewState, 'venues' | 'currency' | 'source'>;
const seriesKey = (view: Series) => `${view.source}.${[...view.venues].sort().join('+')}.${view.currency}`;

/** Where an earlier version kept a series' session history in Web Storage (moved to IndexedDB on first load). */
export function legacyHistoryKey(view: Series): string {
  return STORAGE_PREFIX + seriesKey(view);
}

/** Where the last figures of a series are saved (one entry per source, venues and currency). */
export function savedFiguresKey(view: Series): string {
  return FIGURES_PREFIX + seriesKey(view);
}

export function readStorage(storage: KeyValueStorage | null | undefined, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/** Writes `value()` under `key`; quota or privacy mode: it simply does not survive a reload. */
export function writeStorage(storage: KeyValueStorage | null | undefined, key: string, value: () => string): void {
  if (!storage) return;
  try {
    storage.setItem(key, value());
  } catch {
    // not kept
  }
}

/** Reads history stored by an earlier version; anything malformed is ignored (never thrown). */
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

/**
 * The history with `point` appended: at most one point per `stepMs` of venue time, the last `maxMs`
 * kept (and at most `maxPoints`); venue time going back (a replay restarted, another session) starts
 * a new series. Returns the same array when the point is not taken.
 */
export function appendPoint(history: HistoryPoint[], point: HistoryPoint, stepMs: number, maxMs: number, maxPoints: number): HistoryPoint[] {
  const last = history[history.length - 1];
  let next: HistoryPoint[];
  if (!last || point.t < last.t - stepMs) next = last ? [] : history;
  else if (point.t - last.t < stepMs) return history;
  else next = history;
  const cutoff = point.t - maxMs;
  let start = 0;
  while (start < next.length && next[start].t < cutoff) start++;
  const kept = next.slice(Math.max(start, next.length + 1 - maxPoints));
  kept.push(point);
  return kept;
}

/** Points of two ascending lists (stored, taken since the page started) by time, one per `stepMs`, the last `maxMs`. */
export function mergePoints(a: readonly HistoryPoint[], b: readonly HistoryPoint[], stepMs: number, maxMs: number, maxPoints: number): HistoryPoint[] {
  const all = [...a, ...b].sort((x, y) => x.t - y.t);
  let out: HistoryPoint[] = [];
  for (const p of all) out = appendPoint(out, p, stepMs, maxMs, maxPoints);
  return out;
}
