/**
 * Capped full-jitter reconnect backoff (shared/reliability.md §1.1, AWS "Exponential Backoff And
 * Jitter"): sleep = random(0, min(cap, base * 2^attempt)). Jitter spreads many screens reconnecting
 * through one relay after an outage; the cap keeps a days-long display retrying at a sane pace, and it
 * never gives up. The attempt count resets only after a connection has delivered valid data for
 * `resetAfterMs`, so a server that accepts and then closes at once keeps backing off.
 */
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, BACKOFF_RESET_AFTER_DATA_MS } from './limits.ts';

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  resetAfterMs?: number;
  /** Uniform [0, 1). Injected so tests are deterministic. */
  random: () => number;
}

/** The upper bound of the n-th delay (n from 0): min(cap, base * 2^n). */
export function backoffCeilingMs(attempt: number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  // 2^n overflows to Infinity for large n; min() keeps it at the cap.
  return Math.min(capMs, baseMs * Math.pow(2, Math.max(0, attempt)));
}

export class Backoff {
  private attempt = 0;
  private dataSinceMs: number | null = null;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly resetAfterMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions) {
    this.baseMs = options.baseMs ?? BACKOFF_BASE_MS;
    this.capMs = options.capMs ?? BACKOFF_CAP_MS;
    this.resetAfterMs = options.resetAfterMs ?? BACKOFF_RESET_AFTER_DATA_MS;
    this.random = options.random;
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt; advances the attempt count. */
  nextDelayMs(): number {
    const ceiling = backoffCeilingMs(this.attempt, this.baseMs, this.capMs);
    this.attempt++;
    this.dataSinceMs = null;
    let r = this.random();
    // A broken random source must not produce NaN or negative delays.
    if (!Number.isFinite(r) || r < 0) r = 0;
    if (r >= 1) r = 0.999999;
    return Math.floor(r * ceiling);
  }

  /** A valid data message arrived at `nowMs` on the current connection. */
  noteValidData(nowMs: number): void {
    if (this.dataSinceMs === null) {
      this.dataSinceMs = nowMs;
      return;
    }
    if (this.attempt > 0 && nowMs - this.dataSinceMs >= this.resetAfterMs) this.attempt = 0;
  }

  /** The connection ended: the stable-data window starts again on the next connection. */
  noteDisconnected(): void {
    this.dataSinceMs = null;
  }

  reset(): void {
    this.attempt = 0;
    this.dataSinceMs = null;
  }
}
