import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { d1, delta, gamma, price, theta, vega, yearFraction } from './black76.ts';
import { sampleDir } from '../../test/samples.ts';

const DERIBIT = sampleDir('deribit');

describe('Black-76 against published worked examples', () => {
  // Published examples carry a discount rate r; with rate r every Black-76 price, delta and gamma is
  // exp(-rT) times the r = 0 value, so we compare exp(-rT) * ours.
  it('Haug, The Complete Guide to Option Pricing Formulas (2nd ed.), 1.1.2 Black-76: F=K=19, T=0.75, r=0.10, sigma=0.28 -> 1.7011', () => {
    const df = Math.exp(-0.1 * 0.75);
    expect(df * price(19, 19, 0.28, 0.75, true)).toBeCloseTo(1.7011, 4);
    expect(df * price(19, 19, 0.28, 0.75, false)).toBeCloseTo(1.7011, 4);
  });
  it('Haug (2nd ed.), 2.1.1 delta example on a futures option (b = 0): F=105, K=100, T=0.5, r=0.10, sigma=0.36 -> call 0.5946, put -0.3566', () => {
    const df = Math.exp(-0.1 * 0.5);
    expect(df * delta(105, 100, 0.36, 0.5, true)).toBeCloseTo(0.5946, 4);
    expect(df * delta(105, 100, 0.36, 0.5, false)).toBeCloseTo(-0.3566, 4);
  });
  it("Hull, Options, Futures, and Other Derivatives, Black's model example: put on futures F=K=20, r=9%, T=4 months, sigma=25% -> 1.12", () => {
    expect(Math.exp(-0.09 / 3) * price(20, 20, 0.25, 4 / 12, false)).toBeCloseTo(1.12, 2);
  });
  it('d1 by hand: F=100, K=100, sigma=0.5, T=1 -> 0.25', () => {
    expect(d1(100, 100, 0.5, 1)).toBeCloseTo(0.25, 15);
    // gamma = phi(0.25) / (100 * 0.5)
    expect(gamma(100, 100, 0.5, 1)).toBeCloseTo(0.3866681168028492 / 50, 15);
  });
});

describe('Black-76 properties', () => {
  const cases = [
    [9000, 9250, 0.85, 0.01],
    [30000, 40000, 0.6, 0.5],
    [2000, 1500, 1.2, 0.1],
    [100, 100, 0.2, 2],
  ];
  it('put-call delta parity, equal gamma, gamma = d(delta)/dF, vega > 0, theta < 0', () => {
    for (const [F, K, s, T] of cases) {
      expect(delta(F, K, s, T, true) - delta(F, K, s, T, false)).toBeCloseTo(1, 14);
      const h = F * 1e-5;
      for (const isCall of [true, false]) {
        const fd = (delta(F + h, K, s, T, isCall) - delta(F - h, K, s, T, isCall)) / (2 * h);
        expect(Math.abs(fd / gamma(F, K, s, T) - 1)).toBeLessThan(1e-7);
      }
      expect(vega(F, K, s, T)).toBeGreaterThan(0);
      expect(theta(F, K, s, T)).toBeLessThan(0);
      // vega = dPrice/dsigma per vol point, theta = -dPrice/dT per day (finite differences)
      const dv = (price(F, K, s + 1e-6, T, true) - price(F, K, s - 1e-6, T, true)) / 2e-6 / 100;
      expect(Math.abs(dv / vega(F, K, s, T) - 1)).toBeLessThan(1e-6);
      const dT = 1e-7;
      const dth = -(price(F, K, s, T + dT, false) - price(F, K, s, T - dT, false)) / (2 * dT) / 365;
      expect(Math.abs(dth / theta(F, K, s, T) - 1)).toBeLessThan(1e-5);
      // put-call parity of prices, r = 0: C - P = F - K
      expect(price(F, K, s, T, true) - price(F, K, s, T, false)).toBeCloseTo(F - K, 6);
    }
  });
  it('yearFraction uses a 365-day year', () => {
    expect(yearFraction(365 * 86_400_000, 0)).toBe(1);
  });
});

interface Row {
  instrument_name: string;
  option_type: 'call' | 'put';
  strike: number;
  expiration_timestamp: number;
  timestamp: number;
  underlying_price: number;
  mark_iv: number;
  greeks: { delta: number; gamma: number; vega: number; theta: number } | null;
}

describe('reproduces the real Deribit chain of 2020-05-21 (feeds.md 1.6)', () => {
  const rows = (JSON.parse(readFileSync(DERIBIT + 'chain-BTC-2020-05-21.reconstructed.json', 'utf8')) as { rows: Row[] }).rows;
  // Same selection as the feeds.md check: 0.05 < |delta| < 0.95 and T > 1 day.
  const sel = rows.filter(
    (r) =>
      r.greeks !== null &&
      Math.abs(r.greeks.delta) > 0.05 &&
      Math.abs(r.greeks.delta) < 0.95 &&
      r.expiration_timestamp - r.timestamp > 86_400_000,
  );
  const errs = (f: (r: Row, F: number, K: number, s: number, T: number) => number) =>
    sel.map((r) => f(r, r.underlying_price, r.strike, r.mark_iv / 100, yearFraction(r.expiration_timestamp, r.timestamp))).sort((a, b) => a - b);
  const pct = (a: number[], p: number) => a[Math.min(a.length - 1, Math.floor(p * a.length))];

  it('has the expected sample', () => {
    expect(sel.length).toBeGreaterThanOrEqual(190);
  });
  it('delta to 1e-4 absolute on every row, vega and theta to ~1e-4 relative (Deribit rounds to 5 decimals)', () => {
    const dErr = errs((r, F, K, s, T) => Math.abs(delta(F, K, s, T, r.option_type === 'call') - r.greeks!.delta));
    const vRel = errs((r, F, K, s, T) => Math.abs(vega(F, K, s, T) / r.greeks!.vega - 1));
    const tRel = errs((r, F, K, s, T) => Math.abs(theta(F, K, s, T) / r.greeks!.theta - 1));
    expect(dErr[dErr.length - 1]).toBeLessThan(1e-4); // measured: median 5.5e-6, max 3.3e-5
    expect(pct(vRel, 0.5)).toBeLessThan(1e-4); // measured: median 2.1e-5, p90 1.2e-4, max 3.7e-4
    expect(pct(vRel, 0.9)).toBeLessThan(2e-4);
    expect(vRel[vRel.length - 1]).toBeLessThan(5e-4);
    // Deribit's theta is min(1-day theta, lifetime theta): a few short-dated rows differ by design.
    expect(pct(tRel, 0.5)).toBeLessThan(1e-4); // measured: median 5.2e-5, p90 1.3e-4
    expect(pct(tRel, 0.9)).toBeLessThan(2e-4);
  });
  it('gamma within its 5-decimal rounding (half a unit of 1e-5, plus slack)', () => {
    const gErr = errs((r, F, K, s, T) => Math.abs(gamma(F, K, s, T) - r.greeks!.gamma));
    expect(pct(gErr, 0.9)).toBeLessThanOrEqual(6e-6);
  });
});
