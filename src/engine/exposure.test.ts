import { describe, expect, it } from 'vitest';
import { chainFromLines } from './fixtures.ts';
import { PreparedLines, dollarGammaPerPct, prepareLines } from './exposure.ts';
import { exposureByStrike, netGexByExpiry, netGexByStrikeExpiry } from './by-strike.ts';
import { classic, short } from './dealer-sign.ts';
import { computeGex, dealerPositionModel } from './index.ts';

const YEAR = 365 * 86_400_000;
// Hand values: F = K = 100, sigma = 0.5, T = 1 -> d1 = 0.25, phi(0.25) = 0.38666811680284924,
// gamma = phi / (F sigma sqrt T) = 0.007733362336056985; dollar gamma per 1 % of 1 coin =
// gamma * F^2 * 0.01 = 0.77333623360569848 USD.
const DG1 = 0.7733362336056985;

const atm = (isCall: boolean, oi: number, extra: Partial<Parameters<typeof chainFromLines>[0][0]> = {}) => ({
  strike: 100,
  expiryMs: YEAR,
  isCall,
  markIv: 0.5,
  forward: 100,
  openInterest: oi,
  ...extra,
});

describe('dollar gamma and dealer signs on a hand-computed chain', () => {
  const chain = chainFromLines([atm(true, 10), atm(false, 4), atm(true, 2, { strike: 120, multiplier: 0.1 })]);
  // line 3: K = 120 -> d1 = (ln(100/120) + 0.125) / 0.5 = -0.11464311358790925
  const d = (Math.log(100 / 120) + 0.125) / 0.5;
  const dg3 = (Math.exp(-0.5 * d * d) / Math.sqrt(2 * Math.PI) / 50) * 100 * 100 * 0.01 * 2 * 0.1;

  it('dollarGammaPerPct = gamma F^2 0.01 OI multiplier', () => {
    expect(dollarGammaPerPct(0.007733362336056985, 100, 10, 1)).toBeCloseTo(10 * DG1, 12);
  });
  it('classic: calls +, puts -', () => {
    const r = computeGex(chain, { spot: 100, nowMs: 0, model: 'classic' });
    expect(Array.from(r.strikes)).toEqual([100, 120]);
    expect(r.callGex[0]).toBeCloseTo(10 * DG1, 10);
    expect(r.putGex[0]).toBeCloseTo(-4 * DG1, 10);
    expect(r.netGex[0]).toBeCloseTo(6 * DG1, 10);
    expect(r.callGex[1]).toBeCloseTo(dg3, 10);
    expect(r.putGex[1]).toBe(0);
    expect(r.totalNetGex).toBeCloseTo(6 * DG1 + dg3, 10);
    expect(r.totalCallGex).toBeCloseTo(10 * DG1 + dg3, 10);
    expect(r.totalPutGex).toBeCloseTo(-4 * DG1, 10);
    expect(r.regime).toBe('positive');
    expect(r.includedLines).toBe(3);
  });
  it('short: every line negative', () => {
    const r = computeGex(chain, { spot: 100, nowMs: 0, model: 'short' });
    expect(r.callGex[0]).toBeCloseTo(-10 * DG1, 10);
    expect(r.putGex[0]).toBeCloseTo(-4 * DG1, 10);
    expect(r.totalNetGex).toBeCloseTo(-14 * DG1 - dg3, 10);
    expect(r.regime).toBe('negative');
    expect(r.model).toBe('short');
  });
  it('profile at x = 0 equals the total, and the centre of the profile is spot', () => {
    const r = computeGex(chain, { spot: 100, nowMs: 0, model: 'classic' });
    expect(r.profileSpots.length).toBe(401);
    expect(r.profileSpots[200]).toBe(100);
    expect(r.profileNetGex[200]).toBeCloseTo(r.totalNetGex, 10);
  });
  it('dealer position models by id', () => {
    expect(dealerPositionModel('short')).toBe(short);
    expect(dealerPositionModel('classic')).toBe(classic);
    expect(dealerPositionModel('flow').id).toBe('flow');
  });
});

