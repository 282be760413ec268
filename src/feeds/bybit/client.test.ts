import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BYBIT_ARGS_CHARS_PER_CONN, createBybitFeed } from './client.ts';
import { feedRig, flush, type FakeSocket } from '../testing.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('bybit');
type DocBlock = { tab: string | null; example: unknown };
const docs = JSON.parse(readFileSync(DIR + 'docs-examples.json', 'utf8')) as Record<string, DocBlock[]>;
const optionTicker = docs['docs/v5/websocket/public/ticker.mdx'].find((b) => b.tab === 'Option')!.example;
const linear = (JSON.parse(readFileSync(DIR + 'tardis-node-bybit-v5-linear-inverse-messages.json', 'utf8')) as { messages: Record<string, unknown>[] }).messages;

/** 1,200 listed BTC options (two pages) plus the docs example's BTC-6JAN23-17500-C. */
function instrumentPages(): unknown[] {
  const rows = [{ symbol: 'BTC-6JAN23-17500-C', status: 'Trading', baseCoin: 'BTC', optionsType: 'Call', deliveryTime: String(Date.UTC(2023, 0, 6, 8)) }];
  for (let k = 0; k < 600; k++) {
    for (const cp of ['C', 'P'] as const) {
      rows.push({ symbol: `BTC-29DEC23-${10000 + k * 100}-${cp}`, status: 'Trading', baseCoin: 'BTC', optionsType: cp === 'C' ? 'Call' : 'Put', deliveryTime: String(Date.UTC(2023, 11, 29, 8)) });
    }
  }
  const page = (list: unknown[], cursor: string) => ({ retCode: 0, retMsg: 'OK', result: { category: 'option', nextPageCursor: cursor, list }, time: 0 });
  return [page(rows.slice(0, 1000), 'abc=='), page(rows.slice(1000), '')];
}

function setup() {
  const pages = instrumentPages();
  const rig = feedRig(Date.UTC(2023, 0, 5, 0, 0, 0), (url) => (url.includes('cursor=') ? pages[1] : pages[0]));
  return { ...rig, feed: createBybitFeed({ url: 'ws://127.0.0.1:8787/bybit/v5/public/option', ...rig.options }) };
}

const topicsOf = (s: FakeSocket) => s.sent.filter((m) => m.includes('"subscribe"')).flatMap((m) => (JSON.parse(m) as { args: string[] }).args);

