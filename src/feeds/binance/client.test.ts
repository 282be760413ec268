import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BINANCE_MAX_LIFETIME_MS, createBinanceFeed } from './client.ts';
import { feedRig, flush, type FakeSocket } from '../testing.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('binance');
const excerpts = JSON.parse(readFileSync(DIR + 'docs-excerpts-developers.binance.com.json', 'utf8')) as Record<string, { parsed: unknown }>;
const marks = Object.entries(excerpts).find(([k]) => k.includes('Mark-Price (stream'))![1].parsed;
const marksFrame = JSON.stringify({ stream: 'btcusdt@optionMarkPrice', data: marks });
const perpMark = (ts: number, p = '104300.5') => JSON.stringify({ stream: 'btcusdt@markPrice@1s', data: { e: 'markPriceUpdate', E: ts, s: 'BTCUSDT', p, i: '104310.1', P: '0', r: '0.0001', T: ts + 3_600_000 } });

function setup(restOk = true) {
  const rig = feedRig(Date.UTC(2025, 10, 11, 13, 0, 0), () => {
    if (!restOk) throw new Error('HTTP 503');
    return { optionSymbols: [{ symbol: 'BTC-251120-126000-C', strikePrice: '126000', unit: 1 }] };
  });
  return { ...rig, feed: createBinanceFeed({ url: 'ws://127.0.0.1:8787/binance/market/stream', ...rig.options }) };
}

const streamsOf = (s: FakeSocket) => s.sent.flatMap((m) => (JSON.parse(m) as { params: string[] }).params);

