import { describe, expect, it } from 'vitest';
import { documentTitle } from './title.ts';

describe('document title', () => {
  const base = { currency: 'BTC', venues: ['deribit'] as const, source: 'live' as const, stale: false };
  it('names the currency, zero gamma and regime', () => {
    expect(documentTitle({ ...base, gex: { zeroGammaLevel: 80_040.4, regime: 'positive' } })).toBe('BTC · zero γ 80,040 · positive γ · gexdesk');
    expect(documentTitle({ ...base, currency: 'ETH', gex: { zeroGammaLevel: null, regime: 'negative' } })).toBe('ETH · zero γ none · negative γ · gexdesk');
  });
  it('says when it is not live, not current, or waiting', () => {
    expect(documentTitle({ ...base, source: 'sim', stale: true, gex: { zeroGammaLevel: 2_400, regime: 'flat' } })).toBe('STALE · BTC · zero γ 2,400 · flat γ · SIM · gexdesk');
    expect(documentTitle({ ...base, source: 'replay', gex: null })).toBe('BTC · waiting for data · REPLAY · gexdesk');
  });
  it('names the venues unless Deribit alone', () => {
    expect(documentTitle({ ...base, venues: ['okx', 'bybit'], gex: null })).toBe('BTC okx+bybit · waiting for data · gexdesk');
  });
});
