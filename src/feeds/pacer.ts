/**
 * Spacing for a feed's history requests (TradeHistory.fetchPage): each request waits its turn, at
 * least `spacingMs` after the one before, on the feed's clock, so a caller that asks for page after
 * page (or retries at once) stays inside the venue's limit and the local relay's token bucket without
 * knowing either. An abort while waiting rejects with the signal's reason.
 */
import type { Clock } from './adapter.ts';

export class RequestPacer {
  private nextAtMs = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly spacingMs: number,
  ) {}

  /** Resolves when the next request may go out. */
  async turn(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.clock.now();
    const at = Math.max(now, this.nextAtMs);
    this.nextAtMs = at + this.spacingMs;
    if (at > now) await wait(this.clock, at - now, signal);
  }
}

/** `ms` on `clock`; rejects with the signal's reason when it aborts first. */
export function wait(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `p`, or a rejection with `message` when it has not settled within `ms` on `clock`, or with the
 * signal's reason when it aborts first. The timer is cleared as soon as one of them wins.
 */
export function deadline<T>(p: Promise<T>, clock: Clock, ms: number, message: string, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const done = () => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      done();
      reject(new Error(message));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}
