/**
 * Venue-neutral feed reliability constants (shared/reliability.md §5.2). Every venue client reads
 * these; each venue's own numbers live in its folder (e.g. deribit/limits.ts). Tests may pass shorter
 * values through options but never change the policy.
 */

/** Reconnect backoff: capped full jitter, sleep = random(0, min(cap, base * 2^attempt)) (reliability §1.1). */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 30_000;
/** The attempt count resets only after this much valid data, so an accept-then-close flap keeps backing off. */
export const BACKOFF_RESET_AFTER_DATA_MS = 30_000;

/** A venue with no data message (heartbeats excluded) for this long is stale (tardis default; src/shared/policy.ts). */
export { DATA_STALE_MS } from '../shared/policy.ts';

/** Frame size caps, checked before JSON.parse (a 10 MB frame costs ~200 ms to parse). */
export const MAX_FRAME_BYTES_LIVE = 1 * 1024 * 1024;
export const MAX_FRAME_BYTES_LIST = 16 * 1024 * 1024;

/** Dial timeout: a socket that has not opened within this is abandoned. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Sanity bounds for venue numbers (drop beyond these, never clamp). IV: the engine's bound (src/shared/policy.ts). */
export { MAX_IV as MAX_IV_DECIMAL } from '../shared/policy.ts';
export const MAX_BOOK_LEVELS_PER_SIDE = 5_000;

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
