import { describe, expect, it } from 'vitest';
import { parseRecording } from './recording.ts';
import { venueClockOffset } from './venue-clock.ts';
import { venueStamp } from '../venues/registry.ts';

const YEAR = 365 * 86_400_000;
const RECORDED = Date.UTC(2026, 5, 1, 12);
const line = (venue: string, path: string, ts: number, frame: unknown) => JSON.stringify({ venue, path, dir: 'in', ts, frame });

describe('the replay clock is the venues\', from any venue\'s stamps', () => {
  // a simulator started a year before the day it was recorded: every stamp a year behind the receive time
  const venueMs = (i: number) => RECORDED - YEAR + i * 100;
  const frames = (venue: 'okx' | 'bybit' | 'binance' | 'deribit') =>
    parseRecording(
      Array.from({ length: 5 }, (_, i) => {
        const at = RECORDED + i * 100 + 20;
        if (venue === 'okx') return line('okx', '/okx/ws/v5/public', at, { arg: { channel: 'index-tickers', instId: 'BTC-USD' }, data: [{ instId: 'BTC-USD', idxPx: '1', ts: String(venueMs(i)) }] });
        if (venue === 'bybit') return line('bybit', '/bybit/v5/public/linear', at, { topic: 'tickers.BTCUSDT', type: 'snapshot', ts: venueMs(i), data: { symbol: 'BTCUSDT' } });
        if (venue === 'binance') return line('binance', '/binance/market/stream', at, { stream: 'btcusdt@markPrice@1s', data: { e: 'markPriceUpdate', E: venueMs(i), p: '1' } });
        return line('deribit', '/deribit/ws/api/v2', at, { jsonrpc: '2.0', method: 'subscription', params: { channel: 'deribit_price_index.btc_usd', data: { index_name: 'btc_usd', price: 1, timestamp: venueMs(i) } } });
      }).join('\n'),
    ).frames;

  for (const venue of ['deribit', 'okx', 'bybit', 'binance'] as const) {
    it(`${venue} alone moves the replay onto its market's clock`, () => {
      expect(venueClockOffset(frames(venue), venueStamp)).toBe(-YEAR - 20);
    });
  }

  it('transit time (under a second) leaves recorded times as they are; frames without stamps count nothing', () => {
    const near = parseRecording(line('okx', '/okx/ws/v5/public', RECORDED + 300, { arg: { channel: 'index-tickers', instId: 'BTC-USD' }, data: [{ ts: String(RECORDED) }] })).frames;
    expect(venueClockOffset(near, venueStamp)).toBe(0);
    const acks = parseRecording(line('okx', '/okx/ws/v5/public', RECORDED, { event: 'subscribe', arg: { channel: 'books', instId: 'BTC-USDT-SWAP' } })).frames;
    expect(venueClockOffset(acks, venueStamp)).toBe(0);
  });
});
