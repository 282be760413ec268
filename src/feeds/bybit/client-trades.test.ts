/** The Bybit client's trade tape: publicTrade on an option socket and the REST history, against scripted sockets and a REST stub. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BYBIT_TRADE_HISTORY_SPACING_MS, createBybitFeed } from './client.ts';
import { feedRig, flush, settled } from '../testing.ts';
import { sampleDir } from '../../../test/samples.ts';

const recorded = (JSON.parse(readFileSync(sampleDir('bybit') + 'tardis-node-bybit-options-v5-messages.json', 'utf8')) as { messages: { topic: string }[] }).messages.find((m) => m.topic === 'publicTrade.BTC')!;
const T0 = 1680652922102;
const listing = { retCode: 0, retMsg: 'OK', result: { category: 'option', nextPageCursor: '', list: [{ symbol: 'BTC-28APR23-29500-C', status: 'Trading', baseCoin: 'BTC', optionsType: 'Call', deliveryTime: String(Date.UTC(2023, 3, 28, 8)) }] } };
const restRow = (execId: string, time: number, side = 'Buy') => ({ execId, symbol: 'BTC-28APR23-29500-C', price: '985', size: '0.5', side, time: String(time), isBlockTrade: false });

function setup(trades: () => unknown) {
  const tradeRequestsAt: number[] = [];
  const rig = feedRig(T0, (url) => {
    if (!url.includes('recent-trade')) return listing;
    tradeRequestsAt.push(rig.clock.now() - T0);
    return trades();
  });
  return { ...rig, tradeRequestsAt, feed: createBybitFeed({ url: 'ws://127.0.0.1:8787/bybit/v5/public/option', ...rig.options }) };
}

describe('Bybit client: trades', () => {
  it('publicTrade.BTC rides on the option socket; its trades reach the sink, bad rows are counted', async () => {
    const { sockets, sink, feed, clock } = setup(() => null);
    feed.start();
    await flush();
    const option = sockets[1];
    option.open();
    clock.advance(1_000);
    expect(option.sent.flatMap((m) => (JSON.parse(m) as { args?: string[] }).args ?? [])).toEqual(['publicTrade.BTC', 'tickers.BTC-28APR23-29500-C']);
    option.receive(JSON.stringify(recorded));
    expect(sink.tapeTrades).toEqual([
      { venue: 'bybit', instrument: 'BTC-28APR23-29500-C', tradeId: '0404c393-8419-5bac-95c3-5fea28404754', timestampMs: 1680652922081, takerSide: 'sell', contracts: 0.01, block: false, currency: 'BTC' },
    ]);
    expect(sink.count('data')).toBe(1);
    option.receive(JSON.stringify({ ...recorded, data: [{ ...(recorded as unknown as { data: object[] }).data[0], v: '-1' }] }));
    option.receive(JSON.stringify({ ...recorded, topic: 'publicTrade.ETH' }));
    expect(sink.tapeTrades).toHaveLength(1);
    expect(sink.count('data')).toBe(1);
    expect(sink.events.filter((e) => e.kind === 'dropped')).toEqual([
      { kind: 'dropped', reason: 'badAmount', count: 1 },
      { kind: 'dropped', reason: 'unknownInstrument' },
    ]);
    feed.stop();
  });

  it('history: the latest 1,000 trades of the coin in the window, oldest first, paced; an error answer rejects', async () => {
    let body: unknown = { retCode: 0, retMsg: 'OK', result: { category: 'option', list: [restRow('c', T0 - 1_000), restRow('b', T0 - 5_000, 'Sell'), restRow('a', T0 - 90_000_000)] } };
    const { feed, urls, clock, tradeRequestsAt } = setup(() => body);
    const history = feed.tradeHistory!;
    expect(history.reach).toBe('recent');
    const page = await settled(history.fetchPage({ startMs: T0 - 3_600_000, endMs: T0 }));
    expect(urls).toEqual(['http://127.0.0.1:8787/bybit/rest/v5/market/recent-trade?category=option&baseCoin=BTC&limit=1000']);
    expect(page.value).toEqual({
      trades: [expect.objectContaining({ tradeId: 'b', takerSide: 'sell', timestampMs: T0 - 5_000 }), expect.objectContaining({ tradeId: 'c', takerSide: 'buy' })],
      hasMore: false,
      dropped: {},
    });
    body = { retCode: 10006, retMsg: 'Too many visits!', result: {} };
    const refused = settled(history.fetchPage({ startMs: T0 - 3_600_000, endMs: T0 }));
    clock.advance(BYBIT_TRADE_HISTORY_SPACING_MS);
    expect((await refused).error?.message).toBe('recent-trade: bybit error 10006: Too many visits!');
    expect(tradeRequestsAt).toEqual([0, BYBIT_TRADE_HISTORY_SPACING_MS]);
  });
});
