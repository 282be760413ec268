/** The OKX client's trade tape: the option-trades channel and the REST history, against a scripted socket and REST stub. */
import { describe, expect, it } from 'vitest';
import { createOkxFeed, OKX_TRADE_HISTORY_SPACING_MS } from './client.ts';
import { feedRig, flush, settled } from '../testing.ts';
import { VenueTime, guardSink } from '../venue-time.ts';

const T0 = Date.UTC(2023, 0, 20);
const instrument = (instId: string, family: string, ctMult: string) => ({
  instId, instType: 'OPTION', instFamily: family, state: 'live', stk: '18000', expTime: String(Date.UTC(2023, 1, 24, 8)), ctVal: '1', ctMult, ctValCcy: 'BTC', optType: 'C',
});
const COIN = 'BTC-USD-230224-18000-C';
const UM = 'BTC-USD_UM-230224-18000-C';
/** The documented option-trades row (docs-v5), moved to `ts` with another id. */
const row = (instId: string, tradeId: string, ts: number, side = 'sell', sz = '2') => ({
  fillVol: '0.5066', fwdPx: '16469.7', idxPx: '16537.2', instFamily: instId.includes('_UM') ? 'BTC-USD_UM' : 'BTC-USD', instId, markPx: '0.0469', optType: 'C', px: '0.045', side, sz, tradeId, ts: String(ts),
});
const push = (r: ReturnType<typeof row> | Record<string, unknown>) =>
  JSON.stringify({ arg: { channel: 'option-trades', instType: 'OPTION', instFamily: String(r.instFamily ?? 'BTC-USD') }, data: [r] });

function setup(trades: (url: string) => unknown = () => ({ code: '0', msg: '', data: [] })) {
  const tradeRequestsAt: number[] = [];
  const rig = feedRig(T0, (url) => {
    if (url.includes('/option-trades')) {
      tradeRequestsAt.push(rig.clock.now() - T0);
      return trades(url);
    }
    if (url.includes('instType=SWAP')) return { code: '0', data: [] };
    return url.includes('BTC-USD_UM') ? { code: '0', data: [instrument(UM, 'BTC-USD_UM', '1')] } : { code: '0', data: [instrument(COIN, 'BTC-USD', '0.1')] };
  });
  const venueTime = new VenueTime();
  const sink = guardSink(rig.sink, venueTime, rig.clock, (reason) => rig.sink.status('okx', { kind: 'dropped', reason }));
  const feed = createOkxFeed({ ...rig.options, sink, venueNow: () => venueTime.nowMs, url: 'ws://127.0.0.1:8787/okx/ws/v5/public' });
  return { ...rig, feed, venueTime, tradeRequestsAt };
}

