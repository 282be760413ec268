import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBybitInstruments, parseBybitMessage, parseBybitOptionName, type BybitMessage } from './parse.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('bybit');
const json = (f: string): unknown => JSON.parse(readFileSync(DIR + f, 'utf8'));
const options = (json('tardis-node-bybit-options-v5-messages.json') as { messages: unknown[] }).messages;
const linear = (json('tardis-node-bybit-v5-linear-inverse-messages.json') as { messages: Record<string, unknown>[] }).messages;
type DocBlock = { tab: string | null; example: unknown };
const docs = json('docs-examples.json') as Record<string, DocBlock[]>;

function as<K extends BybitMessage['kind']>(m: BybitMessage, kind: K): Extract<BybitMessage, { kind: K }> {
  expect(m.kind).toBe(kind);
  return m as Extract<BybitMessage, { kind: K }>;
}

describe('Bybit option tickers (real 2023-04-05 pushes)', () => {
  it('ETH-30JUN23-200-P: decimal IV, forward = underlyingPrice, OI coin, index', () => {
    const m = as(parseBybitMessage(options.find((x) => (x as { topic: string }).topic === 'tickers.ETH-30JUN23-200-P')), 'option');
    expect(m.currency).toBe('ETH');
    expect(m.update).toEqual({ name: 'ETH-30JUN23-200-P', timestampMs: 1680652859919, markIv: 1.5991, forward: 1886.16, openInterest: 231.5 });
    expect(m.forward).toEqual({ expiryMs: Date.UTC(2023, 5, 30, 8), forward: 1886.16, timestampMs: 1680652859919 });
    expect(m.indexPrice).toBe(1871.27);
  });

  it('SOL options are not charted: unknown instrument; trades and option books are unknown channels', () => {
    const kinds = options.map((x) => parseBybitMessage(x));
    expect(kinds.find((k) => k.kind === 'dropped' && k.reason === 'unknownInstrument')).toBeDefined();
    expect(kinds.filter((k) => k.kind === 'option')).toHaveLength(1);
  });

  it('docs option ticker example (BTC-6JAN23-17500-C)', () => {
    const ex = docs['docs/v5/websocket/public/ticker.mdx'].find((b) => b.tab === 'Option')!.example;
    const m = as(parseBybitMessage(ex), 'option');
    expect(m.update).toEqual({ name: 'BTC-6JAN23-17500-C', timestampMs: 1672917511074, markIv: 0.4896, forward: 16815.1, openInterest: 49.85 });
    expect(m.forward?.expiryMs).toBe(Date.UTC(2023, 0, 6, 8));
  });
});

describe('Bybit instruments (docs example, USDT-settled)', () => {
  it('BTC-27MAR26-70000-P-USDT: strike from the symbol, deliveryTime 08:00 UTC, 1 BTC per contract', () => {
    const body = docs['docs/v5/market/instrument.mdx'].find((b) => b.tab === 'Option')!.example;
    const page = parseBybitInstruments(body, 'BTC');
    expect(page.error).toBeNull();
    expect(page.nextCursor).toBeNull();
    expect(page.list).toEqual([
      { venue: 'bybit', name: 'BTC-27MAR26-70000-P-USDT', currency: 'BTC', strike: 70000, expiryMs: Date.UTC(2026, 2, 27, 8), isCall: false, multiplier: 1 },
    ]);
    expect(parseBybitInstruments(body, 'ETH').list).toEqual([]);
    expect(parseBybitInstruments({ retCode: 10001, retMsg: 'params error' }, 'BTC').error).toContain('10001');
  });

  it('names: USDC family unsuffixed, USDT suffixed; bad dates refused', () => {
    expect(parseBybitOptionName('BTC-27DEC24-100000-C')).toEqual({ currency: 'BTC', expiryMs: Date.UTC(2024, 11, 27, 8), strike: 100000, isCall: true, settle: 'USDC' });
    expect(parseBybitOptionName('ETH-13FEB25-2800-P-USDT')?.settle).toBe('USDT');
    expect(parseBybitOptionName('BTC-31FEB25-1000-C')).toBeNull();
    expect(parseBybitOptionName('BTC-27DEC24-0-C')).toBeNull();
    expect(parseBybitOptionName('BTCUSDT')).toBeNull();
  });
});