describe('Binance client', () => {
  it('four sockets on /market and /public; instruments discovered from the mark stream; OI per expiry subscribed', async () => {
    const { clock, sockets, sink, feed, urls } = setup();
    feed.start();
    await flush();
    expect(urls).toEqual(['http://127.0.0.1:8787/binance/rest/eapi/v1/exchangeInfo']);
    expect(sockets.map((s) => s.url)).toEqual([
      'ws://127.0.0.1:8787/binance/market/stream',
      'ws://127.0.0.1:8787/binance/market/stream',
      'ws://127.0.0.1:8787/binance/public/stream',
      'ws://127.0.0.1:8787/binance/public/stream',
    ]);
    for (const s of sockets) s.open();
    expect(streamsOf(sockets[0])).toEqual(['btcusdt@optionMarkPrice', '!optionSymbol']);
    expect(streamsOf(sockets[1])).toEqual(['btcusdt@markPrice@1s']);
    expect(streamsOf(sockets[2])).toEqual(['btcusdt@depth20@100ms']);
    expect(streamsOf(sockets[3])).toEqual(['btcusdt@optionTrade']);
    sockets[0].receive(marksFrame);
    expect(sink.instrumentCalls.at(-1)!.list).toEqual([
      { venue: 'binance', name: 'BTC-251120-126000-C', currency: 'BTC', strike: 126000, expiryMs: Date.UTC(2025, 10, 20, 8), isCall: true, multiplier: 1 },
      { venue: 'binance', name: 'BTC-251123-126000-C', currency: 'BTC', strike: 126000, expiryMs: Date.UTC(2025, 10, 23, 8), isCall: true, multiplier: 1 },
    ]);
    expect(sink.optionUpdates.map((u) => u.markIv)).toEqual([0.9408058, 0.93310237]);
    expect(sink.forwardUpdates).toEqual([]); // Binance gives no forward
    expect(sink.indexes).toEqual([{ price: 104334.60217391, timestampMs: 1762867543321 }]);
    clock.advance(1_000);
    expect(streamsOf(sockets[0])).toEqual(['btcusdt@optionMarkPrice', '!optionSymbol', 'btcusdt@optionOpenInterest@251120', 'btcusdt@optionOpenInterest@251123']);
    sockets[0].receive(JSON.stringify({ stream: 'btcusdt@optionOpenInterest@251120', data: [{ e: 'openInterest', E: 1762867560000, s: 'BTC-251120-126000-C', o: '12.5', h: '1300000' }] }));
    expect(sink.optionUpdates.at(-1)).toEqual({ name: 'BTC-251120-126000-C', timestampMs: 1762867560000, openInterest: 12.5 });
    feed.stop();
  });

  it('exchangeInfo unreadable: the contract unit is assumed 1, and that assumption stands beside the figures (with how many symbols) until the listings give the units', async () => {
    const { sockets, sink, feed } = setup(false);
    feed.start();
    await flush();
    sockets[0].open();
    sockets[0].receive(marksFrame);
    sockets[0].receive(marksFrame);
    // the failed request is said once; the assumption is a standing fact, not a passing error
    expect(sink.events.filter((e) => e.kind === 'venueError')).toEqual([
      { kind: 'venueError', code: null, message: 'exchangeInfo unavailable (Error: HTTP 503); contract unit taken from listings, else assumed 1', retryInMs: null },
    ]);
    const assumptions = () => sink.events.filter((e) => e.kind === 'assumption');
    expect(assumptions()).toEqual([{ kind: 'assumption', key: 'contractUnit', message: 'contract unit assumed 1 BTC for 2 symbols (exchangeInfo unavailable)' }]);
    expect(sink.instrumentCalls.at(-1)!.list.every((i) => i.multiplier === 1)).toBe(true);
    // the listing stream gives one symbol's unit (here 100: the figures then use it) ...
    const listing = (symbol: string, u: number) => JSON.stringify({ stream: '!optionSymbol', data: { e: 'OPTION_PAIR', E: 1762867550000, s: symbol, sp: '126000', u, dt: Date.UTC(2025, 10, 20, 8) } });
    sockets[0].receive(listing('BTC-251120-126000-C', 100));
    expect(sink.instrumentCalls.at(-1)!.list.find((i) => i.name === 'BTC-251120-126000-C')!.multiplier).toBe(100);
    expect(assumptions().at(-1)).toEqual({ kind: 'assumption', key: 'contractUnit', message: 'contract unit assumed 1 BTC for 1 symbol (exchangeInfo unavailable)' });
    // ... and the other's: nothing is assumed any more, the note is withdrawn
    sockets[0].receive(listing('BTC-251123-126000-C', 1));
    expect(assumptions().at(-1)).toEqual({ kind: 'assumption', key: 'contractUnit', message: null });
    expect(assumptions()).toHaveLength(3);
    feed.stop();
  });

  it('exchangeInfo read: a symbol it does not list is still assumed, and said so', async () => {
    const { sockets, sink, feed } = setup(true);
    feed.start();
    await flush();
    sockets[0].open();
    sockets[0].receive(marksFrame);
    expect(sink.events.filter((e) => e.kind === 'assumption')).toEqual([{ kind: 'assumption', key: 'contractUnit', message: 'contract unit assumed 1 BTC for 1 symbol (not in exchangeInfo)' }]);
    feed.stop();
  });

  it('liveness by data age: 30 s of silence reconnects and resubscribes (with the OI streams)', async () => {
    const { clock, sockets, feed } = setup();
    feed.start();
    await flush();
    for (const s of sockets) s.open();
    sockets[0].receive(marksFrame);
    clock.advance(1_000);
    const set = streamsOf(sockets[0]);
    clock.advance(19_000);
    // The quiet trade socket answers its keepalive: silence on the tape is no reason to reconnect.
    sockets[3].receive(JSON.stringify({ result: ['btcusdt@optionTrade'], id: 0 }));
    clock.advance(9_999); // 29.999 s after the last frame
    expect(sockets[0].closed).toBeNull();
    clock.advance(1);
    expect(sockets[0].closed).not.toBeNull();
    clock.advance(1_000);
    expect(sockets[3].closed).toBeNull();
    const fresh = sockets.slice(4);
    expect(fresh).toHaveLength(3); // the three data sockets went silent
    fresh.forEach((s) => s.open());
    clock.advance(1_000);
    const again = fresh.find((s) => streamsOf(s).includes('btcusdt@optionMarkPrice'))!;
    expect(streamsOf(again)).toEqual(set);
    feed.stop();
  });

  it('proactive reconnect at 23 h 50 min even while data flows; old-socket frames ignored', async () => {
    const { clock, sockets, sink, feed } = setup();
    feed.start();
    await flush();
    const mark = sockets[1];
    mark.open();
    let t = 0;
    while (t < BINANCE_MAX_LIFETIME_MS - 20_000) {
      mark.receive(perpMark(1762866000000 + t));
      clock.advance(20_000);
      t += 20_000;
    }
    expect(mark.closed).toBeNull();
    mark.receive(perpMark(1762866000000 + t));
    clock.advance(20_000);
    expect(mark.closed).not.toBeNull();
    expect(sink.events.some((e) => e.kind === 'closed' && e.reason.includes('proactive') && e.retryInMs === 0)).toBe(true);
    const perpsBefore = sink.perps.length;
    mark.captured.onmessage?.({ data: perpMark(1762950000000, '1') });
    expect(sink.perps.length).toBe(perpsBefore);
    feed.stop();
  });

  it('perp quote from mark + top-20 depth; bad frames counted, never thrown', async () => {
    const { sockets, sink, feed } = setup();
    feed.start();
    await flush();
    for (const s of sockets) s.open();
    sockets[1].receive(perpMark(1762867000000));
    sockets[2].receive(JSON.stringify({ stream: 'btcusdt@depth20@100ms', data: { e: 'depthUpdate', E: 1762867000100, T: 1762867000090, s: 'BTCUSDT', U: 1, u: 2, pu: 0, b: [['104300.0', '2.5'], ['104299.9', '1.0']], a: [['104300.1', '3.0']] } }));
    expect(sink.perps.at(-1)).toEqual({
      venue: 'binance', instrument: 'BTCUSDT', timestampMs: 1762867000100, markPrice: 104300.5, indexPrice: 104310.1, funding8h: 0.0001,
      openInterestCoin: null, bestBid: 104300, bestAsk: 104300.1, depth: [],
    });
    const bad = ['nope', 'x'.repeat(2 * 1024 * 1024), perpMark(1762867000200, '-5'), JSON.stringify({ stream: 'btcusdt@kline_1m', data: {} }), JSON.stringify({ stream: 'ethusdt@markPrice@1s', data: { e: 'markPriceUpdate', E: 1762867000000, s: 'ETHUSDT', p: '1', i: '1', r: '0' } })];
    expect(() => bad.forEach((b) => sockets[1].receive(b))).not.toThrow();
    expect(sink.drops()).toEqual(['malformed', 'oversize', 'badNumber', 'unknownChannel', 'unknownInstrument']);
    feed.stop();
  });
});
