import { describe, expect, it } from 'vitest';
import { chainFromLines, syntheticChain, type LineSpec } from './fixtures.ts';
import { charm, delta, vanna } from './black76.ts';
import { computeGex, DEFAULT_MOVES, dealerDeltaAt, nearestExpiry } from './index.ts';
import { PreparedLines, prepareLines } from './exposure.ts';
import { classic } from './dealer-sign.ts';
import { scenarioLadder } from './scenarios.ts';
import { feedbackEstimate, priceImpact } from './feedback.ts';
import type { VisibleDepth } from './types.ts';

const YEAR = 365 * 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 2, 20, 9);

// Three expiries (tomorrow 08:00, a week, a quarter), calls and puts around F = 100.
const rows: LineSpec[] = [
  { strike: 105, expiryMs: NOW + 23 * HOUR, isCall: false, markIv: 0.55, forward: 100.2, openInterest: 30 }, // in the money
  { strike: 95, expiryMs: NOW + 23 * HOUR, isCall: true, markIv: 0.5, forward: 100.2, openInterest: 20 }, // in the money
  { strike: 90, expiryMs: NOW + 7 * 24 * HOUR, isCall: false, markIv: 0.6, forward: 100.5, openInterest: 40 },
  { strike: 100, expiryMs: NOW + 7 * 24 * HOUR, isCall: true, markIv: 0.52, forward: 100.5, openInterest: 25, multiplier: 0.1 },
  { strike: 120, expiryMs: NOW + 90 * 24 * HOUR, isCall: true, markIv: 0.48, forward: 101, openInterest: 60 },
  { strike: 80, expiryMs: NOW + 90 * 24 * HOUR, isCall: false, markIv: 0.7, forward: 101, openInterest: 15 },
];
const T = (r: LineSpec, h = 0) => (r.expiryMs - NOW - h * HOUR) / YEAR;
const sign = (r: LineSpec, model: 'classic' | 'short') => (model === 'short' ? -1 : r.isCall ? 1 : -1);
const w = (r: LineSpec, model: 'classic' | 'short') => sign(r, model) * r.openInterest * (r.multiplier ?? 1);

describe('per-strike exposures (design: "Beyond gamma")', () => {
  for (const model of ['classic', 'short'] as const) {
    it(`delta, vanna per vol point and charm per day equal the literal Black-76 sums (${model})`, () => {
      const r = computeGex(chainFromLines(rows), { spot: 100, nowMs: NOW, model });
      const byStrike = new Map<number, { d: number; v: number; c: number }>();
      for (const l of rows) {
        const e = byStrike.get(l.strike) ?? { d: 0, v: 0, c: 0 };
        e.d += w(l, model) * delta(l.forward, l.strike, l.markIv, T(l), l.isCall);
        e.v += w(l, model) * vanna(l.forward, l.strike, l.markIv, T(l)) * 0.01;
        e.c += (w(l, model) * charm(l.forward, l.strike, l.markIv, T(l))) / 365;
        byStrike.set(l.strike, e);
      }
      let td = 0;
      let tv = 0;
      let tc = 0;
      r.strikes.forEach((K, k) => {
        const e = byStrike.get(K)!;
        expect(r.deltaExposure[k]).toBeCloseTo(e.d, 12);
        expect(r.vannaExposure[k]).toBeCloseTo(e.v, 12);
        expect(r.charmExposure[k]).toBeCloseTo(e.c, 12);
        td += e.d;
        tv += e.v;
        tc += e.c;
      });
      expect(r.totalDeltaExposure).toBeCloseTo(td, 12);
      expect(r.totalVannaExposure).toBeCloseTo(tv, 12);
      expect(r.totalCharmExposure).toBeCloseTo(tc, 12);
    });
  }

  it('vanna and charm are the finite differences of delta in vol and in time', () => {
    const [F, K, s, t] = [100, 108, 0.6, 0.1];
    const h = 1e-5;
    expect(vanna(F, K, s, t)).toBeCloseTo((delta(F, K, s + h, t, true) - delta(F, K, s - h, t, true)) / (2 * h), 6);
    // charm is the drift of delta as time passes: minus its derivative in time to expiry
    expect(charm(F, K, s, t)).toBeCloseTo(-(delta(F, K, s, t + h, false) - delta(F, K, s, t - h, false)) / (2 * h), 5);
  });
});

