import { describe, expect, it } from 'vitest';
import { Phi, phi } from './normal.ts';

// Reference values computed with mpmath.ncdf at 40 significant digits, rounded to double.
const REF: [number, number][] = [
  [-1, 0.15865525393145705],
  [-5, 2.866515718791939e-7],
  [-10, 7.619853024160525e-24],
  [-20, 2.7536241186062337e-89],
  [3, 0.9986501019683699],
  [0, 0.5],
  [1.96, 0.9750021048517795],
  [-0.5, 0.3085375387259869],
];

describe('Phi (Hart 5666 / West 2005)', () => {
  it('matches high-precision values to 1e-15 absolute', () => {
    for (const [x, p] of REF) expect(Math.abs(Phi(x) - p)).toBeLessThan(1e-15);
  });
  it('keeps relative accuracy in the far tail (continued fraction)', () => {
    expect(Math.abs(Phi(-10) / 7.619853024160525e-24 - 1)).toBeLessThan(1e-12);
    expect(Math.abs(Phi(-20) / 2.7536241186062337e-89 - 1)).toBeLessThan(1e-12);
    // the rational branch near its edge: ~3e-9 relative at most (absolute ~1e-21)
    expect(Math.abs(Phi(-5) / 2.866515718791939e-7 - 1)).toBeLessThan(1e-9);
  });
  it('is symmetric and monotone, with 0/1 limits and NaN passthrough', () => {
    for (let x = -8; x <= 8; x += 0.37) expect(Phi(x) + Phi(-x)).toBeCloseTo(1, 15);
    let prev = -1;
    for (let x = -40; x <= 40; x += 0.05) {
      const v = Phi(x);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
    expect(Phi(-40)).toBe(0);
    expect(Phi(40)).toBe(1);
    expect(Number.isNaN(Phi(NaN))).toBe(true);
  });
  it('phi is the standard density', () => {
    expect(phi(0)).toBeCloseTo(0.3989422804014327, 16);
    expect(phi(1)).toBeCloseTo(0.24197072451914334, 16);
    // derivative of Phi: central difference
    const h = 1e-5;
    for (const x of [-3, -1, 0.2, 2.5]) expect((Phi(x + h) - Phi(x - h)) / (2 * h)).toBeCloseTo(phi(x), 9);
  });
});