describe('expiry filter and per-expiry sums', () => {
  const chain = chainFromLines([atm(true, 10), atm(false, 4, { expiryMs: YEAR / 2 }), atm(true, 1, { expiryMs: YEAR / 2 })]);
  it('only selected expiries enter the sums; others are not counted as excluded', () => {
    const r = computeGex(chain, { spot: 100, nowMs: 0, model: 'classic', expiries: new Set([YEAR]) });
    expect(r.includedLines).toBe(1);
    expect(r.totalNetGex).toBeCloseTo(10 * DG1, 10);
    expect(Object.values(r.excluded).reduce((a, b) => a + b, 0)).toBe(0);
  });
  it('per-expiry net GEX, ascending', () => {
    const lines = new PreparedLines();
    prepareLines(chain, 0, classic, {}, lines);
    const e = netGexByExpiry(chain, lines);
    expect(Array.from(e.expiries)).toEqual([YEAR / 2, YEAR]);
    // half-year ATM: d1 = 0.125 sqrt(2)... computed directly
    const s = 0.5 * Math.sqrt(0.5);
    const dgHalf = (Math.exp(-0.5 * (s / 2) ** 2) / Math.sqrt(2 * Math.PI) / (100 * s)) * 100;
    expect(e.netGex[0]).toBeCloseTo(-3 * dgHalf, 10);
    expect(e.netGex[1]).toBeCloseTo(10 * DG1, 10);
    const k = exposureByStrike(chain, lines);
    expect(k.netGex[0]).toBeCloseTo(10 * DG1 - 3 * dgHalf, 10);
  });
});

describe('net GEX by strike and expiry', () => {
  // Two expiries (half a year, a year) x two strikes (100, 120); one put at 100 in each expiry.
  const chain = chainFromLines([
    atm(true, 10), atm(false, 4), atm(false, 2, { expiryMs: YEAR / 2 }), atm(true, 2, { strike: 120, multiplier: 0.1, expiryMs: YEAR / 2 }),
  ]);
  const s = 0.5 * Math.sqrt(0.5);
  const dgHalf = (Math.exp(-0.5 * (s / 2) ** 2) / Math.sqrt(2 * Math.PI) / (100 * s)) * 100; // ATM, half a year, 1 coin
  const d = (Math.log(100 / 120) + 0.5 * s * s) / s;
  const dg120Half = (Math.exp(-0.5 * d * d) / Math.sqrt(2 * Math.PI) / (100 * s)) * 100 * 100 * 0.01 * 2 * 0.1;

  it('each cell is the hand sum of its lines, strike-major', () => {
    const r = computeGex(chain, { spot: 100, nowMs: 0, model: 'classic' });
    expect(Array.from(r.strikes)).toEqual([100, 120]);
    expect(Array.from(r.expiries)).toEqual([YEAR / 2, YEAR]);
    const cell = (k: number, e: number) => r.netGexByStrikeExpiry[k * 2 + e];
    expect(r.netGexByStrikeExpiry.length).toBe(4);
    expect(cell(0, 0)).toBeCloseTo(-2 * dgHalf, 10);
    expect(cell(0, 1)).toBeCloseTo(10 * DG1 - 4 * DG1, 10);
    expect(cell(1, 0)).toBeCloseTo(dg120Half, 10);
    expect(cell(1, 1)).toBe(0);
  });
  it('sums to net GEX by strike across expiries and by expiry across strikes', () => {
    const lines = new PreparedLines();
    prepareLines(chain, 0, short, {}, lines);
    const k = exposureByStrike(chain, lines);
    const e = netGexByExpiry(chain, lines);
    const m = netGexByStrikeExpiry(chain, lines, k.strikes, e.expiries);
    for (let i = 0; i < k.strikes.length; i++) expect(m[i * 2] + m[i * 2 + 1]).toBeCloseTo(k.netGex[i], 10);
    for (let j = 0; j < e.expiries.length; j++) expect(m[j] + m[2 + j]).toBeCloseTo(e.netGex[j], 10);
  });
  it('no expiries: an empty grid', () => {
    expect(computeGex(chainFromLines([]), { spot: 100, nowMs: 0, model: 'classic' }).netGexByStrikeExpiry.length).toBe(0);
  });
});

