/**
 * The page was in the background (hidden or frozen) and its figures cannot be trusted as live until a
 * result shows the venue clock has been caught up. A frozen page freezes its worker too; on resume the
 * worker first works through the frames its socket buffered meanwhile, and those results arrive "now"
 * although they are valued at the old venue time, so neither receipt time nor feed data age reveals them
 * (measured: e2e/hidden-tab.spec.ts).
 */
import type { ResultMessage } from '../worker/protocol.ts';

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

/** The venue clock seen in recent results: (worker clock, valuation time) pairs and the rate between them. */
export class VenueClockSampler {
  private samples: { computedAtMs: number; nowMs: number }[] = [];

  reset(): void {
    this.samples = [];
  }

  sample(msg: ResultMessage): void {
    const c = msg.computedAtMs;
    const n = msg.gex.nowMs;
    if (!Number.isFinite(c) || !Number.isFinite(n)) return;
    const last = this.samples[this.samples.length - 1];
    // Venue time going back (replay looped, another session) starts over.
    if (last && (n < last.nowMs || c < last.computedAtMs)) this.samples = [];
    else if (last && c - last.computedAtMs < CLOCK_SAMPLE_EVERY_MS) return;
    this.samples.push({ computedAtMs: c, nowMs: n });
    while (this.samples.length > 2 && c - this.samples[0].computedAtMs > CLOCK_WINDOW_MS) this.samples.shift();
  }

  /** The reference to judge a later result against, or null with too few samples. */
  venueClock(): PageSuspension['venueClock'] {
    if (this.samples.length < 2) return null;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    const span = b.computedAtMs - a.computedAtMs;
    if (span < CLOCK_MIN_SPAN_MS) return null;
    return { nowMs: b.nowMs, computedAtMs: b.computedAtMs, rate: (b.nowMs - a.nowMs) / span };
  }
}

/** Has this result (of the series on screen) caught up with the venue clock since the page came back? */
export function caughtUp(sus: PageSuspension, msg: ResultMessage): boolean {
  if (sus.resumedAtMs === null) return false;
  // Computed before the return: it may come from the backlog of a frozen worker.
  if (!(msg.computedAtMs >= sus.resumedAtMs)) return false;
  const ref = sus.venueClock;
  if (!ref) return msg.computedAtMs - sus.resumedAtMs >= CATCH_UP_SETTLE_MS;
  const expected = ref.nowMs + ref.rate * (msg.computedAtMs - ref.computedAtMs);
  return msg.gex.nowMs >= expected - ref.rate * CATCH_UP_TOLERANCE_MS;
}

/** How long the page was away, if that still makes its figures suspect at `nowMs`; null if not. */
export function suspensionInForce(sus: PageSuspension | null | undefined, nowMs: number): number | null {
  if (!sus) return null;
  const awayMs = (sus.resumedAtMs ?? nowMs) - sus.sinceMs;
  if (awayMs <= SUSPEND_GRACE_MS) return null;
  if (sus.resumedAtMs !== null && nowMs - sus.resumedAtMs > CATCH_UP_MAX_MS) return null;
  return awayMs;
}

/** The document events the store follows (injectable for tests). */
export type LifecycleSource = Pick<Document, 'visibilityState' | 'addEventListener'>;

/**
 * Hidden covers a background tab, a minimised window and (before it) a frozen page; freeze/resume come
 * on their own only where a visible page can be frozen. Wired for the page's lifetime.
 */
export function wireLifecycle(lifecycle: LifecycleSource, actions: { pageSuspended(): void; pageResumed(): void }): void {
  lifecycle.addEventListener('visibilitychange', () => (lifecycle.visibilityState === 'visible' ? actions.pageResumed() : actions.pageSuspended()));
  lifecycle.addEventListener('freeze', () => actions.pageSuspended());
  lifecycle.addEventListener('resume', () => {
    if (lifecycle.visibilityState === 'visible') actions.pageResumed();
  });
}
