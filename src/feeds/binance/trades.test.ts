/**
 * Binance option trades: the recorded 2025-12-17 `@optionTrade` frames and the docs' stream example
 * (../shared/data/feeds/binance), and for REST `/eapi/v1/trades` and `/eapi/v1/blockTrades` the
 * documented response examples (Binance options docs "Recent Trades List", "Recent Block Trades List").
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBinanceMessage } from './parse.ts';
import { parseBinanceBlockTradesBody, parseBinanceRestTrade, parseBinanceTrade, parseBinanceTradesBody } from './trades.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('binance');
const recorded = (JSON.parse(readFileSync(DIR + 'tardis-node-binance-european-options-v2-2025-12-17.json', 'utf8')) as { messages: { stream: string; data: unknown }[] }).messages.filter((m) => m.stream.endsWith('@optionTrade'));
const docs = JSON.parse(readFileSync(DIR + 'docs-options-examples.json', 'utf8')) as Record<string, { example: unknown }[]>;
const docEvent = docs['binance/websocket-market-streams/Trade-Streams.md'][1].example as Record<string, unknown>;
/** "Recent Trades List" response example row (`id` left out: a 64-bit number JSON cannot carry exactly). */
const restRow = { tradeId: 1, symbol: 'BTC-251123-126000-C', price: '1300', qty: '0.1', quoteQty: '130', side: -1, time: 1762780453623 };

describe('Binance option trades', () => {
  it('the recorded frames: the taker sold when the buyer was the maker (m), q in contracts, symbol:t as the trade id', () => {
    expect(recorded).toHaveLength(2);
    const trades = recorded.map((f) => {
      const m = parseBinanceMessage(f);
      expect(m.kind).toBe('trade');
      return parseBinanceTrade((m as { event: unknown }).event, 'BTC');
    });
    expect(trades).toEqual([
      { venue: 'binance', instrument: 'BTC-251219-89000-C', tradeId: 'BTC-251219-89000-C:200', timestampMs: 1765983420778, takerSide: 'buy', contracts: 1.54, block: false },
      { venue: 'binance', instrument: 'BTC-251218-89000-P', tradeId: 'BTC-251218-89000-P:18', timestampMs: 1765983422509, takerSide: 'sell', contracts: 3.9, block: false },
    ]);
    // The recorded S agrees with the side read from m.
    for (const f of recorded) expect((f.data as { S: string }).S.toLowerCase()).toBe((f.data as { m: boolean }).m ? 'sell' : 'buy');
    // The docs' example, on the underlying's stream; a BLOCK trade is flagged.
    const docFrame = { stream: 'btcusdt@optionTrade', data: docEvent };
    expect(parseBinanceTrade((parseBinanceMessage(docFrame) as { event: unknown }).event, 'BTC')).toEqual({
      venue: 'binance', instrument: 'BTC-251123-126000-C', tradeId: 'BTC-251123-126000-C:4', timestampMs: 1762856064203, takerSide: 'buy', contracts: 0.1, block: false,
    });
    expect(parseBinanceTrade({ ...docEvent, X: 'BLOCK' }, 'BTC')).toMatchObject({ block: true });
  });

  it('bad events are dropped by reason, never thrown', () => {
    const bad: [unknown, string][] = [
      [[], 'malformed'],
      [{ ...docEvent, s: 7 }, 'malformed'],
      [{ ...docEvent, s: 'ETH-251123-3000-C' }, 'unknownInstrument'],
      [{ ...docEvent, s: 'BTCUSDT' }, 'unknownInstrument'],
      [{ ...docEvent, t: 1.5 }, 'badTradeId'],
      [{ ...docEvent, T: '2025-11-11' }, 'badTimestamp'],
      [{ ...docEvent, m: 'false' }, 'badSide'],
      [{ ...docEvent, m: undefined }, 'badSide'],
      [{ ...docEvent, q: '-0.1' }, 'badAmount'],
      [{ ...docEvent, q: '' }, 'badAmount'],
    ];
    for (const [e, reason] of bad) expect(parseBinanceTrade(e, 'BTC')).toBe(reason);
  });

  it('REST trades: side 1/-1 is the aggressor, the same symbol:tradeId as the stream, oldest first; an error answer is an error', () => {
    expect(parseBinanceRestTrade(restRow, 'BTC')).toEqual({
      venue: 'binance', instrument: 'BTC-251123-126000-C', tradeId: 'BTC-251123-126000-C:1', timestampMs: 1762780453623, takerSide: 'sell', contracts: 0.1, block: false,
    });
    const dropped: Record<string, number> = {};
    const r = parseBinanceTradesBody([{ ...restRow, tradeId: 2, side: 1, time: 1762780453700 }, restRow, { ...restRow, side: 0 }, { ...restRow, tradeId: undefined }], 'BTC', dropped);
    expect('trades' in r && r.trades.map((t) => [t.tradeId, t.takerSide])).toEqual([['BTC-251123-126000-C:1', 'sell'], ['BTC-251123-126000-C:2', 'buy']]);
    expect(dropped).toEqual({ badSide: 1, badTradeId: 1 });
    expect(parseBinanceTradesBody({ code: -1121, msg: 'Invalid symbol.' }, 'BTC', dropped)).toEqual({ error: 'binance error -1121: Invalid symbol.' });
    expect(parseBinanceTradesBody({}, 'BTC', dropped)).toEqual({ error: 'malformed trades body' });
  });
});

describe('Binance block trades (REST)', () => {
  /** "Recent Block Trades List" response example (ids left out), the ETH row renamed to BTC for the BTC case. */
  const doc = [
    { tradeId: 389, symbol: 'ETH-250725-1200-P', price: '342.40', qty: '-2167.20', quoteQty: '-4.90', side: -1, time: 1733950676483 },
    { tradeId: 161, symbol: 'XRP-250904-0.086-P', price: '3.0', qty: '-6.0', quoteQty: '-2.02', side: -1, time: 1733950488444 },
  ];
  it('every symbol\'s block trades: the currency\'s kept as block trades of |qty| contracts, other coins skipped uncounted', () => {
    const dropped: Record<string, number> = {};
    expect(parseBinanceBlockTradesBody(doc, 'ETH', dropped)).toEqual({
      trades: [{ venue: 'binance', instrument: 'ETH-250725-1200-P', tradeId: 'ETH-250725-1200-P:389', timestampMs: 1733950676483, takerSide: 'sell', contracts: 2167.2, block: true }],
    });
    expect(parseBinanceBlockTradesBody(doc, 'BTC', dropped)).toEqual({ trades: [] });
    expect(dropped).toEqual({});
    const btc = { ...doc[0], symbol: 'BTC-250725-100000-C', qty: '3', side: 1 };
    expect(parseBinanceBlockTradesBody([btc, { ...btc, qty: 'x' }, 'junk'], 'BTC', dropped)).toMatchObject({ trades: [{ takerSide: 'buy', contracts: 3, block: true }] });
    expect(dropped).toEqual({ badAmount: 1, malformed: 1 });
    expect(parseBinanceBlockTradesBody({ code: -1121, msg: 'Invalid symbol.' }, 'BTC', dropped)).toEqual({ error: 'binance error -1121: Invalid symbol.' });
  });
});
