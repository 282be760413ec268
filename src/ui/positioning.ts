/**
 * The flow model's positioning and its history fill in words (design: "Dealer positions from the trade
 * tape"): pure, so the panel and the tests read the same sentences.
 */
import { venueLabel } from '../shared/venues.ts';
import type { TapeProgress, TapeWindow } from '../worker/protocol.ts';

const MIN_MS = 60_000;
const HOUR_MS = 60 * MIN_MS;
const DAY_MS = 24 * HOUR_MS;

/** A span of time the way a trader says it: "7 d", "5 d 3 h", "3 h 20 min", "12 min", "40 s". */
export function fmtSpan(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < MIN_MS) return `${Math.round(ms / 1000)} s`;
  if (ms < HOUR_MS) return `${Math.round(ms / MIN_MS)} min`;
  if (ms < DAY_MS) {
    const h = Math.floor(ms / HOUR_MS);
    const m = Math.round((ms - h * HOUR_MS) / MIN_MS);
    return m === 0 || h >= 10 ? `${h} h` : `${h} h ${m} min`;
  }
  const d = Math.floor(ms / DAY_MS);
  const h = Math.round((ms - d * DAY_MS) / HOUR_MS);
  return h === 0 ? `${d} d` : h === 24 ? `${d + 1} d` : `${d} d ${h} h`;
}

/** Within a minute of the window's start counts as full (the window's start moves with venue time). */
const FULL_WITHIN_MS = MIN_MS;

export interface WindowWords {
  /** "7 d" */
  asked: string;
  /** Every venue's tape reaches back to W0. */
  full: boolean;
  /** Per venue: "Deribit full" / "OKX last 2 h" / "Bybit nothing yet". */
  venues: string[];
}

/** What the figures' window is and what of it each venue's tape covers, at valuation time `nowMs`. */
export function windowWords(tape: TapeWindow, nowMs: number): WindowWords {
  const venues = tape.venues.map((v) => {
    const name = venueLabel(v.venue);
    if (v.coveredFromMs === null) return `${name}: no trades held up to now yet`;
    if (v.coveredFromMs - tape.windowStartMs <= FULL_WITHIN_MS) return `${name} full`;
    return `${name} last ${fmtSpan(nowMs - v.coveredFromMs)}`;
  });
  const full = tape.venues.length > 0 && tape.venues.every((v) => v.coveredFromMs !== null && v.coveredFromMs - tape.windowStartMs <= FULL_WITHIN_MS);
  return { asked: fmtSpan(nowMs - tape.windowStartMs), full, venues };
}

/** The fill is under way (the progress bar shows). */
export const isFilling = (p: TapeProgress) => p.history === 'loading' || p.history === 'filling' || p.history === 'retrying';

/**
 * One venue's history fill in a line: "Deribit: 3.2 of 7 days held · 48,210 trades · about 4 min
 * left", with the failure being retried, or what a recent-only venue reaches.
 * @param windowDays the window asked
 * @param nowMs the worker clock's now (retry times are on it)
 */
export function fillWords(p: TapeProgress, windowDays: number, nowMs: number): string {
  const name = venueLabel(p.venue);
  const trades = `${p.trades.toLocaleString('en-US')} trade${p.trades === 1 ? '' : 's'}`;
  switch (p.history) {
    case 'none':
      return `${name}: no trade history; live trades only (${trades})`;
    case 'loading':
      return `${name}: reading the stored tape…`;
    case 'waiting':
      return `${name}: history waits for the connection (${trades})`;
    case 'cancelled':
      return `${name}: history stopped at ${fmtSpan(p.coveredMs)} (${trades})`;
    case 'done':
      return p.reach === 'recent' ? `${name}: ${p.note ?? 'recent trades only'} (${trades})` : `${name}: window held (${trades})`;
    case 'filling':
    case 'retrying': {
      const parts = [`${name}: ${(p.coveredMs / DAY_MS).toFixed(1)} of ${windowDays} days held`, trades];
      if (p.history === 'retrying') {
        const wait = p.retryAtMs === null ? null : Math.max(0, p.retryAtMs - nowMs);
        parts.push(`retrying${wait === null ? '' : ` in ${fmtSpan(wait)}`}: ${p.error ?? 'failed'}`);
      } else if (p.etaMs !== null) parts.push(`about ${fmtSpan(p.etaMs)} left`);
      return parts.join(' · ');
    }
    default: {
      const never: never = p.history;
      return `${name}: ${String(never)}`;
    }
  }
}
