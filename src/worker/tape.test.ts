import { describe, expect, it } from 'vitest';
import type { TapeTrade } from '../chain/model.ts';
import { aggregateTape } from '../chain/tape.ts';
import { mulberry32 } from '../shared/prng.ts';
import { Coverage, Tape } from './tape.ts';

const T0 = Date.UTC(2026, 2, 1);
const MIN = 60_000;
const trade = (id: string, t: number, side: 'buy' | 'sell', contracts: number, instrument = 'BTC-27MAR26-80000-C', block = false): TapeTrade => ({
  venue: 'deribit', instrument, tradeId: id, timestampMs: t, takerSide: side, contracts, block,
});

describe('Tape: trades held once, inside the window, with per-instrument sums', () => {
  it('counts a trade once by its venue trade id (reconnect, page overlap, reload)', () => {
    const tape = new Tape('deribit', 'BTC');
    expect(tape.add([trade('1', T0, 'buy', 2), trade('2', T0 + 1, 'sell', 1)])).toEqual({ added: 2, duplicate: 0, outsideWindow: 0, malformed: 0 });
    // The same trades again, one new: only the new one counts.
    expect(tape.add([trade('2', T0 + 1, 'sell', 1), trade('1', T0, 'buy', 2), trade('3', T0 + 2, 'buy', 0.5, 'BTC-27MAR26-80000-C', true)]))
      .toEqual({ added: 1, duplicate: 2, outsideWindow: 0, malformed: 0 });
    expect(tape.size).toBe(3);
    expect(tape.sumsOf('BTC-27MAR26-80000-C')).toEqual({ bought: 2.5, sold: 1, trades: 3, blockTrades: 1 });
    expect(tape.totals()).toEqual({ trades: 3, blockTrades: 1 });
  });

  it('refuses what is not a usable trade of its venue, counted', () => {
    const tape = new Tape('deribit', 'BTC');
    const bad = [
      { ...trade('a', T0, 'buy', 1), venue: 'okx' as const },
      trade('', T0, 'buy', 1),
      trade('b', NaN, 'buy', 1),
      trade('c', T0, 'buy', -1),
      trade('d', T0, 'buy', Infinity),
      { ...trade('e', T0, 'buy', 1), takerSide: 'hold' as 'buy' },
      null as unknown as TapeTrade,
    ];
    expect(tape.add(bad)).toEqual({ added: 0, duplicate: 0, outsideWindow: 0, malformed: 7 });
    expect(tape.size).toBe(0);
  });

  it('keeps only the window: older trades leave, their contracts leave the sums, older ones are refused', () => {
    const tape = new Tape('deribit', 'BTC');
    tape.add([trade('1', T0, 'buy', 2), trade('2', T0 + 10 * MIN, 'sell', 1), trade('3', T0 + 20 * MIN, 'buy', 4, 'BTC-27MAR26-90000-P')]);
    expect(tape.setWindowStart(T0 + 5 * MIN)).toBe(1);
    expect(tape.has('1')).toBe(false);
    expect(tape.sumsOf('BTC-27MAR26-80000-C')).toEqual({ bought: 0, sold: 1, trades: 1, blockTrades: 0 });
    expect(tape.add([trade('0', T0 + MIN, 'buy', 1)])).toEqual({ added: 0, duplicate: 0, outsideWindow: 1, malformed: 0 });
    expect(tape.setWindowStart(T0 + 15 * MIN)).toBe(1);
    // The line's last trade left: no sums at all (exact zeros, no float residue).
    expect(tape.sumsOf('BTC-27MAR26-80000-C')).toBeUndefined();
    expect(tape.oldestMs).toBe(T0 + 20 * MIN);
  });

  it('keeps per-instrument sums equal to aggregating the held trades afresh, through random adds, repeats and window moves', () => {
    const rnd = mulberry32(13);
    const names = ['A', 'B', 'C', 'D', 'E'];
    const tape = new Tape('deribit', 'BTC');
    const all: TapeTrade[] = [];
    let start = T0;
    for (let round = 0; round < 60; round++) {
      const batch: TapeTrade[] = [];
      for (let k = 0; k < 50; k++) {
        // New trades at random times (history pages and live arrive out of order), and repeats of old ones.
        if (all.length > 0 && rnd() < 0.2) batch.push(all[Math.floor(rnd() * all.length)]);
        else {
          const t = trade(`t${all.length}`, start + Math.floor(rnd() * 600 * MIN), rnd() < 0.5 ? 'buy' : 'sell', Math.round(rnd() * 100) / 10, names[Math.floor(rnd() * names.length)], rnd() < 0.1);
          all.push(t);
          batch.push(t);
        }
      }
      tape.add(batch);
      if (round % 7 === 6) tape.setWindowStart((start += 37 * MIN));
      const fresh = aggregateTape([...tape.trades()], (t) => names.indexOf(t.instrument), names.length, tape.windowStartMs, Infinity);
      expect(fresh.skipped).toEqual({ duplicate: 0, outsideWindow: 0, unknownInstrument: 0 });
      names.forEach((n, i) => {
        const s = tape.sumsOf(n) ?? { bought: 0, sold: 0, trades: 0, blockTrades: 0 };
        expect(s.bought).toBeCloseTo(fresh.lines.bought[i], 9);
        expect(s.sold).toBeCloseTo(fresh.lines.sold[i], 9);
        expect(s.trades).toBe(fresh.lines.trades[i]);
        expect(s.blockTrades).toBe(fresh.lines.blockTrades[i]);
      });
    }
    // Every held trade is inside the window, once.
    for (const t of tape.trades()) expect(t.timestampMs).toBeGreaterThanOrEqual(tape.windowStartMs);
    expect(new Set([...tape.trades()].map((t) => t.tradeId)).size).toBe(tape.size);
  });

  it('a live trade costs a map update, not a pass over the tape: 200k held, 10k more added in well under a second', () => {
    const tape = new Tape('deribit', 'BTC');
    const many = Array.from({ length: 200_000 }, (_, i) => trade(`h${i}`, T0 + i * 1000, i % 3 ? 'buy' : 'sell', 1, `I${i % 800}`));
    tape.add(many);
    const t = performance.now();
    for (let i = 0; i < 10_000; i++) tape.add([trade(`l${i}`, T0 + 200_000_000 + i, 'buy', 1, `I${i % 800}`)]);
    expect(performance.now() - t).toBeLessThan(500);
    expect(tape.size).toBe(210_000);
  });

  it('when full, the oldest trade goes first, counted, and the coverage starts after it', () => {
    const tape = new Tape('deribit', 'BTC', 3);
    tape.coverage.add(T0, T0 + 10 * MIN);
    tape.add([trade('1', T0, 'buy', 1), trade('2', T0 + MIN, 'buy', 1), trade('3', T0 + 2 * MIN, 'buy', 1), trade('4', T0 + 3 * MIN, 'sell', 1)]);
    expect(tape.size).toBe(3);
    expect(tape.has('1')).toBe(false);
    expect(tape.droppedOverCapacity).toBe(1);
    expect(tape.coverage.spans()).toEqual([{ fromMs: T0 + 1, toMs: T0 + 10 * MIN }]);
  });
});