describe('OKX client: trades', () => {
  it('subscribes option-trades for both families in the same request and hands each trade to the sink; bad rows and trades ahead of venue time are counted, not data', async () => {
    const { sockets, sink, feed, clock } = setup();
    feed.start();
    await flush();
    sockets[0].open();
    const requests = sockets[0].sent.map((m) => JSON.parse(m) as { args: Record<string, string>[] });
    expect(requests.flatMap((r) => r.args).filter((a) => a.channel === 'option-trades')).toEqual([
      { channel: 'option-trades', instType: 'OPTION', instFamily: 'BTC-USD' },
      { channel: 'option-trades', instType: 'OPTION', instFamily: 'BTC-USD_UM' },
    ]);
    // Still one subscribe request for everything: the trade channels cost nothing of the 480 an hour.
    expect(feed.requestStats!().subscribesLastHour).toBe(1);
    sockets[0].receive(JSON.stringify({ arg: { channel: 'index-tickers', instId: 'BTC-USD' }, data: [{ instId: 'BTC-USD', idxPx: '16537.2', ts: String(T0) }] }));
    const data = () => sink.count('data');
    const before = data();
    sockets[0].receive(push(row(COIN, '38', T0 - 2_000)));
    sockets[0].receive(push(row(UM, '7', T0 - 1_000, 'buy', '5')));
    expect(data()).toBe(before + 2);
    expect(sink.tapeTrades).toEqual([
      { venue: 'okx', instrument: COIN, tradeId: `${COIN}:38`, timestampMs: T0 - 2_000, takerSide: 'sell', contracts: 2, block: false, currency: 'BTC' },
      { venue: 'okx', instrument: UM, tradeId: `${UM}:7`, timestampMs: T0 - 1_000, takerSide: 'buy', contracts: 5, block: false, currency: 'BTC' },
    ]);
    clock.advance(100);
    sockets[0].receive(push(row(COIN, '39', T0 + 3_600_000)));
    sockets[0].receive(push({ ...row(COIN, '40', T0), side: 'up' }));
    sockets[0].receive(JSON.stringify({ arg: { channel: 'option-trades', instType: 'OPTION', instFamily: 'ETH-USD' }, data: [row('ETH-USD-230224-1800-C', '1', T0)] }));
    expect(sink.tapeTrades).toHaveLength(2);
    expect(data()).toBe(before + 2);
    expect(sink.events.filter((e) => e.kind === 'dropped')).toEqual([
      { kind: 'dropped', reason: 'futureTimestamp' },
      { kind: 'dropped', reason: 'badSide', count: 1 },
      { kind: 'dropped', reason: 'unknownInstrument' },
    ]);
    feed.stop();
  });

  it('trade sizes follow the OI lines when OKX\'s OI pushes show another contract size than the listing', async () => {
    const { sockets, sink, feed } = setup();
    feed.start();
    await flush();
    sockets[0].open();
    // The listing says 0.1 BTC a contract; the OI push says 0.01 (oiCcy / oi): OI lines are oiCcy / 0.1.
    sockets[0].receive(JSON.stringify({ arg: { channel: 'open-interest', instId: COIN }, data: [{ instType: 'OPTION', instId: COIN, oi: '1000', oiCcy: '10', ts: String(T0) }] }));
    expect(sink.optionUpdates.at(-1)).toEqual({ name: COIN, timestampMs: T0, openInterest: 100 });
    sockets[0].receive(push(row(COIN, '41', T0, 'buy', '20')));
    // 20 venue contracts = 0.2 BTC = 2 of the line's OI units; the other family is untouched.
    sockets[0].receive(push(row(UM, '8', T0, 'buy', '20')));
    expect(sink.tapeTrades.map((t) => t.contracts)).toEqual([expect.closeTo(2, 12), 20]);
    feed.stop();
  });

  it('history: the latest trades of each listed family, in the window, oldest first, paced; an OKX error or a failed request rejects', async () => {
    const answers: Record<string, unknown> = {
      'BTC-USD': { code: '0', msg: '', data: [row(COIN, '12', T0 - 1_000), row(COIN, '11', T0 - 90_000), row(COIN, '10', T0 - 200_000)] },
      'BTC-USD_UM': { code: '0', msg: '', data: [row(UM, '3', T0 - 50_000, 'buy')] },
    };
    const { feed, urls, clock, tradeRequestsAt } = setup((url) => {
      const family = new URL(url).searchParams.get('instFamily')!;
      if (answers[family] instanceof Error) throw answers[family];
      return answers[family];
    });
    const history = feed.tradeHistory!;
    expect(history.reach).toBe('recent');
    expect(history.note).toMatch(/latest 100/);
    feed.start();
    await flush();
    const pending = settled(history.fetchPage({ startMs: T0 - 100_000, endMs: T0 }));
    await flush();
    clock.advance(OKX_TRADE_HISTORY_SPACING_MS);
    const page = await pending;
    const tradeUrls = urls.filter((u) => u.includes('option-trades'));
    expect(tradeUrls).toEqual([
      'http://127.0.0.1:8787/okx/rest/api/v5/public/option-trades?instFamily=BTC-USD',
      'http://127.0.0.1:8787/okx/rest/api/v5/public/option-trades?instFamily=BTC-USD_UM',
    ]);
    expect(tradeRequestsAt).toEqual([0, OKX_TRADE_HISTORY_SPACING_MS]);
    expect(page.value).toEqual({
      trades: [
        expect.objectContaining({ tradeId: `${COIN}:11`, timestampMs: T0 - 90_000 }),
        expect.objectContaining({ tradeId: `${UM}:3`, timestampMs: T0 - 50_000, takerSide: 'buy' }),
        expect.objectContaining({ tradeId: `${COIN}:12`, timestampMs: T0 - 1_000 }),
      ],
      hasMore: false,
      dropped: {},
    });
    answers['BTC-USD_UM'] = { code: '50011', msg: 'Too Many Requests', data: [] };
    const refused = settled(history.fetchPage({ startMs: T0 - 100_000, endMs: T0 }));
    clock.advance(OKX_TRADE_HISTORY_SPACING_MS);
    await flush();
    clock.advance(OKX_TRADE_HISTORY_SPACING_MS);
    expect((await refused).error?.message).toBe('BTC-USD_UM option-trades: okx error 50011: Too Many Requests');
    answers['BTC-USD'] = new Error('HTTP 502');
    const failed = settled(history.fetchPage({ startMs: T0 - 100_000, endMs: T0 }));
    clock.advance(OKX_TRADE_HISTORY_SPACING_MS);
    expect((await failed).error?.message).toBe('HTTP 502');
    feed.stop();
  });
});
