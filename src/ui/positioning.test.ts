import { describe, expect, it } from 'vitest';
import type { TapeProgress } from '../worker/protocol.ts';
import { fillWords, fmtSpan, isFilling, windowWords } from './positioning.ts';

const NOW = Date.UTC(2026, 2, 10, 12);
const H = 3_600_000;
const D = 24 * H;
const progress = (over: Partial<TapeProgress>): TapeProgress => ({
  venue: 'deribit', currency: 'BTC', history: 'filling', reach: 'window', note: 'every trade', windowStartMs: NOW - 7 * D, coveredFromMs: null,
  coveredMs: 0, trades: 0, pages: 0, fetched: 0, done: 0, etaMs: null, error: null, retryAtMs: null, ...over,
});

describe('positioning in words', () => {
  it('says spans the way a trader does', () => {
    expect([fmtSpan(40_000), fmtSpan(12 * 60_000), fmtSpan(3 * H + 20 * 60_000), fmtSpan(7 * D), fmtSpan(5 * D + 3 * H), fmtSpan(-1), fmtSpan(null)])
      .toEqual(['40 s', '12 min', '3 h 20 min', '7 d', '5 d 3 h', '—', '—']);
  });

  it('names the window and what of it each venue covers; full only when every venue reaches back to W0', () => {
    const w0 = NOW - 7 * D;
    expect(windowWords({ windowStartMs: w0, venues: [{ venue: 'deribit', coveredFromMs: w0 }] }, NOW)).toEqual({ asked: '7 d', full: true, venues: ['Deribit full'] });
    expect(windowWords({ windowStartMs: w0, venues: [{ venue: 'deribit', coveredFromMs: w0 }, { venue: 'okx', coveredFromMs: NOW - 2 * H }, { venue: 'bybit', coveredFromMs: null }] }, NOW))
      .toEqual({ asked: '7 d', full: false, venues: ['Deribit full', 'OKX last 2 h', 'Bybit: no trades held up to now yet'] });
  });

  it('says how far the fill is, what is left, and a failure being retried', () => {
    expect(fillWords(progress({ coveredMs: 3.2 * D, trades: 48_210, etaMs: 4 * 60_000 }), 7, NOW)).toBe('Deribit: 3.2 of 7 days held · 48,210 trades · about 4 min left');
    expect(fillWords(progress({ history: 'retrying', coveredMs: D, trades: 1, error: '10028 too_many_requests', retryAtMs: NOW + 8_000 }), 7, NOW))
      .toBe('Deribit: 1.0 of 7 days held · 1 trade · retrying in 8 s: 10028 too_many_requests');
    expect(fillWords(progress({ history: 'done', reach: 'recent', venue: 'okx', note: 'the latest 100 trades', trades: 100 }), 7, NOW)).toBe('OKX: the latest 100 trades (100 trades)');
    expect(fillWords(progress({ history: 'cancelled', coveredMs: 2 * D, trades: 9 }), 7, NOW)).toBe('Deribit: history stopped at 2 d (9 trades)');
    expect(['loading', 'filling', 'retrying', 'done', 'none', 'waiting', 'cancelled'].filter((h) => isFilling(progress({ history: h as TapeProgress['history'] }))))
      .toEqual(['loading', 'filling', 'retrying']);
  });
});
