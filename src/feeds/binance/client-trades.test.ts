/** The Binance client's trade tape: the optionTrade socket and the per-symbol REST history, against scripted sockets and a REST stub. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BINANCE_TRADE_HISTORY_SPACING_MS, createBinanceFeed } from './client.ts';
import { feedRig, flush, settled } from '../testing.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('binance');
const recorded = (JSON.parse(readFileSync(DIR + 'tardis-node-binance-european-options-v2-2025-12-17.json', 'utf8')) as { messages: { stream: string }[] }).messages.filter((m) => m.stream.endsWith('@optionTrade'));
const excerpts = JSON.parse(readFileSync(DIR + 'docs-excerpts-developers.binance.com.json', 'utf8')) as Record<string, { parsed: unknown }>;
const marks = Object.entries(excerpts).find(([k]) => k.includes('Mark-Price (stream'))![1].parsed;
const T0 = Date.UTC(2025, 10, 11, 13, 0, 0);
const restRow = (symbol: string, tradeId: number, time: number, side: 1 | -1) => ({ id: 1, tradeId, symbol, price: '1300', qty: '0.1', quoteQty: '130', side, time });

/** `trades(symbol)` answers `/eapi/v1/trades?symbol=`, `trades(null)` `/eapi/v1/blockTrades`. */
function setup(trades: (symbol: string | null) => unknown) {
  const tradeRequestsAt: number[] = [];
  const rig = feedRig(T0, (url) => {
    if (!url.includes('/eapi/v1/trades') && !url.includes('/eapi/v1/blockTrades')) return { optionSymbols: [] };
    tradeRequestsAt.push(rig.clock.now() - T0);
    return trades(url.includes('blockTrades') ? null : new URL(url).searchParams.get('symbol')!);
  });
  return { ...rig, tradeRequestsAt, feed: createBinanceFeed({ url: 'ws://127.0.0.1:8787/binance/market/stream', ...rig.options }) };
}

describe('Binance client: trades', () => {
  it('the trade socket on /public subscribes the underlying\'s optionTrade; its trades reach the sink; a keepalive answer is no subscription news', async () => {
    const { sockets, sink, feed, clock } = setup(() => []);
    feed.start();
    await flush();
    const trades = sockets[3];
    expect(trades.url).toBe('ws://127.0.0.1:8787/binance/public/stream');
    trades.open();
    expect(trades.sent.map((m) => JSON.parse(m))).toEqual([{ method: 'SUBSCRIBE', params: ['btcusdt@optionTrade'], id: 1 }]);
    trades.receive(JSON.stringify({ result: null, id: 1 }));
    for (const f of recorded) trades.receive(JSON.stringify(f));
    expect(sink.tapeTrades.map((t) => [t.tradeId, t.takerSide, t.contracts])).toEqual([['BTC-251219-89000-C:200', 'buy', 1.54], ['BTC-251218-89000-P:18', 'sell', 3.9]]);
    trades.receive(JSON.stringify({ stream: 'btcusdt@optionTrade', data: { ...(recorded[0] as unknown as { data: object }).data, m: null } }));
    expect(sink.drops()).toEqual(['badSide']);
    clock.advance(20_000);
    expect(JSON.parse(trades.sent.at(-1)!)).toEqual({ method: 'LIST_SUBSCRIPTIONS', id: 0 });
    const subscribed = sink.count('subscribed');
    trades.receive(JSON.stringify({ result: ['btcusdt@optionTrade'], id: 0 }));
    expect(sink.count('subscribed')).toBe(subscribed);
    clock.advance(15_000);
    expect(trades.closed).toBeNull();
    feed.stop();
  });

  it('history: the latest block trades, then the latest trades of every listed option, one paced request each, in the window, oldest first; before any listing, or on an error answer, it rejects', async () => {
    const bodies: Record<string, unknown> = {
      blocks: [{ ...restRow('BTC-251123-126000-C', 2, T0 - 2_500, 1), qty: '-25' }, { ...restRow('ETH-251123-3000-C', 9, T0 - 2_500, 1) }],
      'BTC-251120-126000-C': [restRow('BTC-251120-126000-C', 7, T0 - 2_000, 1), restRow('BTC-251120-126000-C', 6, T0 - 99_000_000, -1)],
      'BTC-251123-126000-C': [restRow('BTC-251123-126000-C', 1, T0 - 3_000, -1)],
    };
    const { sockets, feed, urls, clock, tradeRequestsAt } = setup((symbol) => bodies[symbol ?? 'blocks']);
    const history = feed.tradeHistory!;
    expect(history.reach).toBe('recent');
    feed.start();
    await flush();
    expect((await settled(history.fetchPage({ startMs: T0 - 3_600_000, endMs: T0 }))).error?.message).toBe('no option listed yet');
    sockets[0].open();
    sockets[0].receive(JSON.stringify({ stream: 'btcusdt@optionMarkPrice', data: marks }));
    const pending = settled(history.fetchPage({ startMs: T0 - 3_600_000, endMs: T0 }));
    for (let k = 0; k < 2; k++) {
      await flush();
      clock.advance(BINANCE_TRADE_HISTORY_SPACING_MS);
    }
    const page = await pending;
    expect(urls.filter((u) => u.includes('rades'))).toEqual([
      'http://127.0.0.1:8787/binance/rest/eapi/v1/blockTrades?limit=500',
      'http://127.0.0.1:8787/binance/rest/eapi/v1/trades?symbol=BTC-251120-126000-C&limit=500',
      'http://127.0.0.1:8787/binance/rest/eapi/v1/trades?symbol=BTC-251123-126000-C&limit=500',
    ]);
    expect(tradeRequestsAt).toEqual([0, BINANCE_TRADE_HISTORY_SPACING_MS, 2 * BINANCE_TRADE_HISTORY_SPACING_MS]);
    expect(page.value?.trades.map((t) => [t.tradeId, t.takerSide, t.contracts, t.block])).toEqual([
      ['BTC-251123-126000-C:1', 'sell', 0.1, false],
      ['BTC-251123-126000-C:2', 'buy', 25, true],
      ['BTC-251120-126000-C:7', 'buy', 0.1, false],
    ]);
    bodies['BTC-251123-126000-C'] = { code: -1003, msg: 'Too many requests.' };
    const refused = settled(history.fetchPage({ startMs: T0 - 3_600_000, endMs: T0 }));
    for (let k = 0; k < 3; k++) {
      clock.advance(BINANCE_TRADE_HISTORY_SPACING_MS);
      await flush();
    }
    expect((await refused).error?.message).toBe('BTC-251123-126000-C trades: binance error -1003: Too many requests.');
    // Cancelled between symbols: the page is given up with the signal's reason.
    const ctl = new AbortController();
    const cancelled = settled(history.fetchPage({ startMs: T0 - 3_600_000, endMs: T0, signal: ctl.signal }));
    clock.advance(BINANCE_TRADE_HISTORY_SPACING_MS);
    await flush();
    ctl.abort(new Error('cancelled'));
    expect((await cancelled).error?.message).toBe('cancelled');
    feed.stop();
  });
});