describe('exclusions by reason', () => {
  it('counts each invalid line once, by its reason, and keeps them out of the sums', () => {
    const chain = chainFromLines([
      atm(true, 10),
      atm(true, 10, { expiryMs: 0 }), // expired (T = 0)
      atm(true, 10, { expiryMs: -5 }), // expired
      atm(true, 10, { markIv: NaN }),
      atm(true, 10, { markIv: 0 }),
      atm(true, 10, { markIv: -0.2 }),
      atm(true, 10, { markIv: 1e9 }),
      atm(true, 10, { markIv: Infinity }),
      atm(true, NaN),
      atm(true, -1),
      atm(true, 10, { strike: 0 }),
      atm(true, 10, { strike: NaN }),
      atm(true, 10, { forward: -3 }),
      atm(true, 10, { forward: Infinity }),
      atm(true, 10, { multiplier: 0 }),
      atm(true, 0), // valid, zero OI
    ]);
    const r = computeGex(chain, { spot: 100, nowMs: 0, model: 'classic' });
    expect(r.excluded).toEqual({
      expired: 2,
      ivMissing: 1,
      ivNonPositive: 2,
      ivAbsurd: 2,
      oiMissing: 1,
      oiNegative: 1,
      strikeInvalid: 2,
      forwardInvalid: 2,
      multiplierInvalid: 1,
    });
    expect(r.includedLines).toBe(2);
    expect(r.totalNetGex).toBeCloseTo(10 * DG1, 10);
    for (const v of r.profileNetGex) expect(Number.isFinite(v)).toBe(true);
    for (const v of r.hedgeFlowUnits) expect(Number.isFinite(v)).toBe(true);
  });
  it('an empty chain gives zeros, no levels and no zero gamma', () => {
    const r = computeGex(chainFromLines([]), { spot: 100, nowMs: 0, model: 'classic' });
    expect(r.strikes.length).toBe(0);
    expect(r.totalNetGex).toBe(0);
    expect(r.zeroGammaLevel).toBeNull();
    expect(r.callWall).toBeNull();
    expect(r.putWall).toBeNull();
    expect(r.regime).toBe('flat');
  });
});

describe('zero-OI lines', () => {
  it('are included and listed per strike, and change no sum', () => {
    const base = [atm(true, 10), atm(false, 4, { strike: 90 }), atm(true, 3, { strike: 130 })];
    const withZeros = [atm(false, 0, { strike: 70 }), ...base.slice(0, 2), atm(true, 0, { strike: 150 }), base[2], atm(false, 0)];
    const a = computeGex(chainFromLines(base), { spot: 100, nowMs: 0, model: 'classic' });
    const b = computeGex(chainFromLines(withZeros), { spot: 100, nowMs: 0, model: 'classic' });
    expect(b.includedLines).toBe(6);
    expect(Array.from(b.strikes)).toEqual([70, 90, 100, 130, 150]);
    expect(b.netGex[0]).toBe(0);
    expect(b.totalNetGex).toBeCloseTo(a.totalNetGex, 12);
    expect(b.zeroGammaLevel).toBe(a.zeroGammaLevel);
    expect(Array.from(b.profileNetGex)).toEqual(Array.from(a.profileNetGex));
    expect(Array.from(b.hedgeFlowUnits)).toEqual(Array.from(a.hedgeFlowUnits));
  });
});