describe('Bybit linear perpetual (real 2023-04-05 pushes)', () => {
  it('tickers.BTCUSDT snapshot: mark, index, OI coin (both sides: the 2023 frame has no single side), funding per 8 h, best bid/ask', () => {
    const frame = linear.find((x) => x.topic === 'tickers.BTCUSDT') as { data: Record<string, string> };
    const m = as(parseBybitMessage(frame), 'linearTicker');
    expect(m).toEqual({
      kind: 'linearTicker',
      symbol: 'BTCUSDT',
      snapshot: true,
      fields: { markPrice: 28552.81, indexPrice: 28562.25, openInterestBothSides: 52774.528, bid1: 28550.7, ask1: 28550.8, funding8h: 0.0001 },
      timestampMs: 1680673821770,
    });
    // OI value / OI = mark, i.e. OI is in BTC: 1506861070.82 / 52774.528 = 28553.
    expect(1506861070.82 / m.fields.openInterestBothSides!).toBeCloseTo(28553, 0);
    // since 2026-06 the single side comes too: that is the one used
    const now = as(parseBybitMessage({ ...frame, data: { ...frame.data, singleOpenInterest: '26387.264' } }), 'linearTicker');
    expect(now.fields).toMatchObject({ openInterestCoin: 26387.264, openInterestBothSides: 52774.528 });
  });

  it('a delta carries only changed fields', () => {
    const d = linear.find((x) => x.topic === 'tickers.BTCUSD' && x.type === 'delta');
    const m = as(parseBybitMessage(d), 'linearTicker');
    expect(m.snapshot).toBe(false);
    expect(m.fields.markPrice).toBeUndefined();
    expect(m.fields.bid1).toBe(28560);
  });

  it('funding on a 4 h interval is scaled to 8 h (docs example has 8 h: unchanged)', () => {
    const ex = (docs['docs/v5/websocket/public/ticker.mdx'].find((b) => b.tab === 'Linear')!.example as { LinearPerpetual: Record<string, unknown> }).LinearPerpetual;
    expect(as(parseBybitMessage(ex), 'linearTicker').fields.funding8h).toBe(-0.005);
    const four = { ...ex, data: { ...(ex.data as object), fundingIntervalHour: '4', fundingRate: '0.0001' } };
    expect(as(parseBybitMessage(four), 'linearTicker').fields.funding8h).toBeCloseTo(0.0002, 15);
  });

  it('orderbook snapshot and delta', () => {
    const books = linear.filter((x) => x.topic === 'orderbook.1.BTCUSDT').map((x) => as(parseBybitMessage(x), 'book'));
    expect(books[0]).toEqual({ kind: 'book', symbol: 'BTCUSDT', snapshot: true, bids: [['28552.00', '0.047']], asks: [['28552.10', '25.433']], updateId: 7003305, timestampMs: 1680673820717 });
    expect(books[1].snapshot).toBe(false);
  });
});

describe('Bybit control frames (docs examples) and bad input', () => {
  const connect = docs['docs/v5/websocket/wss-authentication.mdx'];
  it('pongs of both sockets, option subscribe ack', () => {
    expect(parseBybitMessage(connect.find((b) => b.tab === 'Option/Spread')!.example)).toEqual({ kind: 'pong' });
    expect(parseBybitMessage(connect.find((b) => b.tab === 'Linear/Inverse')!.example)).toEqual({ kind: 'pong' });
    const ack = connect.filter((b) => b.tab === 'Option/Spread').map((b) => b.example).find((e) => (e as { type?: string }).type === 'COMMAND_RESP');
    expect(parseBybitMessage(ack)).toEqual({ kind: 'subscribed', success: ['orderbook.100.BTC-6JAN23-18000-C'], failed: [] });
    expect(parseBybitMessage({ success: false, ret_msg: 'error:handler not found,topic:tickers.X', op: 'subscribe' })).toEqual({ kind: 'error', message: 'error:handler not found,topic:tickers.X' });
  });

  const good = { topic: 'tickers.BTC-6JAN23-17500-C', ts: 1672917511074, type: 'snapshot', data: { symbol: 'BTC-6JAN23-17500-C', markPriceIv: '0.4896', underlyingPrice: '16815.1', openInterest: '49.85', indexPrice: '16823.73' } };
  it.each([
    ['iv 1e9', { markPriceIv: '1e9' }],
    ['negative OI', { openInterest: '-3' }],
    ['NaN forward', { underlyingPrice: 'NaN' }],
    ['1e400 index', { indexPrice: '1e400' }],
    ['missing iv', { markPriceIv: undefined }],
  ])('%s -> badNumber', (_l, patch) => {
    expect(parseBybitMessage({ ...good, data: { ...good.data, ...patch } })).toEqual({ kind: 'dropped', reason: 'badNumber' });
  });
  it('junk', () => {
    for (const j of [null, 3, [], {}, { topic: 'tickers.X', ts: 'soon' }, { topic: 'kline.1.BTCUSDT', ts: 1672917511074 }, { ...good, data: { ...good.data, symbol: 'OTHER' } }]) {
      expect(parseBybitMessage(j).kind).toBe('dropped');
    }
  });
});
