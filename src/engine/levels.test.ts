import { describe, expect, it } from 'vitest';
import { callWall, gammaRegime, largestAbsGammaStrike, putWall } from './levels.ts';
import { chainFromLines } from './fixtures.ts';
import { computeGex } from './index.ts';

const f = (a: number[]) => Float64Array.from(a);

describe('key levels', () => {
  const strikes = f([80, 90, 100, 110, 120]);
  it('call wall: largest call exposure in magnitude (positive under classic, negative under short)', () => {
    expect(callWall(strikes, f([0, 5, 3, 9, 2]))).toBe(110);
    expect(callWall(strikes, f([-1, -5, -3, -9, -2]))).toBe(110);
    expect(callWall(strikes, f([0, 0, 0, 0, 0]))).toBeNull();
  });
  it('put wall: largest put exposure in magnitude', () => {
    expect(putWall(strikes, f([-4, -12, -3, 0, 0]))).toBe(90);
    expect(putWall(strikes, f([0, 0, 0, 0, 0]))).toBeNull();
  });
  it('largest absolute net gamma strike', () => {
    expect(largestAbsGammaStrike(strikes, f([1, -20, 3, 19, 0]))).toBe(90);
  });
  it('regime', () => {
    expect(gammaRegime(1)).toBe('positive');
    expect(gammaRegime(-1e-9)).toBe('negative');
    expect(gammaRegime(0)).toBe('flat');
  });
  it('through computeGex on a chain', () => {
    const Y = 365 * 86_400_000;
    const l = (strike: number, isCall: boolean, oi: number) => ({ strike, expiryMs: Y / 12, isCall, markIv: 0.6, forward: 100, openInterest: oi });
    const r = computeGex(chainFromLines([l(90, false, 50), l(95, false, 10), l(105, true, 10), l(110, true, 30), l(100, true, 5)]), {
      spot: 100,
      nowMs: 0,
      model: 'classic',
    });
    expect(r.callWall).toBe(110);
    expect(r.putWall).toBe(90);
    expect(r.largestAbsGammaStrike).toBe(90);
  });
});
