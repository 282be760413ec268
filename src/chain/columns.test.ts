import { describe, expect, it } from 'vitest';
import { chainFromLines } from '../engine/fixtures.ts';
import { concatColumns } from './columns.ts';

describe('concatColumns', () => {
  const a = chainFromLines([{ strike: 100, expiryMs: 1, isCall: true, markIv: 0.5, forward: 101, openInterest: 3 }]);
  const b = chainFromLines([
    { strike: 90, expiryMs: 2, isCall: false, markIv: 0.6, forward: 102, openInterest: 4, multiplier: 0.1 },
    { strike: 110, expiryMs: 2, isCall: true, markIv: 0.4, forward: 102, openInterest: 5 },
  ]);
  b.listedMs = Float64Array.from([7, 8]);
  it('puts every column of every part side by side, unknown listing times as NaN', () => {
    const c = concatColumns([a, b], null);
    expect(c.length).toBe(3);
    expect(Array.from(c.strike.subarray(0, 3))).toEqual([100, 90, 110]);
    expect(Array.from(c.isCall.subarray(0, 3))).toEqual([1, 0, 1]);
    expect(Array.from(c.multiplier.subarray(0, 3))).toEqual([1, 0.1, 1]);
    expect(Array.from(c.listedMs!.subarray(0, 3))).toEqual([NaN, 7, 8]);
  });
  it('reuses a scratch that is big enough', () => {
    const first = concatColumns([a, b], null);
    expect(concatColumns([b], first)).toBe(first);
    expect(first.length).toBe(2);
  });
});
