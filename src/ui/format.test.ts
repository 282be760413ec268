import { describe, expect, it } from 'vitest';
import {
  fmtAge, fmtCoin, fmtFunding, fmtLevel, fmtMove, fmtPct, fmtSignedPct, fmtSignedUsd, fmtSpot, fmtStrike, fmtTimeUtc, fmtUsd,
} from './format.ts';

describe('format', () => {
  it('USD with K/M/B/T and three significant figures', () => {
    expect(fmtUsd(0)).toBe('$0.00');
    expect(fmtUsd(512)).toBe('$512');
    expect(fmtUsd(1234)).toBe('$1.23K');
    expect(fmtUsd(12_345_678)).toBe('$12.3M');
    expect(fmtUsd(-456_000)).toBe('-$456K');
    expect(fmtUsd(999_700)).toBe('$1.00M');
    expect(fmtUsd(2.5e9)).toBe('$2.50B');
    expect(fmtUsd(3.1e12)).toBe('$3.10T');
    expect(fmtUsd(NaN)).toBe('—');
    expect(fmtUsd(null)).toBe('—');
  });
  it('signed flows', () => {
    expect(fmtSignedUsd(1_500_000)).toBe('+$1.50M');
    expect(fmtSignedUsd(-20_000)).toBe('-$20.0K');
    expect(fmtSignedUsd(0)).toBe('$0.00');
    expect(fmtCoin(12.3456, 'BTC', true)).toBe('+12.35 BTC');
    expect(fmtCoin(-1234.56, 'ETH', true)).toBe('-1,234.6 ETH');
    expect(fmtCoin(25_000, 'ETH')).toBe('25,000 ETH');
    expect(fmtCoin(0, 'BTC', true)).toBe('0.00 BTC');
  });
  it('strikes, levels and spot with thousands separators', () => {
    expect(fmtStrike(100000)).toBe('100,000');
    expect(fmtStrike(3250)).toBe('3,250');
    expect(fmtLevel(97123.6)).toBe('97,124');
    expect(fmtLevel(812.345)).toBe('812.35');
    expect(fmtSpot(97123.456)).toBe('97,123.46');
    expect(fmtLevel(Infinity)).toBe('—');
  });
  it('percentages and moves', () => {
    expect(fmtSignedPct(0.0123)).toBe('+1.23%');
    expect(fmtSignedPct(-0.05)).toBe('-5.00%');
    expect(fmtSignedPct(-0.00001)).toBe('0.00%');
    expect(fmtPct(0.2)).toBe('20.0%');
    expect(fmtMove(-0.1)).toBe('-10%');
    expect(fmtMove(0.01)).toBe('+1%');
    expect(fmtMove(0)).toBe('0%');
    expect(fmtFunding(0.0001)).toBe('+0.0100%');
  });
  it('ages and times', () => {
    expect(fmtAge(400)).toBe('0.4 s');
    expect(fmtAge(12_300)).toBe('12 s');
    expect(fmtAge(185_000)).toBe('3 m 05 s');
    expect(fmtAge(7_380_000)).toBe('2 h 03 m');
    expect(fmtAge(-1)).toBe('—');
    expect(fmtTimeUtc(Date.UTC(2024, 11, 27, 8, 0, 5))).toBe('08:00:05');
  });
});