describe('scenario ladder (design: "Beyond gamma")', () => {
  const axes = { moves: [-0.05, 0, 0.03], hours: [0, 1, 23, 30], volShifts: [-0.05, 0, 0.02] };
  const prep = (model: 'classic' | 'short') => {
    const p = new PreparedLines();
    prepareLines(chainFromLines(rows), NOW, model === 'short' ? { id: 'short', label: '', fillPositions: (c, l, n, o) => { for (let j = 0; j < n; j++) o[j] = -c.openInterest[l[j]]; } } : classic, {}, p);
    return p;
  };
  /** The design's formula, literally: a line that expires by the horizon contributes 0. */
  const handDelta = (model: 'classic' | 'short', m: number, h: number, dv: number) =>
    rows.reduce((sum, l) => {
      const t = T(l, h);
      if (!(t > 0)) return sum;
      return sum + w(l, model) * delta(l.forward * (1 + m), l.strike, Math.max(l.markIv + dv, 0.01), t, l.isCall);
    }, 0);

  for (const model of ['classic', 'short'] as const) {
    it(`every scenario equals -(D(S(1+m), t+h, sigma+dsigma) - D(S, t, sigma)) by hand (${model})`, () => {
      const g = scenarioLadder(prep(model), 100, axes);
      const d0 = handDelta(model, 0, 0, 0);
      axes.moves.forEach((m, mi) =>
        axes.hours.forEach((h, hi) =>
          axes.volShifts.forEach((v, vi) => {
            const k = (mi * axes.hours.length + hi) * axes.volShifts.length + vi;
            const units = -(handDelta(model, m, h, v) - d0);
            expect(g.units[k]).toBeCloseTo(units, 10);
            expect(g.usd[k]).toBeCloseTo(units * 100 * (1 + m), 8);
          }),
        ),
      );
    });
  }

  it('the (0, now, 0) scenario is exactly 0 and the now/no-shift column is the spot-only hedge flow', () => {
    const r = computeGex(chainFromLines(rows), { spot: 100, nowMs: NOW, model: 'classic', scenarios: { moves: DEFAULT_MOVES, hours: [0], volShifts: [0] } });
    const g = r.scenarios!;
    expect(g.units[10]).toBe(0);
    for (let k = 0; k < DEFAULT_MOVES.length; k++) expect(g.units[k]).toBeCloseTo(r.hedgeFlowUnits[k], 10);
  });

  it('the tomorrow expiry drops out past its 08:00: dealers unwind that hedge (23 h here)', () => {
    const p = prep('classic');
    const g = scenarioLadder(p, 100, { moves: [0], hours: [22.99, 23], volShifts: [0] });
    const expiring = rows.filter((l) => l.expiryMs === NOW + 23 * HOUR);
    const hedgeOfExpiring = expiring.reduce((s, l) => s + w(l, 'classic') * delta(l.forward, l.strike, l.markIv, T(l), l.isCall), 0);
    // at 23 h exactly the line has expired: its whole delta leaves the book
    const rest = rows.filter((l) => l.expiryMs !== NOW + 23 * HOUR);
    const restDrift = rest.reduce((s, l) => s + w(l, 'classic') * (delta(l.forward, l.strike, l.markIv, T(l, 23), l.isCall) - delta(l.forward, l.strike, l.markIv, T(l), l.isCall)), 0);
    expect(g.units[1]).toBeCloseTo(hedgeOfExpiring - restDrift, 10);
    expect(Math.abs(g.units[1] - g.units[0])).toBeGreaterThan(1); // the unwind is a jump, not a drift
  });

  it('vol shifts are floored at 1 vol point', () => {
    const p = prep('classic');
    const floor = scenarioLadder(p, 100, { moves: [0.02], hours: [0], volShifts: [-0.9, -5] });
    expect(floor.units[0]).toBe(floor.units[1]);
    expect(Number.isFinite(floor.units[0])).toBe(true);
  });
});

describe('after the next expiry', () => {
  it('leaves out the nearest selected expiry only', () => {
    const chain = chainFromLines(rows);
    const all = computeGex(chain, { spot: 100, nowMs: NOW, model: 'classic' });
    const after = computeGex(chain, { spot: 100, nowMs: NOW, model: 'classic', afterNextExpiry: true });
    expect(after.droppedExpiryMs).toBe(NOW + 23 * HOUR);
    expect(after.includedLines).toBe(all.includedLines - 2);
    expect(Array.from(after.expiries)).toEqual(Array.from(all.expiries).slice(1));
    expect(after.nextExpiryMs).toBe(NOW + 7 * 24 * HOUR);
    expect(after.totalNetGex).toBeCloseTo(all.totalNetGex - all.netGexByExpiry[0], 9);
    const only = computeGex(chain, { spot: 100, nowMs: NOW, model: 'classic', afterNextExpiry: true, expiries: new Set([NOW + 90 * 24 * HOUR, NOW + 7 * 24 * HOUR]) });
    expect(only.droppedExpiryMs).toBe(NOW + 7 * 24 * HOUR);
    expect(nearestExpiry(chain, NOW + 24 * HOUR)).toBe(NOW + 7 * 24 * HOUR);
  });
});

