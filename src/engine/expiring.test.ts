/**
 * Expiring lines and numerical guards (design: "Expiring lines", "Invalid input"): one line at five
 * minutes to expiry and one at IV 1e-6 beside a normal chain.
 */
import { describe, expect, it } from 'vitest';
import { chainFromLines, syntheticChain, type LineSpec } from './fixtures.ts';
import { computeGex } from './index.ts';
import { gamma } from './black76.ts';
import { PreparedLines, prepareLines } from './exposure.ts';
import { classic } from './dealer-sign.ts';
import { netGexAt } from './sweep.ts';

const NOW = Date.UTC(2025, 2, 21, 7, 55); // 5 minutes before the 08:00 expiry
const SPOT = 100_000;
const normal = (): LineSpec[] => {
  const c = syntheticChain(300, SPOT, NOW, 11);
  return Array.from({ length: c.length }, (_, i) => ({
    strike: c.strike[i], expiryMs: c.expiryMs[i], isCall: c.isCall[i] === 1, markIv: c.markIv[i], forward: c.forward[i], openInterest: c.openInterest[i],
  }));
};
const fiveMinutes: LineSpec = { strike: 100_000, expiryMs: Date.UTC(2025, 2, 21, 8), isCall: false, markIv: 0.4, forward: 100_050, openInterest: 400 };

describe('expiring lines', () => {
  it('are left out of the sums by default, counted, with their share of gross dollar gamma and the pin', () => {
    const base = computeGex(chainFromLines(normal()), { spot: SPOT, nowMs: NOW, model: 'classic' });
    const r = computeGex(chainFromLines([...normal(), fiveMinutes]), { spot: SPOT, nowMs: NOW, model: 'classic' });
    expect(r.includedLines).toBe(base.includedLines);
    expect(r.totalNetGex).toBe(base.totalNetGex);
    expect(r.zeroGammaLevel).toBe(base.zeroGammaLevel);
    expect(Array.from(r.strikes)).toEqual(Array.from(base.strikes));
    const T = 5 / (60 * 24 * 365);
    const g = gamma(100_050, 100_000, 0.4, T) * 100_050 ** 2 * 0.01 * 400;
    const grossBase = base.callGex.reduce((s, v) => s + Math.abs(v), 0) + base.putGex.reduce((s, v) => s + Math.abs(v), 0);
    expect(r.expiring.lines).toBe(1);
    expect(r.expiring.included).toBe(false);
    expect(r.expiring.pinStrike).toBe(100_000);
    // gross per strike sums call and put of a strike, so compare with the per-line gross of the base
    const p = new PreparedLines();
    prepareLines(chainFromLines(normal()), NOW, classic, {}, p);
    let perLineGross = 0;
    for (let j = 0; j < p.count; j++) perLineGross += Math.abs(p.dollarGamma[j]);
    expect(grossBase).toBeGreaterThan(0);
    expect(r.expiring.grossGammaShare).toBeCloseTo(g / (g + perLineGross), 12);
    expect(r.expiring.grossGammaShare).toBeGreaterThan(0.1); // why it would decide everything if summed
  });

  it('with expiring=1 they are summed and the sweep does not step over a narrow spike', () => {
    // A thin expiring call 25 % out: its spike (s = 0.12 %) is outside the profile's fine grid and
    // crosses the background twice, 0.025 % apart, far inside one 0.25 % bracketing step.
    const thin: LineSpec = { strike: 125_000, expiryMs: fiveMinutes.expiryMs, isCall: true, markIv: 0.4, forward: 100_050, openInterest: 10 };
    const chain = chainFromLines([...normal(), fiveMinutes, thin]);
    const r = computeGex(chain, { spot: SPOT, nowMs: NOW, model: 'classic', includeExpiring: true });
    expect(r.expiring).toMatchObject({ lines: 2, included: true, pinStrike: 100_000 });
    // Oracle: sign changes on a uniform grid of 1e-6 across the spike.
    const p = new PreparedLines();
    prepareLines(chain, NOW, classic, { includeExpiring: true }, p);
    const oracle: number[] = [];
    let prev = netGexAt(p, 0.24);
    for (let k = 1; k <= 20_000; k++) {
      const x = 0.24 + k * 1e-6;
      const v = netGexAt(p, x);
      if (v > 0 !== prev > 0) oracle.push(SPOT * (1 + x));
      prev = v;
    }
    expect(oracle.length).toBe(2);
    expect(oracle[1] - oracle[0]).toBeLessThan(0.0025 * SPOT); // both inside one default step
    const found = r.zeroGammaCrossings.filter((x) => x > 124_000 && x < 126_000).sort((a, b) => a - b);
    expect(found.length).toBe(2);
    found.forEach((x, k) => expect(Math.abs(x - oracle[k])).toBeLessThan(1e-4 * SPOT));
  });

  it('zero gamma stays still as the clock runs through the last hour (no flicker)', () => {
    const levels = new Set<number | null>();
    for (let m = 59; m >= 1; m -= 2) {
      const now = Date.UTC(2025, 2, 21, 8) - m * 60_000;
      const r = computeGex(chainFromLines([...normal().map((l) => ({ ...l, expiryMs: l.expiryMs - NOW + Date.UTC(2025, 2, 21, 7) })), fiveMinutes]), { spot: SPOT, nowMs: now, model: 'classic' });
      expect(r.expiring.lines).toBe(1);
      levels.add(r.zeroGammaLevel === null ? null : Math.round(r.zeroGammaLevel / 500));
    }
    expect(levels.size).toBe(1);
  });
});

describe('numerical guards', () => {
  it('an IV of 1e-6 is excluded as absurd, so one line cannot decide the totals', () => {
    const bad: LineSpec = { ...fiveMinutes, expiryMs: NOW + 30 * 86_400_000, markIv: 1e-6, forward: 100_000 };
    const base = computeGex(chainFromLines(normal()), { spot: SPOT, nowMs: NOW, model: 'classic' });
    const r = computeGex(chainFromLines([...normal(), bad]), { spot: SPOT, nowMs: NOW, model: 'classic' });
    expect(r.excluded.ivAbsurd).toBe(1);
    expect(r.totalNetGex).toBe(base.totalNetGex);
    expect(r.regime).toBe(base.regime);
    const atFloor = computeGex(chainFromLines([{ ...bad, markIv: 0.01 }]), { spot: SPOT, nowMs: NOW, model: 'classic' });
    expect(atFloor.excluded.ivAbsurd).toBe(0);
  });

  it('a non-finite total is an error, never a flat regime', () => {
    const huge: LineSpec = { strike: 1e200, expiryMs: NOW + 30 * 86_400_000, isCall: true, markIv: 0.5, forward: 1e200, openInterest: 1e200 };
    const r = computeGex(chainFromLines([huge, { ...huge, isCall: false }]), { spot: SPOT, nowMs: NOW, model: 'classic' });
    expect(Number.isFinite(r.totalNetGex)).toBe(false);
    expect(r.regime).toBe('invalid');
  });
});
