/**
 * Is what the page shows current? One pure judgement from the store's state: result age, the worker's
 * feed health, the page's absence (suspension.ts) and whether the figures are saved ones.
 */
import type { FeedHealth } from '../worker/protocol.ts';
import { DATA_STALE_MS } from '../shared/policy.ts';
import type { GexState } from './store.ts';
import { suspensionInForce, type PageSuspension } from './suspension.ts';

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
