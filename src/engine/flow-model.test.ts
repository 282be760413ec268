import { describe, expect, it } from 'vitest';
import { chainFromLines, type LineSpec } from './fixtures.ts';
import { computeGex } from './index.ts';
import type { LineTrades } from './types.ts';
import { gamma } from './black76.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 2, 12);
const W0 = NOW - 7 * DAY;
const line = (strike: number, isCall: boolean, oi: number, listedMs: number): LineSpec & { listedMs: number } => ({
  strike, expiryMs: NOW + 30 * DAY, isCall, markIv: 0.5, forward: 100, openInterest: oi, listedMs,
});

function chainWithListing(rows: (LineSpec & { listedMs: number })[]) {
  const c = chainFromLines(rows);
  c.listedMs = Float64Array.from(rows, (r) => r.listedMs);
  return c;
}
function tape(perLine: [bought: number, sold: number, trades: number, block: number][]): LineTrades {
  return {
    windowStartMs: W0,
    bought: Float64Array.from(perLine, (t) => t[0]),
    sold: Float64Array.from(perLine, (t) => t[1]),
    trades: Float64Array.from(perLine, (t) => t[2]),
    blockTrades: Float64Array.from(perLine, (t) => t[3]),
  };
}
/** Dollar gamma per 1 % of one contract of these lines (same F, K-dependent d1). */
const dg1 = (K: number) => gamma(100, K, 0.5, 30 / 365) * 100 * 100 * 0.01;

describe('flow model (design: "Dealer positions from the trade tape")', () => {
  const rows = [
    line(90, false, 50, W0 - DAY), // listed before W0, traded: seen in part
    line(100, true, 40, W0 + DAY), // listed inside the window: seen whole
    line(110, true, 30, W0 + DAY), // seen whole, customers sold more than OI: clamped
    line(120, true, 20, W0 - DAY), // no trades: assumed (classic sign)
    line(80, false, 10, W0), // listed exactly at W0: seen whole
    line(130, true, 5, NaN), // listing unknown: seen in part
  ];
  const trades = tape([
    [30, 10, 4, 1], // N = 20, G = 40 -> q = -50 * 20/40 = -25
    [25, 5, 3, 0], // N = 20 -> q = -20
    [0, 45, 2, 2], // N = -45 -> clamp to -30 -> q = +30
    [0, 0, 0, 0], // q = +20 (call, classic)
    [2, 6, 2, 0], // N = -4 -> q = +4
    [1, 3, 1, 0], // N = -2, G = 4 -> q = -5 * -2/4 = +2.5
  ]);
  const q = [-25, -20, 30, 20, 4, 2.5];

  it('gives each line the design position, and dollar gamma is signed by it', () => {
    const r = computeGex(chainWithListing(rows), { spot: 100, nowMs: NOW, model: 'flow', trades });
    expect(r.model).toBe('flow');
    r.strikes.forEach((K, k) => {
      const i = rows.findIndex((l) => l.strike === K);
      expect(r.netGex[k]).toBeCloseTo(q[i] * dg1(K), 10);
    });
  });

  it('reports the window, trades (block apart) and shares of |q| that add up to 1', () => {
    const r = computeGex(chainWithListing(rows), { spot: 100, nowMs: NOW, model: 'flow', trades });
    const total = q.reduce((s, x) => s + Math.abs(x), 0);
    expect(r.positioning).toEqual({
      windowStartMs: W0,
      trades: 12,
      blockTrades: 3,
      seenWhole: expect.closeTo((20 + 30 + 4) / total, 14),
      seenInPart: expect.closeTo((25 + 2.5) / total, 14),
      assumed: expect.closeTo(20 / total, 14),
    });
    const p = r.positioning!;
    expect(p.seenWhole + p.seenInPart + p.assumed).toBeCloseTo(1, 14);
  });

  it('counts trades only on lines in the sums', () => {
    const r = computeGex(chainWithListing(rows), { spot: 100, nowMs: NOW, model: 'flow', trades, expiries: new Set([NOW + 31 * DAY]) });
    expect(r.includedLines).toBe(0);
    expect(r.positioning).toMatchObject({ trades: 0, blockTrades: 0, seenWhole: 0, seenInPart: 0, assumed: 0 });
  });

  it('without a tape every line is assumed and the figures equal classic', () => {
    const flow = computeGex(chainWithListing(rows), { spot: 100, nowMs: NOW, model: 'flow' });
    const cl = computeGex(chainWithListing(rows), { spot: 100, nowMs: NOW, model: 'classic' });
    expect(Array.from(flow.netGex)).toEqual(Array.from(cl.netGex));
    expect(flow.positioning).toMatchObject({ windowStartMs: null, trades: 0, assumed: 1 });
    expect(cl.positioning).toBeNull();
  });
});

describe('flow model: per-line covered window and the classic ghost', () => {
  const rows = [
    line(100, true, 40, W0 + DAY), // listed a day into the window
    line(110, false, 30, W0 + 3 * DAY), // listed three days in
    line(120, true, 20, W0 - DAY), // no trades: assumed
  ];
  const base = tape([
    [25, 5, 3, 0], // N = 20, G = 30
    [3, 9, 2, 0], // N = -6, G = 12
    [0, 0, 0, 0],
  ]);

  it('a line listed before its venue\'s tape is complete is seen in part, one listed after it seen whole', () => {
    // Line 0's venue holds its tape from two days in (listed before: in part); line 1's from the window's start.
    const trades = { ...base, seenFromMs: Float64Array.from([W0 + 2 * DAY, W0, W0]) };
    const r = computeGex(chainWithListing(rows), { spot: 100, nowMs: NOW, model: 'flow', trades });
    const q = [(-40 * 20) / 30, 6, 20];
    r.strikes.forEach((K, k) => expect(r.netGex[k]).toBeCloseTo(q[rows.findIndex((l) => l.strike === K)] * dg1(K), 10));
    const total = q.reduce((s, x) => s + Math.abs(x), 0);
    expect(r.positioning!.seenWhole).toBeCloseTo(6 / total, 14);
    expect(r.positioning!.seenInPart).toBeCloseTo(40 * 20 / 30 / total, 14);
    // Without it every line's window is W0: both traded lines seen whole.
    const whole = computeGex(chainWithListing(rows), { spot: 100, nowMs: NOW, model: 'flow', trades: base });
    expect(whole.positioning!.seenInPart).toBe(0);
  });

  it('gives the classic figure per strike beside the flow figure, equal to a classic run, and none for other models', () => {
    // One line with no flow position (N = 0): its ghost is valued afresh.
    const trades = tape([[5, 5, 2, 0], [3, 9, 2, 0], [0, 0, 0, 0]]);
    const flow = computeGex(chainWithListing(rows), { spot: 100, nowMs: NOW, model: 'flow', trades });
    const cl = computeGex(chainWithListing(rows), { spot: 100, nowMs: NOW, model: 'classic' });
    expect(Array.from(flow.strikes)).toEqual(Array.from(cl.strikes));
    flow.classicNetGex!.forEach((g, k) => expect(g).toBeCloseTo(cl.netGex[k], 9));
    expect(flow.netGex[0]).toBe(0);
    expect(cl.classicNetGex).toBeNull();
  });
});
