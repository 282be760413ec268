/**
 * The replay clock is the venues': how far the venues' clock was from the recorder's, read from the
 * stamps every venue's recorded inbound frames carry (each venue's `stampOf`: Deribit replies' `usOut`
 * and notifications' `timestamp`, OKX `data[0].ts`, Bybit `ts`, Binance `E`) against their recorded
 * receive times.
 */
import type { RecordedFrame } from './recording.ts';
import type { VenueId } from '../../src/shared/venues.ts';

/** The venue time (ms) a recorded inbound frame of `venue` carries, or null. */
export type StampOf = (venue: VenueId, frame: Record<string, unknown>) => number | null;

/** A value that can be a venue time in ms (a number or digit string after 1973), else null. */
export function venueTime(x: unknown): number | null {
  const n = typeof x === 'number' || typeof x === 'string' ? Number(x) : NaN;
  return Number.isFinite(n) && n > 1e11 ? n : null;
}

/** The first element of an array of objects, or the object itself (venues put a push's stamp in either). */
export function firstRow(v: unknown): Record<string, unknown> | undefined {
  const x: unknown = Array.isArray(v) ? v[0] : v;
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

/**
 * Venue clock minus recorder clock (ms): the median over the recording's stamped inbound frames (the
 * first 2,000), so a few stale stamps do not matter. Under a second is transit time and the recorded
 * times stay as they are (0); beyond that the recording is of a market on another clock (a simulator
 * started at another date, a re-timed capture), and the replay clock must run on the venues' own time:
 * it answers `get_time`, stamps replies, and decides which instruments have expired.
 */
export function venueClockOffset(frames: readonly RecordedFrame[], stampOf: StampOf): number {
  const d: number[] = [];
  for (const f of frames) {
    if (f.dir !== 'in') continue;
    const venueMs = venueTime(stampOf(f.venue, f.frame));
    if (venueMs !== null) d.push(venueMs - f.ts);
    if (d.length >= 2_000) break;
  }
  if (d.length === 0) return 0;
  d.sort((a, b) => a - b);
  const median = Math.round(d[Math.floor(d.length / 2)]);
  return Math.abs(median) < 1_000 ? 0 : median;
}