describe('feedback estimate (design: "Beyond gamma")', () => {
  const depth: VisibleDepth = { bandPct: [0.5, 1, 2], bidUnits: [10, 30, 70], askUnits: [20, 40, 80] };

  it('walks the book: depth spread evenly inside each band, null beyond the visible depth', () => {
    expect(priceImpact(depth, 0)).toBe(0);
    expect(priceImpact(depth, 10)).toBeCloseTo(0.0025, 15); // half of the first ask band
    expect(priceImpact(depth, 30)).toBeCloseTo(0.0075, 15); // half of the 0.5-1 % band
    expect(priceImpact(depth, -50)).toBeCloseTo(-0.015, 15);
    expect(priceImpact(depth, 80)).toBeCloseTo(0.02, 15);
    expect(priceImpact(depth, 80.01)).toBeNull();
    expect(priceImpact(depth, -70.5)).toBeNull();
  });

  it('short gamma amplifies, long gamma dampens, a thin book runs away', () => {
    const chain = syntheticChain(400, 100_000, NOW, 3);
    const p = new PreparedLines();
    const shortModel = { id: 'short' as const, label: '', fillPositions: (c: typeof chain, l: Int32Array, n: number, o: Float64Array) => { for (let j = 0; j < n; j++) o[j] = -c.openInterest[l[j]]; } };
    prepareLines(chain, NOW, shortModel, {}, p);
    // a book as deep as the first round's flow within 0.5 %
    const f = Math.abs(-(dealerDeltaAt(p, -0.02) - dealerDeltaAt(p, 0)));
    expect(f).toBeGreaterThan(1);
    const deep: VisibleDepth = { bandPct: [0.5, 1, 2], bidUnits: [f, 2 * f, 4 * f], askUnits: [f, 2 * f, 4 * f] };
    const down = feedbackEstimate(p, deep, -0.02);
    expect(down.status).toBe('converged');
    expect(down.move).toBeLessThan(-0.02); // dealers short gamma sell into the fall
    // the converged move is a fixed point: shock + impact(flow(move))
    expect(Math.abs(-0.02 + priceImpact(deep, down.flowUnits)! - down.move)).toBeLessThan(1e-4);
    const thin: VisibleDepth = { bandPct: [0.5, 1, 2], bidUnits: [f / 10, f / 5, f / 3], askUnits: [f / 10, f / 5, f / 3] };
    expect(feedbackEstimate(p, thin, -0.02).status).toBe('runaway');

    const long = new PreparedLines();
    prepareLines(chain, NOW, { id: 'classic', label: '', fillPositions: (c, l, n, o) => { for (let j = 0; j < n; j++) o[j] = c.openInterest[l[j]]; } }, {}, long);
    const up = feedbackEstimate(long, deep, 0.02);
    expect(up.status).toBe('converged');
    expect(up.move).toBeLessThan(0.02); // long gamma sells the rally
    expect(up.move).toBeGreaterThan(0);
  });
});

describe('through computeGex', () => {
  it('"through the next expiry" is the hours to the nearest expiry in the sums, where its lines drop out', () => {
    const chain = chainFromLines(rows);
    const r = computeGex(chain, { spot: 100, nowMs: NOW, model: 'classic', scenarios: { moves: [-0.02, 0, 0.02], hours: [0, 'nextExpiry'], volShifts: [0] } });
    expect(r.scenarios!.hours).toEqual([0, 23]);
    const explicit = computeGex(chain, { spot: 100, nowMs: NOW, model: 'classic', scenarios: { moves: [-0.02, 0, 0.02], hours: [0, 23], volShifts: [0] } });
    expect(Array.from(r.scenarios!.units)).toEqual(Array.from(explicit.scenarios!.units));
    // after the next expiry, "next" is the week's expiry
    const after = computeGex(chain, { spot: 100, nowMs: NOW, model: 'classic', afterNextExpiry: true, scenarios: { moves: [0], hours: ['nextExpiry'], volShifts: [0] } });
    expect(after.scenarios!.hours).toEqual([7 * 24]);
  });
  it('feedback for each shock against the visible depth given', () => {
    const chain = chainFromLines(rows);
    const depth: VisibleDepth = { bandPct: [0.5, 1, 2], bidUnits: [5, 10, 20], askUnits: [5, 10, 20] };
    const r = computeGex(chain, { spot: 100, nowMs: NOW, model: 'short', visibleDepth: depth, feedbackShocks: [-0.02, 0.02] });
    const p = new PreparedLines();
    prepareLines(chain, NOW, { id: 'short', label: '', fillPositions: (c, l, n, o) => { for (let j = 0; j < n; j++) o[j] = -c.openInterest[l[j]]; } }, {}, p);
    expect(r.feedback).toEqual([feedbackEstimate(p, depth, -0.02), feedbackEstimate(p, depth, 0.02)]);
    expect(computeGex(chain, { spot: 100, nowMs: NOW, model: 'short' }).feedback).toBeNull();
  });
});
