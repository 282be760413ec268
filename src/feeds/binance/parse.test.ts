import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBinanceExchangeInfo, parseBinanceMessage, parseBinanceOptionName, type BinanceMessage } from './parse.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('binance');
const json = (f: string): unknown => JSON.parse(readFileSync(DIR + f, 'utf8'));
const excerpts = json('docs-excerpts-developers.binance.com.json') as Record<string, { parsed: unknown }>;
const excerpt = (needle: string) => Object.entries(excerpts).find(([k]) => k.includes(needle))![1].parsed;
type DocBlock = { example: unknown };
const docs = json('docs-options-examples.json') as Record<string, DocBlock[]>;
const v2 = (json('tardis-node-binance-european-options-v2-2025-12-17.json') as { messages: { stream: string }[] }).messages;
const futures = (json('tardis-node-binance-futures-messages.json') as { messages: { stream: string }[] }).messages;

function as<K extends BinanceMessage['kind']>(m: BinanceMessage, kind: K): Extract<BinanceMessage, { kind: K }> {
  expect(m.kind).toBe(kind);
  return m as Extract<BinanceMessage, { kind: K }>;
}

describe('Binance options: optionMarkPrice (docs example, BTC, 2025-11-11)', () => {
  const m = as(parseBinanceMessage({ stream: 'btcusdt@optionMarkPrice', data: excerpt('Mark-Price (stream') }), 'marks');
  it('decimal mark IV per symbol, no forward; index from i', () => {
    expect(m.drops).toEqual([]);
    expect(m.rows.map((r) => r.update)).toEqual([
      { name: 'BTC-251120-126000-C', timestampMs: 1762867543321, markIv: 0.9408058 },
      { name: 'BTC-251123-126000-C', timestampMs: 1762867543321, markIv: 0.93310237 },
    ]);
    expect(m.index).toEqual({ price: 104334.60217391, timestampMs: 1762867543321 });
    expect(m.rows[0].name).toEqual({ currency: 'BTC', expiryCode: '251120', expiryMs: Date.UTC(2025, 10, 20, 8), strike: 126000, isCall: true });
  });

  it('the real XRP frame is a coin we do not chart', () => {
    const xrp = as(parseBinanceMessage(v2.find((x) => x.stream === 'xrpusdt@optionMarkPrice')), 'marks');
    expect(xrp.rows).toEqual([]);
    expect(xrp.drops).toEqual(['unknownInstrument']);
  });

  it('vo -1.0 (no mark IV) skips the line without a drop; absurd values are dropped', () => {
    const row = { s: 'BTC-251219-89000-C', E: 1765983421000, i: '104334.6', vo: '-1.0' };
    expect(as(parseBinanceMessage({ stream: 'btcusdt@optionMarkPrice', data: [row] }), 'marks')).toMatchObject({ rows: [], drops: [] });
    for (const bad of [{ vo: '1e9' }, { i: '-3' }, { i: '1e400' }, { E: 'now' }, { vo: 'NaN' }]) {
      expect(as(parseBinanceMessage({ stream: 'btcusdt@optionMarkPrice', data: [{ ...row, vo: '0.5', ...bad }] }), 'marks').drops).toEqual(['badNumber']);
    }
  });
});

