import { describe, expect, it } from 'vitest';
import { chainFromLines } from './fixtures.ts';
import { PreparedLines, prepareLines } from './exposure.ts';
import { classic } from './dealer-sign.ts';
import { gexOnLogGrid, gexProfile, netGexAt, zeroGammaCrossings } from './sweep.ts';
import { syntheticChain } from './fixtures.ts';
import { computeGex } from './index.ts';
import { gamma } from './black76.ts';

const YEAR = 365 * 86_400_000;
const line = (strike: number, isCall: boolean, oi: number, markIv = 0.3, forward = 100) => ({
  strike,
  expiryMs: YEAR,
  isCall,
  markIv,
  forward,
  openInterest: oi,
});
const prep = (rows: ReturnType<typeof line>[]) => {
  const p = new PreparedLines();
  prepareLines(chainFromLines(rows), 0, classic, {}, p);
  return p;
};

/*
 * Known root: a call (dealers long, classic) at Kc and a put (dealers short) at Kp with the same
 * forward F, OI and s = sigma sqrt T. Their dollar gammas are equal when d1c(x) = -d1p(x), i.e.
 *   ln(1 + x) = -(ln(F/Kc) + ln(F/Kp) + s^2) / 2   =>   S' = S sqrt(Kc Kp) / F * exp(-s^2 / 2).
 */
const knownRoot = (S: number, F: number, Kc: number, Kp: number, s: number) => (S * Math.sqrt(Kc * Kp) / F) * Math.exp(-0.5 * s * s);

describe('spot sweep', () => {
  it('uses F\' = F S\'/S and dollar gamma with F\'^2 (design: "Spot sweep")', () => {
    const p = prep([line(110, true, 3, 0.4, 101)]);
    for (const x of [-0.3, -0.05, 0.1, 0.4]) {
      const Fp = 101 * (1 + x);
      expect(netGexAt(p, x)).toBeCloseTo(gamma(Fp, 110, 0.4, 1) * Fp * Fp * 0.01 * 3, 10);
    }
  });
  it('profile: 401 points from -20 % to +20 %, exact 0 in the middle, each equal to the exp-per-point sum', () => {
    const p = prep([line(100, true, 1), line(90, false, 3, 0.6), line(121, true, 2, 0.02)]);
    const { xs, values } = gexProfile(p, 0.2, 401);
    expect(xs[0]).toBeCloseTo(-0.2, 14);
    expect(xs[200]).toBe(0);
    expect(xs[400]).toBeCloseTo(0.2, 14);
    for (let k = 1; k < 401; k++) expect(xs[k]).toBeGreaterThan(xs[k - 1]);
    expect(Math.max(...Array.from(xs.subarray(1), (x, k) => x - xs[k]))).toBeLessThan(0.0012);
    const scale = Math.max(...Array.from(values, Math.abs));
    for (let k = 0; k < 401; k++) expect(Math.abs(values[k] - netGexAt(p, xs[k]))).toBeLessThan(1e-13 * scale);
  });
  it('the log-grid recurrence equals an exp per point on a whole synthetic chain, narrow lines included', () => {
    const p = new PreparedLines();
    prepareLines(syntheticChain(600, 100_000, 0, 5), 0, classic, {}, p);
    expect(p.active).toBeGreaterThan(500);
    const n = 900;
    const L0 = Math.log(0.5);
    const dL = (Math.log(1.5) - L0) / (n - 1);
    const out = new Float64Array(n + 3);
    gexOnLogGrid(p, L0, dL, n, out, 3);
    let scale = 0;
    const direct = Array.from({ length: n }, (_, k) => netGexAt(p, Math.expm1(L0 + k * dL)));
    for (const v of direct) scale = Math.max(scale, Math.abs(v));
    for (let k = 0; k < n; k++) expect(Math.abs(out[k + 3] - direct[k])).toBeLessThan(1e-12 * scale);
  });
});

