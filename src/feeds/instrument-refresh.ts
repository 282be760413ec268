/**
 * REST instrument discovery on a timer, for venues whose websocket has no chain-wide listing channel
 * (OKX, Bybit): load the list at start and every `refreshMs`; on failure say so (a venueError with the
 * retry time) and retry after a capped full-jitter backoff (2 s base, 60 s cap) plus 2 s; an answer
 * that arrives after stop() or after a newer load started is ignored. Never throws.
 */
import type { Clock, FeedSink } from './adapter.ts';
import type { OptionInstrument, VenueId } from '../chain/model.ts';
import { Backoff } from './backoff.ts';

/** One load's outcome: the whole list, or why there is none (shown to the user). */
export type InstrumentLoad = { list: OptionInstrument[] } | { error: string } | null;

export interface InstrumentRefreshOptions {
  venue: VenueId;
  clock: Clock;
  sink: FeedSink;
  random: () => number;
  refreshMs: number;
  /**
   * Fetches and parses the list (reporting its own row drops). `current()` turns false once this load
   * is superseded: a paged load stops there and returns null. A throw counts as a failed request.
   */
  load: (current: () => boolean) => Promise<InstrumentLoad>;
  /** A successful load's list (the feed publishes it and adjusts its subscriptions). */
  onList: (list: OptionInstrument[]) => void;
}

export class InstrumentRefresher {
  private readonly o: InstrumentRefreshOptions;
  private readonly backoff: Backoff;
  private runId = 0;
  private timer: unknown = null;

  constructor(options: InstrumentRefreshOptions) {
    this.o = options;
    this.backoff = new Backoff({ random: options.random, baseMs: 2_000, capMs: 60_000 });
  }

  start(): void {
    this.runId++;
    void this.run(this.runId);
  }

  stop(): void {
    this.runId++;
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Load again at once (e.g. a listing the feed has not seen appeared). */
  refreshNow(): void {
    this.schedule(this.runId, 0);
  }

  private async run(runId: number): Promise<void> {
    const current = () => runId === this.runId;
    let r: InstrumentLoad;
    try {
      r = await this.o.load(current);
    } catch (e) {
      if (current()) this.retry(runId, `instruments request failed: ${String(e).slice(0, 120)}`);
      return;
    }
    if (!current() || r === null) return;
    if ('error' in r) {
      this.retry(runId, r.error);
      return;
    }
    this.backoff.reset();
    this.o.onList(r.list);
    this.schedule(runId, this.o.refreshMs);
  }

  private retry(runId: number, message: string): void {
    const delay = this.backoff.nextDelayMs() + 2_000;
    this.o.sink.status(this.o.venue, { kind: 'venueError', code: null, message, retryInMs: delay });
    this.schedule(runId, delay);
  }

  private schedule(runId: number, ms: number): void {
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      if (runId === this.runId) void this.run(runId);
    }, ms);
  }
}
