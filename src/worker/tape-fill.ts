/**
 * The history fill of one tape (issue 13 part 2): what the window [W0, now] lacks, fetched from the
 * venue's trade history. A venue that keeps any window (Deribit) is paged forward through every gap the
 * tape's coverage leaves (the first start: all of it; after a reload: the tail since the last write),
 * each page from the last trade of the one before (repeated trades at page boundaries are the tape's
 * duplicates); a venue that gives only its latest trades is asked once and covers what it returns. The
 * feed paces the requests inside the venue's limits; a failed page is retried with capped backoff and
 * shown; cancel stops it where it is, and what it fetched stays.
 */
import type { Clock, TradeHistory, TradeHistoryPage } from '../feeds/adapter.ts';
import { Backoff } from '../feeds/backoff.ts';
import type { TapeTrade } from '../chain/model.ts';
import type { Span, Tape } from './tape.ts';

export type FillState = 'filling' | 'retrying' | 'done' | 'cancelled';

export interface FillProgress {
  state: FillState;
  /** Pages answered and trades they added to the tape. */
  pages: number;
  added: number;
  /** Share of the missing time fetched, 0..1. */
  done: number;
  /** Time left at the pace so far (wall ms), null before there is a pace. */
  etaMs: number | null;
  /** The last failure while it is being retried, and when the next try is. */
  error: string | null;
  retryAtMs: number | null;
}

export interface FillOptions {
  history: TradeHistory;
  tape: Tape;
  clock: Clock;
  /** Uniform [0, 1) for the backoff's jitter. */
  random: () => number;
  /** A page's trades the tape took (to be stored), and rows the feed dropped parsing it. */
  onPage(added: TapeTrade[], dropped: Record<string, number>): void;
  /** Progress moved (the caller posts it at a bounded rate). */
  onChange(): void;
  /** Backoff bounds, ms (default 1 s .. 30 s). */
  retryBaseMs?: number;
  retryCapMs?: number;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 200);

export class HistoryFill {
  readonly progress: FillProgress = { state: 'filling', pages: 0, added: 0, done: 0, etaMs: null, error: null, retryAtMs: null };
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private wake: (() => void) | null = null;
  private timer: unknown = null;
  /** Resolves when the fill ends (done or cancelled). */
  readonly finished: Promise<void>;

  /**
   * Starts fetching what the tape lacks of [windowStartMs, endMs] (endMs: venue time now; the live
   * channel covers what comes after).
   */
  constructor(private readonly o: FillOptions, windowStartMs: number, endMs: number) {
    this.backoff = new Backoff({ random: o.random, baseMs: o.retryBaseMs ?? 1_000, capMs: o.retryCapMs ?? 30_000 });
    this.finished = this.run(windowStartMs, endMs).catch((e: unknown) => {
      // Only a bug lands here (the tape or a callback threw): say so and stop, never an unhandled rejection.
      this.progress.error = errorText(e);
      this.progress.state = 'cancelled';
      this.o.onChange();
    });
  }

  cancel(): void {
    if (this.progress.state === 'done' || this.progress.state === 'cancelled') return;
    this.abort.abort();
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    this.progress.state = 'cancelled';
    this.progress.etaMs = null;
    this.progress.retryAtMs = null;
    this.wake?.();
    this.o.onChange();
  }

  private get cancelled(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(windowStartMs: number, endMs: number): Promise<void> {
    const { tape, history } = this.o;
    const gaps: Span[] = history.reach === 'recent' ? [{ fromMs: windowStartMs, toMs: endMs }] : tape.coverage.gaps(windowStartMs, endMs);
    const total = gaps.reduce((s, g) => s + (g.toMs - g.fromMs), 0);
    const startedAt = this.o.clock.now();
    let fetchedMs = 0;
    const advance = (ms: number) => {
      fetchedMs += ms;
      this.progress.done = total > 0 ? Math.min(1, fetchedMs / total) : 1;
      const spent = this.o.clock.now() - startedAt;
      this.progress.etaMs = this.progress.done > 0 && spent > 0 ? Math.round((spent * (1 - this.progress.done)) / this.progress.done) : null;
    };
    for (const gap of gaps) {
      let from = gap.fromMs;
      while (!this.cancelled) {
        const page = await this.fetch(from, gap.toMs);
        if (!page) return; // cancelled
        const added: TapeTrade[] = [];
        tape.add(page.trades, added);
        this.progress.pages++;
        this.progress.added += added.length;
        this.o.onPage(added, page.dropped ?? {});
        const last = lastTime(page.trades);
        if (history.reach === 'recent') {
          // Only the venue's latest trades: the tape holds everything from the oldest one returned.
          if (last !== null) tape.coverage.add(Math.max(gap.fromMs, firstTime(page.trades)!), gap.toMs);
          advance(gap.toMs - gap.fromMs);
          break;
        }
        if (!page.hasMore || last === null || last >= gap.toMs) {
          tape.coverage.add(from, gap.toMs);
          advance(gap.toMs - from);
          break;
        }
        // Held up to the last trade's time; the next page starts there (its trades at that time again
        // are duplicates). A page of one millisecond's trades cannot move on: step past that millisecond.
        const next = last > from ? last : from + 1;
        tape.coverage.add(from, next);
        advance(next - from);
        from = next;
        this.o.onChange();
      }
      if (this.cancelled) return;
    }
    this.progress.state = 'done';
    this.progress.etaMs = 0;
    this.progress.done = 1;
    this.o.onChange();
  }

  /** One page, retried with backoff until it comes or the fill is cancelled (then null). */
  private async fetch(startMs: number, endMs: number): Promise<TradeHistoryPage | null> {
    for (;;) {
      if (this.cancelled) return null;
      try {
        const page = await this.o.history.fetchPage({ startMs, endMs, signal: this.abort.signal });
        if (this.cancelled) return null;
        if (!page || !Array.isArray(page.trades)) throw new Error('the venue answered no trades');
        this.backoff.reset();
        if (this.progress.state === 'retrying') {
          this.progress.state = 'filling';
          this.progress.error = null;
          this.progress.retryAtMs = null;
        }
        return page;
      } catch (e) {
        if (this.cancelled) return null;
        const delay = this.backoff.nextDelayMs();
        this.progress.state = 'retrying';
        this.progress.error = errorText(e);
        this.progress.retryAtMs = this.o.clock.now() + delay;
        this.o.onChange();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = this.o.clock.setTimeout(resolve, delay);
        });
        this.wake = null;
        this.timer = null;
      }
    }
  }
}

function lastTime(trades: readonly TapeTrade[]): number | null {
  let t: number | null = null;
  for (const x of trades) if (Number.isFinite(x?.timestampMs) && (t === null || x.timestampMs > t)) t = x.timestampMs;
  return t;
}

function firstTime(trades: readonly TapeTrade[]): number | null {
  let t: number | null = null;
  for (const x of trades) if (Number.isFinite(x?.timestampMs) && (t === null || x.timestampMs < t)) t = x.timestampMs;
  return t;
}