describe('Coverage: the spans of venue time held completely', () => {
  it('merges spans that touch or overlap and lists the gaps of a window', () => {
    const c = new Coverage();
    c.add(30, 40);
    c.add(10, 20);
    c.add(20, 25);
    c.add(38, 50);
    expect(c.spans()).toEqual([{ fromMs: 10, toMs: 25 }, { fromMs: 30, toMs: 50 }]);
    expect(c.gaps(0, 100)).toEqual([{ fromMs: 0, toMs: 10 }, { fromMs: 25, toMs: 30 }, { fromMs: 50, toMs: 100 }]);
    expect(c.gaps(12, 45)).toEqual([{ fromMs: 25, toMs: 30 }]);
    c.add(5, 4); // backwards: ignored
    expect(c.spans()).toHaveLength(2);
  });

  it('the live channel covers from when it started to any now; a gap before it is what a fill fetches', () => {
    const c = new Coverage();
    c.add(0, 50);
    c.liveFromMs = 60;
    expect(c.coveredFrom(100)).toBe(60);
    expect(c.gaps(0, 100)).toEqual([{ fromMs: 50, toMs: 60 }]);
    c.add(50, 60);
    expect(c.coveredFrom(100)).toBe(0);
    expect(c.gaps(0, 100)).toEqual([]);
    // The connection dropped at 120: covered until then; a later now is not covered (a reload's tail).
    c.endLive(120);
    expect(c.spans()).toEqual([{ fromMs: 0, toMs: 120 }]);
    expect(c.coveredFrom(200)).toBeNull();
    expect(c.gaps(0, 200)).toEqual([{ fromMs: 120, toMs: 200 }]);
  });

  it('forgets what falls before the window', () => {
    const c = new Coverage();
    c.add(0, 10);
    c.add(20, 40);
    c.liveFromMs = 50;
    c.trimBefore(25);
    expect(c.spans()).toEqual([{ fromMs: 25, toMs: 40 }]);
    c.trimBefore(60);
    expect(c.spans()).toEqual([]);
    expect(c.liveFromMs).toBe(60);
  });
});
