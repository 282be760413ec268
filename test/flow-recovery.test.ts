/**
 * Issue 13, "Done means": the flow model recovers the simulator's hidden dealer book through the whole
 * client path - the real Deribit feed (its live trade channel and its history over the socket), the
 * worker's tape (deduplicated, bounded, sums kept as trades come), the history fill, and the engine.
 *
 * Every trade has the dealer passive (customerMakerShare = 0: a dealer that takes is read with the wrong
 * sign by a model that takes the passive side to be the dealer) and none is between two customers
 * (customerToCustomerShare = 0), and the window covers the whole history the venue keeps: then for
 * every line listed inside the window the flow position equals the hidden dealer position, and the
 * shares of dealer contracts add up to 1.
 *
 * Timing: the simulator is paused once the history is held, and the test waits until the figures
 * rest on the paused instant (every line's open interest equal to the book's, the trade count still).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ChainColumns, ExposureParams, GexResult, LineTrades } from '../src/engine/types.ts';
import { computeGex, flowPosition } from '../src/engine/index.ts';
import { SELECTION_DEFAULTS, type ViewSelection } from '../src/worker/protocol.ts';
import { post, settled, startRun, waitFor, type Run } from './harness.ts';

const START_MS = Date.UTC(2026, 11, 9, 13, 30);

interface BookAnswer {
  timeMs: number;
  historyStartMs: number;
  lines: { instrument: string; listedMs: number; expiryMs: number; dealer: number; openInterest: number }[];
}

/** What the engine was last given: the chain (copied: the store's columns move on) and the tape per line. */
interface Seen {
  chain: ChainColumns;
  trades: LineTrades;
  nowMs: number;
}
const copyColumns = (c: ChainColumns): ChainColumns => ({
  length: c.length, strike: c.strike.slice(0, c.length), expiryMs: c.expiryMs.slice(0, c.length), isCall: c.isCall.slice(0, c.length),
  markIv: c.markIv.slice(0, c.length), forward: c.forward.slice(0, c.length), openInterest: c.openInterest.slice(0, c.length),
  multiplier: c.multiplier.slice(0, c.length), listedMs: c.listedMs?.slice(0, c.length),
});

describe('flow model recovery through the worker (real Deribit feed against the simulator)', () => {
  let run: Run | undefined;
  afterAll(async () => {
    await run?.close();
  });

  it('positions of lines listed inside the window equal the hidden dealer positions; shares add up to 1', async () => {
    let seen: Seen | null = null;
    const compute = (chain: ChainColumns, params: ExposureParams): GexResult => {
      if (params.trades) seen = { chain: copyColumns(chain), trades: params.trades, nowMs: params.nowMs };
      return computeGex(chain, params);
    };
    // The simulator keeps 7 days of trades; the default 7-day window at the venue clock covers them all.
    const selection: ViewSelection = { source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'flow', profileRange: 0.2, ...SELECTION_DEFAULTS, windowDays: 7 };
    run = await startRun({ seed: 42, startMs: START_MS, selection, trades: { customerMakerShare: 0, customerToCustomerShare: 0, preHistoryDays: 7 }, host: { compute } });
    const r = run;
    const tapeDone = () => r.posted.some((m) => m.type === 'tape' && m.venues[0]?.history === 'done');
    await waitFor('the history fill to finish', tapeDone, 120_000, 100);
    await post(r.server, '/__sim/pause');
    const res = await fetch(`${r.server.url}/__gexdesk/book?venue=deribit&currency=BTC`);
    const book = (await res.json()) as BookAnswer;
    const byName = new Map(book.lines.map((l) => [l.instrument, l]));
    const store = r.stores.at(-1)!;

    // Figures of the paused instant: every line's open interest is the book's, and no trade comes any more.
    const oiOfInstant = () => {
      const s = seen;
      if (!s || s.nowMs < book.timeMs - 1000) return false;
      for (let i = 0; i < s.chain.length; i++) {
        const l = byName.get(store.instrumentAt(i)?.name ?? '');
        if (!l || Math.abs(s.chain.openInterest[i] - l.openInterest) > 1e-9) return false;
      }
      return true;
    };
    await waitFor('figures at the paused instant', oiOfInstant, 30_000, 50);
    await settled('the trade count', () => r.lastResult()?.gex.positioning?.trades, 2_000, 30_000, 50);
    await waitFor('figures at the paused instant, after the last trade', oiOfInstant, 30_000, 50);

    const s = seen! as Seen;
    const w0 = s.trades.windowStartMs;
    expect(w0).toBeLessThanOrEqual(book.historyStartMs + 60_000); // the window covers the history
    // Nothing counted twice or missed: consecutive history pages share their boundary trades, and the
    // live channel overlaps the fill's end; a trade counted twice (or lost) would move N off the book.
    let whole = 0;
    for (let i = 0; i < s.chain.length; i++) {
      const l = byName.get(store.instrumentAt(i)!.name)!;
      if (l.listedMs < w0 || l.expiryMs <= book.timeMs) continue;
      const p = flowPosition(s.chain, s.trades, i);
      expect(p.seen, l.instrument).toBe('whole');
      expect(p.q, l.instrument).toBeCloseTo(l.dealer, 6);
      whole++;
    }
    expect(whole).toBeGreaterThan(20);

    const last = r.lastResult()!;
    expect(last.tape).toEqual({ windowStartMs: w0, venues: [{ venue: 'deribit', coveredFromMs: w0 }] });
    const p = last.gex.positioning!;
    expect(p.seenWhole).toBeGreaterThan(0);
    expect(p.seenWhole + p.seenInPart + p.assumed).toBeCloseTo(1, 12);
    expect(p.trades).toBeGreaterThan(1000);
  }, 180_000);
});
