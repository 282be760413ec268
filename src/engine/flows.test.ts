import { describe, expect, it } from 'vitest';
import { chainFromLines } from './fixtures.ts';
import { PreparedLines, prepareLines } from './exposure.ts';
import { classic, short } from './dealer-sign.ts';
import { dealerDeltaAt, hedgeFlowByMove } from './flows.ts';
import { computeGex, DEFAULT_MOVES } from './index.ts';
import { delta } from './black76.ts';

const YEAR = 365 * 86_400_000;
const rows = [
  { strike: 90, expiryMs: YEAR / 4, isCall: false, markIv: 0.6, forward: 100, openInterest: 40 },
  { strike: 100, expiryMs: YEAR / 4, isCall: true, markIv: 0.55, forward: 100, openInterest: 25 },
  { strike: 115, expiryMs: YEAR / 2, isCall: true, markIv: 0.5, forward: 100, openInterest: 60, multiplier: 0.1 },
];

describe('hedge flow (design: "Hedge flow")', () => {
  it('full revaluation: dealer delta is sum sign * delta(F(1+m)) * OI * multiplier', () => {
    const p = new PreparedLines();
    prepareLines(chainFromLines(rows), 0, classic, {}, p);
    const m = 0.07;
    const hand =
      -40 * delta(100 * (1 + m), 90, 0.6, 0.25, false) +
      25 * delta(100 * (1 + m), 100, 0.55, 0.25, true) +
      6 * delta(100 * (1 + m), 115, 0.5, 0.5, true);
    expect(dealerDeltaAt(p, m)).toBeCloseTo(hand, 12);
    const f = hedgeFlowByMove(p, 100, [m]);
    expect(f.units[0]).toBeCloseTo(-(hand - dealerDeltaAt(p, 0)), 12);
    expect(f.usd[0]).toBeCloseTo(f.units[0] * 100 * 1.07, 9);
  });

  it('a small move equals minus dealer dollar gamma to first order', () => {
    // All forwards = S, so units(m) * S = -(m / 0.01) * total dollar gamma per 1 % + O(m^2).
    // For m = 1e-4 the second-order term is ~1e-4 relative; we require 1e-3.
    for (const model of ['classic', 'short'] as const) {
      const r = computeGex(chainFromLines(rows), { spot: 100, nowMs: 0, model, moves: [-1e-4, 1e-4] });
      for (let k = 0; k < 2; k++) {
        const m = r.moves[k];
        const expectedUsd = -(m / 0.01) * r.totalNetGex;
        expect(Math.abs((r.hedgeFlowUnits[k] * 100) / expectedUsd - 1)).toBeLessThan(1e-3);
        expect(Math.abs(r.hedgeFlowUnitsGammaApprox[k] * 100 - expectedUsd)).toBeLessThan(1e-9 * Math.abs(expectedUsd));
      }
    }
  });

  it('with F != S the approximation is units = -(m/0.01) * sum DG_j / F_j', () => {
    const shifted = rows.map((r, i) => ({ ...r, forward: 100 + 3 * i }));
    const chain = chainFromLines(shifted);
    const p = new PreparedLines();
    prepareLines(chain, 0, short, {}, p);
    let s = 0;
    for (let j = 0; j < p.count; j++) s += p.dollarGamma[j] / chain.forward[p.idx[j]];
    const f = hedgeFlowByMove(p, 100, [0.002]);
    expect(f.unitsGammaApprox[0]).toBeCloseTo(-(0.002 / 0.01) * s, 12);
    expect(Math.abs(f.units[0] / f.unitsGammaApprox[0] - 1)).toBeLessThan(1e-2);
    // short model: dealers short gamma -> buy into rallies
    expect(f.units[0]).toBeGreaterThan(0);
  });

  it('full revaluation departs from the gamma approximation for large moves', () => {
    const r = computeGex(chainFromLines(rows), { spot: 100, nowMs: 0, model: 'classic' });
    expect(Array.from(r.moves)).toEqual(DEFAULT_MOVES);
    const k = r.moves.indexOf(0.1);
    const rel = Math.abs(r.hedgeFlowUnits[k] / r.hedgeFlowUnitsGammaApprox[k] - 1);
    expect(rel).toBeGreaterThan(0.05);
    expect(r.hedgeFlowUnits[r.moves.indexOf(0)]).toBe(0);
  });
});
