import { describe, expect, it } from 'vitest';
import type { TapeTrade } from '../chain/model.ts';
import type { TradeHistory, TradeHistoryPage } from '../feeds/adapter.ts';
import { FakeClock } from '../feeds/testing.ts';
import { HistoryFill, type FillOptions } from './tape-fill.ts';
import { Tape } from './tape.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 1);
const W0 = T0;
const END = T0 + 600 * MIN;

/** The venue's whole tape: one trade every 3 minutes, and five trades in one millisecond at minute 300. */
function venueTape(): TapeTrade[] {
  const out: TapeTrade[] = [];
  for (let m = 0; m < 600; m += 3) out.push(trade(`t${m}`, T0 + m * MIN));
  for (let k = 0; k < 5; k++) out.push(trade(`same${k}`, T0 + 300 * MIN + 1));
  return out.sort((a, b) => a.timestampMs - b.timestampMs);
}
function trade(id: string, t: number): TapeTrade {
  return { venue: 'deribit', instrument: 'BTC-27MAR26-80000-C', tradeId: id, timestampMs: t, takerSide: id.length % 2 ? 'buy' : 'sell', contracts: 1, block: false };
}

/** Deribit's get_last_trades_by_currency_and_time: trades in [start, end] ascending, `count` at most, has_more. */
class ScriptedHistory implements TradeHistory {
  reach: 'window' | 'recent' = 'window';
  note = 'Deribit keeps every trade';
  asked: { startMs: number; endMs: number }[] = [];
  failures = 0;
  /** Pending answers, resolved by the test (or at once when `auto`). */
  auto = true;
  pending: (() => void)[] = [];
  constructor(private readonly all: TapeTrade[], private readonly count: number) {}
  fetchPage(req: { startMs: number; endMs: number; signal?: AbortSignal }): Promise<TradeHistoryPage> {
    this.asked.push({ startMs: req.startMs, endMs: req.endMs });
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('10028 too_many_requests'));
    }
    const inRange = this.all.filter((t) => t.timestampMs >= req.startMs && t.timestampMs <= req.endMs);
    const page: TradeHistoryPage = this.reach === 'recent'
      ? { trades: this.all.slice(-this.count), hasMore: false, dropped: { malformed: 1 } }
      : { trades: inRange.slice(0, this.count), hasMore: inRange.length > this.count, dropped: {} };
    if (this.auto) return Promise.resolve(page);
    return new Promise((resolve) => this.pending.push(() => resolve(page)));
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function fill(history: TradeHistory, tape = new Tape('deribit', 'BTC'), clock = new FakeClock(T0)) {
  const stored: TapeTrade[] = [];
  const dropped: Record<string, number>[] = [];
  let changes = 0;
  const o: FillOptions = {
    history, tape, clock, random: () => 0.5,
    onPage: (added, d) => {
      stored.push(...added);
      dropped.push(d);
    },
    onChange: () => changes++,
  };
  return { tape, clock, stored, dropped, changes: () => changes, start: () => new HistoryFill(o, W0, END) };
}

describe('history fill', () => {
  it('pages forward through the window: every trade held once, the window covered, progress to done', async () => {
    const all = venueTape();
    const h = new ScriptedHistory(all, 7);
    const f = fill(h);
    const run = f.start();
    await run.finished;
    expect(run.progress).toMatchObject({ state: 'done', done: 1, added: all.length, error: null });
    expect(f.tape.size).toBe(all.length);
    expect(f.stored).toHaveLength(all.length); // each trade stored once, page overlaps not again
    expect(f.tape.coverage.spans()).toEqual([{ fromMs: W0, toMs: END }]);
    // Each page starts at the last trade of the one before; never twice the same start (no loop).
    const starts = h.asked.map((a) => a.startMs);
    expect(new Set(starts).size).toBe(starts.length);
    expect(h.asked[0]).toEqual({ startMs: W0, endMs: END });
  });

  it('a page of trades all in one millisecond does not loop: the fill steps past it', async () => {
    // Pages of 2: the five same-millisecond trades can never be paged through by time alone.
    const all = venueTape();
    const h = new ScriptedHistory(all, 2);
    const f = fill(h);
    const run = f.start();
    await run.finished;
    expect(run.progress.state).toBe('done');
    // Each page moves on by one trade at least (pages of 2 share one at their boundary).
    expect(h.asked.length).toBeLessThanOrEqual(all.length);
    expect(f.tape.has('t303')).toBe(true);
    // The last resort loses the rest of that millisecond (the feed's fetchPage pages through it itself).
    expect(f.tape.size).toBe(all.length - 3);
  });

  it('fetches only what the tape lacks (a reload): the gaps of its coverage, not what it holds', async () => {
    const all = venueTape();
    const h = new ScriptedHistory(all, 1000);
    const tape = new Tape('deribit', 'BTC');
    tape.add(all.filter((t) => t.timestampMs <= T0 + 400 * MIN));
    tape.coverage.add(W0, T0 + 400 * MIN);
    const f = fill(h, tape);
    await f.start().finished;
    expect(h.asked).toEqual([{ startMs: T0 + 400 * MIN, endMs: END }]);
    expect(f.stored.every((t) => t.timestampMs > T0 + 400 * MIN)).toBe(true);
    expect(tape.size).toBe(all.length);
    // Nothing missing: no request at all.
    const again = fill(h, tape);
    const asked = h.asked.length;
    await again.start().finished;
    expect(h.asked.length).toBe(asked);
  });

  it('a failed page is retried with backoff and shown meanwhile, then the fill goes on', async () => {
    const h = new ScriptedHistory(venueTape(), 50);
    h.failures = 2;
    const f = fill(h);
    const run = f.start();
    await flush();
    expect(run.progress.state).toBe('retrying');
    expect(run.progress.error).toBe('10028 too_many_requests');
    expect(run.progress.retryAtMs).toBeGreaterThanOrEqual(T0);
    f.clock.advance(1_000);
    await flush();
    expect(run.progress.state).toBe('retrying'); // the second failure: a longer wait
    f.clock.advance(2_000);
    await run.finished;
    expect(run.progress).toMatchObject({ state: 'done', error: null, retryAtMs: null });
    expect(f.tape.coverage.spans()).toEqual([{ fromMs: W0, toMs: END }]);
  });

  it('cancel stops where it is; what was fetched stays and its coverage says how far it got', async () => {
    const h = new ScriptedHistory(venueTape(), 20);
    h.auto = false;
    const f = fill(h);
    const run = f.start();
    await flush();
    h.pending.shift()!();
    await flush();
    expect(run.progress.pages).toBe(1);
    run.cancel();
    h.pending.shift()?.();
    await run.finished;
    expect(run.progress.state).toBe('cancelled');
    expect(h.asked).toHaveLength(2);
    expect(f.tape.size).toBe(20);
    const spans = f.tape.coverage.spans();
    expect(spans).toHaveLength(1);
    expect(spans[0].fromMs).toBe(W0);
    expect(spans[0].toMs).toBeLessThan(END);
  });

  it('a venue with recent trades only is asked once and covers from the oldest trade it returned', async () => {
    const all = venueTape();
    const h = new ScriptedHistory(all, 10);
    h.reach = 'recent';
    const f = fill(h);
    const run = f.start();
    await run.finished;
    expect(h.asked).toHaveLength(1);
    expect(run.progress.state).toBe('done');
    expect(f.tape.size).toBe(10);
    expect(f.tape.coverage.spans()).toEqual([{ fromMs: all[all.length - 10].timestampMs, toMs: END }]);
    expect(f.dropped).toEqual([{ malformed: 1 }]);
  });
});
