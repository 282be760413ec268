/**
 * Recompute pacing and result backpressure for the engine host.
 *
 * - A tick only marks the chain dirty; at most one recompute is ever pending (Perspective's PollThread).
 * - Recomputes run at most every `minIntervalMs` (4 Hz by default), and at once on a selection change.
 * - Results carry a `seq`; the main thread acks what it painted. While it is more than one result
 *   behind, only the newest result is kept (Grafana Live's "replace" mode), so a slow or hidden page
 *   never makes the worker queue results.
 */
import type { Clock } from '../feeds/adapter.ts';

export const DEFAULT_MIN_INTERVAL_MS = 250;

export interface RecomputeSchedulerOptions {
  clock: Clock;
  /** The recompute itself; the scheduler catches nothing, the caller's `run` must not throw. */
  run: () => void;
  minIntervalMs?: number;
}

export class RecomputeScheduler {
  private readonly clock: Clock;
  private readonly run: () => void;
  private readonly minIntervalMs: number;
  private timer: unknown = null;
  private lastRunAtMs = Number.NEGATIVE_INFINITY;
  private disposed = false;
  /** Recomputes performed (for tests and health). */
  runs = 0;

  constructor(options: RecomputeSchedulerOptions) {
    this.clock = options.clock;
    this.run = options.run;
    this.minIntervalMs = options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
  }

  /** True while a recompute is scheduled and not yet run. */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** Something changed. Cheap: at most one timer exists however many ticks arrive. */
  markDirty(): void {
    if (this.disposed || this.timer !== null) return;
    const wait = Math.max(0, this.lastRunAtMs + this.minIntervalMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.fire();
    }, wait);
  }

  /** Recompute now (selection change): the user is waiting, so the rate ceiling does not apply. */
  runNow(): void {
    if (this.disposed) return;
    this.cancel();
    this.fire();
  }

  dispose(): void {
    this.cancel();
    this.disposed = true;
  }

  private cancel(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private fire(): void {
    if (this.disposed) return;
    this.lastRunAtMs = this.clock.now();
    this.runs++;
    this.run();
  }
}

/**
 * Holds results back while the main thread is late. `offer` either posts at once or keeps the message
 * as the single held one (replacing an older held one); `ack` releases the held one when the main thread
 * has caught up.
 */
export class ResultGate<T extends { seq: number }> {
  /** Seqs posted and not yet acked, ascending. */
  private readonly inFlight: number[] = [];
  private held: T | null = null;
  /** Results replaced before they were ever posted (the main thread was behind). */
  replaced = 0;

  /**
   * @param send delivers a message to the main thread.
   * @param maxInFlight unacked results allowed: 2 = the main thread may be one result behind.
   */
  constructor(
    private readonly send: (msg: T) => void,
    private readonly maxInFlight = 2,
  ) {}

  offer(msg: T): void {
    if (this.inFlight.length < this.maxInFlight) {
      this.post(msg);
      return;
    }
    if (this.held) this.replaced++;
    this.held = msg;
  }

  /** The main thread painted `seq` (and so everything before it). */
  ack(seq: number): void {
    while (this.inFlight.length > 0 && this.inFlight[0] <= seq) this.inFlight.shift();
    if (this.held && this.inFlight.length < this.maxInFlight) {
      const msg = this.held;
      this.held = null;
      this.post(msg);
    }
  }

  /** A new main thread (hello): nothing it has not seen can be awaited. */
  reset(): void {
    this.inFlight.length = 0;
    this.held = null;
  }

  get unacked(): number {
    return this.inFlight.length;
  }

  get heldSeq(): number | null {
    return this.held ? this.held.seq : null;
  }

  private post(msg: T): void {
    this.inFlight.push(msg.seq);
    this.send(msg);
  }
}