describe('Bybit client', () => {
  it('pages the instruments and partitions option topics under 2,000 args / 21,000 chars per socket', async () => {
    const { clock, sockets, sink, feed, urls } = setup();
    feed.start();
    await flush();
    expect(urls).toEqual([
      'http://127.0.0.1:8787/bybit/rest/v5/market/instruments-info?category=option&baseCoin=BTC&limit=1000',
      'http://127.0.0.1:8787/bybit/rest/v5/market/instruments-info?category=option&baseCoin=BTC&limit=1000&cursor=abc%3D%3D',
    ]);
    expect(sink.instrumentCalls[0].list).toHaveLength(1201);
    expect(sockets[0].url).toBe('ws://127.0.0.1:8787/bybit/v5/public/linear');
    const optionSockets = sockets.slice(1);
    expect(optionSockets.length).toBe(2);
    for (const s of sockets) s.open();
    clock.advance(10_000); // requests are paced 200 ms apart
    expect(topicsOf(sockets[0])).toEqual(['tickers.BTCUSDT', 'orderbook.200.BTCUSDT']);
    const all = new Set<string>();
    for (const s of optionSockets) {
      expect(s.url).toBe('ws://127.0.0.1:8787/bybit/v5/public/option');
      const t = topicsOf(s);
      expect(JSON.stringify(t).length).toBeLessThanOrEqual(BYBIT_ARGS_CHARS_PER_CONN);
      for (const m of s.sent) if (m.includes('subscribe')) expect((JSON.parse(m) as { args: string[] }).args.length).toBeLessThanOrEqual(100);
      t.forEach((x) => all.add(x));
    }
    // Every listed option's ticker, and the coin's one trade topic.
    expect(all.size).toBe(1202);
    expect(all.has('publicTrade.BTC')).toBe(true);
    // The docs option ticker lands as one line, one forward, the index.
    optionSockets.find((s) => topicsOf(s).includes('tickers.BTC-6JAN23-17500-C'))!.receive(JSON.stringify(optionTicker));
    expect(sink.optionUpdates).toEqual([{ name: 'BTC-6JAN23-17500-C', timestampMs: 1672917511074, markIv: 0.4896, forward: 16815.1, openInterest: 49.85 }]);
    expect(sink.forwardUpdates).toEqual([{ expiryMs: Date.UTC(2023, 0, 6, 8), forward: 16815.1, timestampMs: 1672917511074 }]);
    expect(sink.indexes).toEqual([{ price: 16823.73, timestampMs: 1672917511074 }]);
    feed.stop();
  });

  it('ping every 20 s; silence after a ping -> reconnect and resubscribe the same share', async () => {
    const { clock, sockets, sink, feed } = setup();
    feed.start();
    await flush();
    for (const s of sockets) s.open();
    clock.advance(10_000);
    const share = topicsOf(sockets[1]);
    clock.advance(10_000); // t = 20 s after open
    for (const s of sockets) expect(s.sent.filter((m) => m.includes('"op":"ping"'))).toHaveLength(1);
    sockets[0].receive(JSON.stringify({ success: true, ret_msg: 'pong', conn_id: 'x', req_id: '', op: 'ping' }));
    sockets[1].receive(JSON.stringify({ args: ['1672916271846'], op: 'pong' }));
    clock.advance(10_000);
    expect(sockets[0].closed).toBeNull();
    expect(sockets[1].closed).toBeNull();
    expect(sockets[2].closed).not.toBeNull(); // no pong
    expect(sink.count('closed')).toBe(1);
    clock.advance(1_000);
    expect(sockets).toHaveLength(4);
    sockets[3].open();
    clock.advance(10_000);
    expect(topicsOf(sockets[3]).sort()).toEqual(topicsOf(sockets[2]).sort());
    expect(topicsOf(sockets[3])).not.toEqual(share);
    feed.stop();
  });

  it('old-socket frames ignored; bad frames counted; linear snapshot + delta merge into one PerpQuote', async () => {
    const { clock, sockets, sink, feed } = setup();
    feed.start();
    await flush();
    for (const s of sockets) s.open();
    const lin = sockets[0];
    const snap = linear.find((x) => x.topic === 'tickers.BTCUSDT')!;
    lin.receive(JSON.stringify(snap));
    // the 2023 frame has only the both-sides openInterest: halved to one side, and said so
    expect(sink.perps.at(-1)).toMatchObject({ venue: 'bybit', instrument: 'BTCUSDT', markPrice: 28552.81, indexPrice: 28562.25, funding8h: 0.0001, openInterestCoin: 52774.528 / 2, bestBid: 28550.7, bestAsk: 28550.8, depth: [] });
    expect(sink.events.filter((e) => e.kind === 'assumption')).toEqual([{ kind: 'assumption', key: 'perpOi', message: 'BTCUSDT open interest: both sides halved (no singleOpenInterest)' }]);
    lin.receive(JSON.stringify({ topic: 'tickers.BTCUSDT', type: 'delta', ts: 1680673822000, cs: 1, data: { symbol: 'BTCUSDT', markPrice: '28560.00' } }));
    expect(sink.perps.at(-1)).toMatchObject({ markPrice: 28560, indexPrice: 28562.25, openInterestCoin: 52774.528 / 2, timestampMs: 1680673822000 });
    // singleOpenInterest (since 2026-06) is used as it is, and the note is withdrawn
    lin.receive(JSON.stringify({ topic: 'tickers.BTCUSDT', type: 'delta', ts: 1680673822100, cs: 2, data: { symbol: 'BTCUSDT', openInterest: '52780', singleOpenInterest: '26390.5' } }));
    expect(sink.perps.at(-1)).toMatchObject({ openInterestCoin: 26390.5 });
    expect(sink.events.filter((e) => e.kind === 'assumption').at(-1)).toEqual({ kind: 'assumption', key: 'perpOi', message: null });
    const before = sink.perps.length;
    lin.serverClose(1006, 'x');
    clock.advance(600);
    expect(sockets).toHaveLength(4);
    lin.captured.onmessage?.({ data: JSON.stringify(snap) });
    expect(sink.perps.length).toBe(before);
    const bad = ['{', 'x'.repeat(2 * 1024 * 1024), JSON.stringify({ topic: 'tickers.BTCUSDT', type: 'delta', ts: 1680673822000, data: { symbol: 'BTCUSDT', markPrice: 'NaN' } }), JSON.stringify({ topic: 'orderbook.200.BTCUSDT', type: 'delta', ts: 1680673822000, data: { s: 'BTCUSDT', b: [], a: [], u: 5 } })];
    sockets[3].open();
    expect(() => bad.forEach((b) => sockets[3].receive(b))).not.toThrow();
    expect(sink.drops()).toEqual(['malformed', 'oversize', 'badNumber', 'bookNoSnapshot']);
    feed.stop();
  });
});
