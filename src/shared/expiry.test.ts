import { describe, expect, it } from 'vitest';
import { expiryLabel, parseExpiryLabel } from './expiry.ts';
import { VENUE_IDS, isVenueId, venueLabel } from './venues.ts';

describe('the one expiry label', () => {
  it('formats and parses 08:00 UTC labels, day without a leading zero', () => {
    expect(expiryLabel(Date.UTC(2024, 11, 27, 8))).toBe('27DEC24');
    expect(expiryLabel(Date.UTC(2025, 0, 3, 8))).toBe('3JAN25');
    for (const ms of [Date.UTC(2024, 11, 27, 8), Date.UTC(2025, 0, 3, 8), Date.UTC(2028, 1, 29, 8)]) expect(parseExpiryLabel(expiryLabel(ms))).toBe(ms);
  });
  it('refuses what is not a real date or not a label', () => {
    for (const bad of ['31FEB25', '29FEB25', '0JAN25', '32JAN25', '27Dec24', '27DEC2024', 'constructor', '', '27XYZ24']) expect(parseExpiryLabel(bad), bad).toBeNull();
    expect(parseExpiryLabel('29FEB28')).toBe(Date.UTC(2028, 1, 29, 8));
  });
});

describe('the one venue list', () => {
  it('names every venue once, with labels, and refuses prototype names', () => {
    expect(VENUE_IDS).toEqual(['deribit', 'okx', 'bybit', 'binance']);
    expect(venueLabel('okx')).toBe('OKX');
    for (const x of ['constructor', '__proto__', 'DERIBIT', 5]) expect(isVenueId(x)).toBe(false);
  });
});