describe('Binance options: open interest, new symbols, exchangeInfo', () => {
  it('OI per expiry stream: contracts (docs example ETH; new-format frame BTC)', () => {
    const doc = as(parseBinanceMessage({ stream: 'ethusdt@optionOpenInterest@221125', data: excerpt('Open-Interest (stream') }), 'openInterest');
    expect(doc.updates).toEqual([{ name: 'ETH-221125-2700-C', timestampMs: 1668759300045, openInterest: 1580.87 }]);
    // Format check only: SOURCES.md flags these values as probably hand-made.
    const nf = as(parseBinanceMessage(v2.find((x) => x.stream === 'btcusdt@optionOpenInterest@251219')), 'openInterest');
    expect(nf.updates.map((u) => [u.name, u.openInterest])).toEqual([
      ['BTC-251219-89000-C', 123.45],
      ['BTC-251218-89000-P', 67.89],
    ]);
    const neg = parseBinanceMessage({ stream: 'btcusdt@optionOpenInterest@251219', data: [{ e: 'openInterest', E: 1765983420500, s: 'BTC-251219-89000-C', o: '-1' }] });
    expect(as(neg, 'openInterest').drops).toEqual(['badNumber']);
  });

  it('!optionSymbol: unit u; the docs example contradicts itself (sp 21000 vs symbol strike 140000) and is dropped', () => {
    const ex = docs['binance/websocket-market-streams/New-Symbol-Info.md'][0].example as Record<string, unknown>;
    expect(parseBinanceMessage({ stream: '!optionSymbol', data: ex })).toEqual({ kind: 'dropped', reason: 'malformed' });
    const fixed = as(parseBinanceMessage({ stream: '!optionSymbol', data: { ...ex, sp: '140000' } }), 'newSymbol');
    expect(fixed.unit).toBe(1);
    expect(fixed.name.expiryMs).toBe(Date.UTC(2025, 8, 26, 8));
  });

  it('exchangeInfo: unit per symbol (docs example BTC-220815-50000-C, unit 1)', () => {
    const body = docs['binance/market-data/Exchange-Information.md'][1].example;
    const r = parseBinanceExchangeInfo(body, 'BTC');
    expect(r.error).toBeNull();
    expect([...r.units]).toEqual([['BTC-220815-50000-C', 1]]);
    expect(parseBinanceExchangeInfo(body, 'ETH').units.size).toBe(0);
    expect(parseBinanceExchangeInfo({}, 'BTC').error).not.toBeNull();
  });

  it('names', () => {
    expect(parseBinanceOptionName('ETH-251219-3100-C')?.expiryMs).toBe(Date.UTC(2025, 11, 19, 8));
    expect(parseBinanceOptionName('XRP-251219-2.05-P')).toBeNull();
    expect(parseBinanceOptionName('BTC-251319-3100-C')).toBeNull();
    expect(parseBinanceOptionName('btc-251219-3100-c')).toBeNull();
  });
});

describe('Binance USD-M perpetual', () => {
  it('markPriceUpdate (docs example and real 2020 @1s frame): mark, index, funding', () => {
    const doc = parseBinanceMessage({ stream: 'btcusdt@markPrice@1s', data: excerpt('Mark-Price-Stream') });
    expect(doc).toEqual({ kind: 'perpMark', symbol: 'BTCUSDT', markPrice: 11794.15, indexPrice: 11784.62659091, funding8h: 0.00038167, timestampMs: 1562305380000 });
    const real = parseBinanceMessage(futures.find((x) => x.stream === 'btcusdt@markPrice@1s'));
    expect(real).toEqual({ kind: 'perpMark', symbol: 'BTCUSDT', markPrice: 11857.56, indexPrice: 11851.86949091, funding8h: 0.0001564, timestampMs: 1597536008000 });
    // The 2019 frame lacks the index: not usable as a perp quote.
    expect(parseBinanceMessage(futures.find((x) => x.stream === 'btcusdt@markPrice'))).toEqual({ kind: 'dropped', reason: 'badNumber' });
  });

  it('partial depth is a snapshot of the top levels', () => {
    const d = as(parseBinanceMessage(v2.find((x) => x.stream === 'eth-251219-3100-c@depth20@100ms')), 'depth');
    expect(d.symbol).toBe('ETH-251219-3100-C');
    expect(d.bids).toEqual([['16.6000', '150.23'], ['16.4000', '10.00']]);
    expect(d.timestampMs).toBe(1765983419936);
  });

  it('responses, errors, junk', () => {
    expect(parseBinanceMessage({ result: null, id: 1 })).toEqual({ kind: 'result', id: 1 });
    expect(parseBinanceMessage({ error: { code: 2, msg: 'Invalid request' }, id: 3 })).toEqual({ kind: 'error', code: 2, message: 'Invalid request' });
    expect(parseBinanceMessage({ code: -1121, msg: 'Invalid symbol.' })).toEqual({ kind: 'error', code: -1121, message: 'Invalid symbol.' });
    for (const j of [null, [], 'x', {}, { stream: 'btcusdt@aggTrade', data: {} }, { stream: 'btcusdt@optionMarkPrice', data: {} }]) {
      expect(parseBinanceMessage(j).kind).toBe('dropped');
    }
  });
});