describe('zero gamma', () => {
  it('finds a known root to 0.01 % of spot', () => {
    const p = prep([line(110, true, 5), line(90, false, 5)]);
    const expected = knownRoot(100, 100, 110, 90, 0.3);
    const r = zeroGammaCrossings(p, 100);
    expect(r.crossings.length).toBe(1);
    expect(Math.abs((r.zeroGammaLevel as number) - expected)).toBeLessThanOrEqual(1e-4 * 100);
    // and not by luck of the grid: the error is well inside the tolerance
    expect(Math.abs((r.zeroGammaLevel as number) - expected)).toBeLessThan(0.6e-4 * 100);
  });
  it('known root when forward differs from spot, through computeGex', () => {
    const S = 30_000;
    const F = 30_600;
    const rows = [line(36_000, true, 7, 0.5, F), line(27_000, false, 7, 0.5, F)];
    const r = computeGex(chainFromLines(rows), { spot: S, nowMs: 0, model: 'classic' });
    const expected = knownRoot(S, F, 36_000, 27_000, 0.5);
    expect(Math.abs((r.zeroGammaLevel as number) - expected)).toBeLessThanOrEqual(1e-4 * S);
    expect(r.zeroGammaCrossings).toEqual([r.zeroGammaLevel]);
  });
  it('returns null when there is no sign change in range (never invents a level)', () => {
    const calls = prep([line(100, true, 5), line(120, true, 3)]);
    expect(zeroGammaCrossings(calls, 100)).toEqual({ zeroGammaLevel: null, crossings: [] });
    // a root exists at ~95.1 but outside a +-3 % search range
    const pair = prep([line(110, true, 5), line(90, false, 5)]);
    expect(zeroGammaCrossings(pair, 100, { range: 0.03 }).zeroGammaLevel).toBeNull();
    expect(zeroGammaCrossings(pair, 100, { range: 0.06 }).zeroGammaLevel).not.toBeNull();
  });
  it('lists several crossings nearest to spot first', () => {
    // + at 80, - at 100, + at 120 with a narrow s = 0.05: roots near sqrt(80*100) and sqrt(100*120)
    const p = prep([line(80, true, 5, 0.05), line(100, false, 5, 0.05), line(120, true, 5, 0.05)]);
    const r = zeroGammaCrossings(p, 100);
    const lo = knownRoot(100, 100, 80, 100, 0.05); // 89.33
    const hi = knownRoot(100, 100, 120, 100, 0.05); // 109.40
    expect(r.crossings.length).toBe(2);
    expect(Math.abs(r.crossings[0] - hi)).toBeLessThanOrEqual(1e-2);
    expect(Math.abs(r.crossings[1] - lo)).toBeLessThanOrEqual(1e-2);
    expect(r.zeroGammaLevel).toBe(r.crossings[0]);
    // spot (and forward) at 95, nearer the lower root: the order flips
    const p2 = prep([line(80, true, 5, 0.05, 95), line(100, false, 5, 0.05, 95), line(120, true, 5, 0.05, 95)]);
    const r2 = zeroGammaCrossings(p2, 95);
    expect(Math.abs(r2.crossings[0] - knownRoot(95, 95, 80, 100, 0.05))).toBeLessThanOrEqual(1e-2);
    expect(Math.abs(r2.crossings[1] - knownRoot(95, 95, 120, 100, 0.05))).toBeLessThanOrEqual(1e-2);
  });
  it('reuses the profile points (same answer with and without them)', () => {
    const p = prep([line(110, true, 5), line(90, false, 5), line(140, false, 1)]);
    const a = zeroGammaCrossings(p, 100, { known: gexProfile(p, 0.2, 401) });
    const b = zeroGammaCrossings(p, 100);
    expect(a.crossings.length).toBe(b.crossings.length);
    a.crossings.forEach((c, i) => expect(Math.abs(c - b.crossings[i])).toBeLessThanOrEqual(1e-2));
  });
});
