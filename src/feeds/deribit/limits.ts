/**
 * Deribit's numbers (shared/feeds.md §1, shared/reliability.md §5.2), beside its client as every
 * venue keeps its own; the venue-neutral ones (backoff, frame caps, dial timeout, venue time) are in
 * ../limits.ts. Tests may pass shorter values through DeribitFeedOptions but never change the policy.
 */

/** 10028 too_many_requests terminates the session; wait for credits to refill: floor + jitter. */
export const RATE_LIMIT_FLOOR_MS = 10_000;
export const RATE_LIMIT_JITTER_MS = 5_000;

/** `public/set_heartbeat` interval (s). Deribit advises 30-60 s; the minimum it accepts is 10. */
export const DERIBIT_HEARTBEAT_SEC = 30;
/** The socket is dead when nothing (heartbeats included) arrived for 2 x interval + this slack. */
export const HEARTBEAT_SLACK_MS = 5_000;
export function livenessTimeoutMs(heartbeatSec: number): number {
  return 2 * heartbeatSec * 1_000 + HEARTBEAT_SLACK_MS;
}

/**
 * Open but no data (heartbeats excluded) for this long: reconnect. Well above DATA_STALE_MS (the
 * banner) because markprice.options alone ticks every second; a minute of silence is a dead stream.
 */
export const DATA_SILENCE_RECONNECT_MS = 60_000;

/** public/subscribe: ~3.3 calls/s sustained, burst 10. We stay at <= 3 calls/s. */
export const SUBSCRIBE_CALLS_PER_SEC = 3;
export const SUBSCRIBE_MIN_SPACING_MS = Math.ceil(1_000 / SUBSCRIBE_CALLS_PER_SEC);
/** Channels per subscribe call (no documented limit; the recorded session sent 30). */
export const SUBSCRIBE_CHANNELS_PER_CALL = 100;

/** Unanswered requests kept per connection, at most (a server that never answers must not grow it). */
export const MAX_PENDING_REQUESTS = 256;

/** Refresh cadence: instrument list every 10 min, book summary (OI) every 30 s. */
export const DERIBIT_INSTRUMENTS_REFRESH_MS = 10 * 60_000;
export const DERIBIT_SUMMARY_REFRESH_MS = 30_000;

/** Re-pick each expiry's forward ticker when spot moved this much since the last pick. */
export const FORWARD_REPICK_MOVE = 0.02;

/**
 * Trade history pages (`public/get_last_trades_by_currency_and_time`): at most 1,000 trades a request
 * (Deribit's documented maximum), requests at least 200 ms apart. Each costs 500 credits of a pool
 * refilled at 10,000/s (about 20 requests/s sustained): five a second is a quarter of that, leaving
 * the live session's own requests all the room they need. A page not answered within 30 s is failed
 * (the caller retries).
 */
export const TRADE_PAGE_COUNT = 1_000;
export const TRADE_PAGE_MIN_SPACING_MS = 200;
export const TRADE_PAGE_TIMEOUT_MS = 30_000;
