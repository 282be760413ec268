/**
 * Feed reliability constants, one place (shared/reliability.md §5.2). Every venue client reads these;
 * tests may pass shorter values through options but never change the policy.
 */

/** Reconnect backoff: capped full jitter, sleep = random(0, min(cap, base * 2^attempt)) (reliability §1.1). */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 30_000;
/** The attempt count resets only after this much valid data, so an accept-then-close flap keeps backing off. */
export const BACKOFF_RESET_AFTER_DATA_MS = 30_000;

/** Deribit 10028 too_many_requests terminates the session; wait for credits to refill: floor + jitter. */
export const RATE_LIMIT_FLOOR_MS = 10_000;
export const RATE_LIMIT_JITTER_MS = 5_000;

/** Deribit `public/set_heartbeat` interval (s). Deribit advises 30-60 s; the minimum it accepts is 10. */
export const DERIBIT_HEARTBEAT_SEC = 30;
/** The socket is dead when nothing (heartbeats included) arrived for 2 x interval + this slack. */
export const HEARTBEAT_SLACK_MS = 5_000;
export function livenessTimeoutMs(heartbeatSec: number): number {
  return 2 * heartbeatSec * 1_000 + HEARTBEAT_SLACK_MS;
}

/** A venue with no data message (heartbeats excluded) for this long is stale (tardis default; src/shared/policy.ts). */
export { DATA_STALE_MS } from '../shared/policy.ts';

/** Deribit public/subscribe: ~3.3 calls/s sustained, burst 10. We stay at <= 3 calls/s. */
export const SUBSCRIBE_CALLS_PER_SEC = 3;
export const SUBSCRIBE_MIN_SPACING_MS = Math.ceil(1_000 / SUBSCRIBE_CALLS_PER_SEC);
/** Channels per subscribe call (no documented limit; the recorded session sent 30). */
export const SUBSCRIBE_CHANNELS_PER_CALL = 100;

/** Frame size caps, checked before JSON.parse (a 10 MB frame costs ~200 ms to parse). */
export const MAX_FRAME_BYTES_LIVE = 1 * 1024 * 1024;
export const MAX_FRAME_BYTES_LIST = 16 * 1024 * 1024;

/** Dial timeout: a socket that has not opened within this is abandoned. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Deribit refresh cadence: instrument list every 10 min, book summary (OI) every 30 s. */
export const DERIBIT_INSTRUMENTS_REFRESH_MS = 10 * 60_000;
export const DERIBIT_SUMMARY_REFRESH_MS = 30_000;

/** Sanity bounds for venue numbers (drop beyond these, never clamp). IV: the engine's bound (src/shared/policy.ts). */
export { MAX_IV as MAX_IV_DECIMAL } from '../shared/policy.ts';
export const MAX_BOOK_LEVELS_PER_SIDE = 5_000;

/**
 * Open but no data (heartbeats excluded) for this long: reconnect. Well above DATA_STALE_MS (the
 * banner) because markprice.options alone ticks every second; a minute of silence is a dead stream.
 */
export const DATA_SILENCE_RECONNECT_MS = 60_000;
/** Re-pick each expiry's forward ticker when spot moved this much since the last pick. */
export const FORWARD_REPICK_MOVE = 0.02;
/**
 * Venue time (src/feeds/venue-time.ts): a frame stamped more than this ahead of the newest accepted
 * venue time (or more than twice the venue's pace on the connection allows) is a jump. 60 s is far
 * above the 100 ms-1 s spacing of the channels at 1x.
 */
export const VENUE_TIME_MAX_AHEAD_MS = 60_000;
/**
 * ... followed only when this many later frames, each stamped later than the one before, confirm it
 * with no ordinary frame between. Counted in frames, not local time, so it holds at any replay speed.
 */
export const VENUE_JUMP_CONFIRM_FRAMES = 2;
/** The venue's pace (venue time per local time) is trusted once measured over this much local time ... */
export const VENUE_PACE_MIN_SPAN_MS = 1_000;
/** ... and weighs roughly the last this-much local time of ordinary steps. */
export const VENUE_PACE_WINDOW_MS = 30_000;
