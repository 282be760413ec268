/** The simulated venue clock: start + (wall - anchor) * speed, with pause/resume and forward jumps. */
export class SimClock {
  private baseSim: number;
  private baseWall: number;
  private pausedAt: number | undefined;

  constructor(
    startMs: number,
    readonly speed: number,
    private readonly wallNow: () => number = Date.now,
  ) {
    this.baseSim = startMs;
    this.baseWall = wallNow();
  }

  now(): number {
    if (this.pausedAt !== undefined) return this.pausedAt;
    return this.baseSim + (this.wallNow() - this.baseWall) * this.speed;
  }

  get paused(): boolean {
    return this.pausedAt !== undefined;
  }

  pause(): void {
    if (this.pausedAt === undefined) this.pausedAt = this.now();
  }

  resume(): void {
    if (this.pausedAt === undefined) return;
    this.baseSim = this.pausedAt;
    this.baseWall = this.wallNow();
    this.pausedAt = undefined;
  }

  /** Restart at startMs from now (replay starts playing when the first client connects). */
  reset(startMs: number): void {
    this.baseSim = startMs;
    this.baseWall = this.wallNow();
    if (this.pausedAt !== undefined) this.pausedAt = startMs;
  }

  /** Move the clock forward to t (never backward: venue time is monotonic). */
  jumpTo(t: number): void {
    const now = this.now();
    if (t <= now) return;
    if (this.pausedAt !== undefined) this.pausedAt = t;
    else {
      this.baseSim = t;
      this.baseWall = this.wallNow();
    }
  }
}
