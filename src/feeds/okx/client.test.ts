import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createOkxFeed, OKX_MAX_REQUEST_CHARS } from './client.ts';
import { parseOkxOptionName } from './parse.ts';
import { feedRig, flush } from '../testing.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('okx');
const summaryText = readFileSync(DIR + 'ws-opt-summary-BTC-USD-2023-12-01T000000085Z.json', 'utf8');
const summary = JSON.parse(summaryText) as { data: { instId: string }[] };
const swapBody = JSON.parse(readFileSync(DIR + 'rest-public-instruments-SWAP-2022-05-13.json', 'utf8')) as unknown;

/** An instruments body listing exactly the recorded opt-summary's 64 options (0.1 BTC each). */
const optionBody = {
  code: '0',
  msg: '',
  data: summary.data.map((r) => {
    const n = parseOkxOptionName(r.instId)!;
    return { instId: r.instId, instType: 'OPTION', state: 'live', stk: String(n.strike), expTime: String(n.expiryMs), ctVal: '1', ctMult: '0.1', ctValCcy: 'BTC', optType: n.isCall ? 'C' : 'P', uly: 'BTC-USD' };
  }),
};

/** The USD-margined family: the first 16 of those strikes and expiries as `BTC-USD_UM-...`, 0.01 BTC each, settled in USD. */
const umNames = summary.data.slice(0, 16).map((r) => r.instId.replace('BTC-USD-', 'BTC-USD_UM-'));
const umBody = {
  code: '0',
  msg: '',
  data: umNames.map((instId) => {
    const n = parseOkxOptionName(instId)!;
    return { instId, instType: 'OPTION', instFamily: 'BTC-USD_UM', state: 'live', stk: String(n.strike), expTime: String(n.expiryMs), ctVal: '0.01', ctMult: '1', ctValCcy: 'BTC', settleCcy: 'USD', optType: n.isCall ? 'C' : 'P', uly: 'BTC-USD' };
  }),
};

/** REST answers of the rig: the swap spec, the coin family (64 options) and the USD-margined family (16). */
const answer = (url: string): unknown => (url.includes('instType=SWAP') ? swapBody : url.includes('instFamily=BTC-USD_UM') ? umBody : optionBody);

function setup() {
  const rig = feedRig(Date.UTC(2023, 11, 1, 0, 0, 0), answer);
  return { ...rig, feed: createOkxFeed({ url: 'ws://127.0.0.1:8787/okx/ws/v5/public', ...rig.options }) };
}

const indexFrame = (px: string, ts: number) => JSON.stringify({ arg: { channel: 'index-tickers', instId: 'BTC-USD' }, data: [{ instId: 'BTC-USD', idxPx: px, ts: String(ts) }] });

describe('OKX client', () => {
  it('fetches both option families through the same-origin pass-through and subscribes the whole set on open', async () => {
    const { sockets, sink, feed, urls } = setup();
    feed.start();
    await flush();
    expect(urls).toEqual([
      'http://127.0.0.1:8787/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD',
      'http://127.0.0.1:8787/okx/rest/api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP',
      'http://127.0.0.1:8787/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD_UM',
    ]);
    expect(sink.instrumentCalls).toHaveLength(1);
    const list = sink.instrumentCalls[0].list;
    expect(list).toHaveLength(64 + 16);
    expect(list.filter((i) => i.family === 'BTC-USD' && i.multiplier === 0.1 && i.settleCurrency === undefined)).toHaveLength(64);
    expect(list.filter((i) => i.family === 'BTC-USD_UM' && i.multiplier === 0.01 && i.settleCurrency === 'USD')).toHaveLength(16);
    expect(sockets).toHaveLength(1);
    sockets[0].open();
    const args = sockets[0].sent.flatMap((m) => (JSON.parse(m) as { args: { channel: string; instId?: string; instFamily?: string }[] }).args);
    expect(args.filter((a) => a.channel === 'open-interest' && a.instId !== 'BTC-USDT-SWAP')).toHaveLength(64 + 16);
    expect(args.filter((a) => a.channel === 'opt-summary').map((a) => a.instFamily)).toEqual(['BTC-USD', 'BTC-USD_UM']);
    expect(args.some((a) => a.channel === 'books' && a.instId === 'BTC-USDT-SWAP')).toBe(true);
    for (const m of sockets[0].sent) expect(m.length).toBeLessThanOrEqual(OKX_MAX_REQUEST_CHARS + 40);
    // The recorded opt-summary push then lands as 64 lines and 11 forwards.
    sockets[0].receive(summaryText);
    expect(sink.optionUpdates).toHaveLength(64);
    expect(sink.forwardUpdates).toHaveLength(11);
    feed.stop();
  });

  it('USD-margined lines: their own opt-summary and OI (in coin by their 0.01 contract); a family OKX refuses is named once and the other one still charted', async () => {
    const { sockets, sink, feed } = setup();
    feed.start();
    await flush();
    sockets[0].open();
    const um = umNames[3];
    sockets[0].receive(JSON.stringify({ arg: { channel: 'opt-summary', instFamily: 'BTC-USD_UM' }, data: [{ instId: um, markVol: '0.55', fwdPx: '38100', ts: '1701388800100' }] }));
    sockets[0].receive(JSON.stringify({ arg: { channel: 'open-interest', instId: um }, data: [{ instType: 'OPTION', instId: um, oi: '1250', oiCcy: '12.5', ts: '1701388800200' }] }));
    expect(sink.optionUpdates).toEqual([
      { name: um, timestampMs: 1701388800100, markIv: 0.55, forward: 38100 },
      { name: um, timestampMs: 1701388800200, openInterest: 1250 },
    ]);
    expect(sink.drops()).toEqual([]);
    expect(sink.events.filter((e) => e.kind === 'venueError')).toEqual([]);
    feed.stop();

    // OKX lists no USD-margined family for the coin: the coin family is charted, the other named
    const rig = feedRig(Date.UTC(2023, 11, 1), (url) => (url.includes('instFamily=BTC-USD_UM') ? { code: '51000', msg: 'Parameter instFamily error', data: [] } : answer(url)));
    const f2 = createOkxFeed({ url: 'ws://127.0.0.1:8787/okx/ws/v5/public', ...rig.options });
    f2.start();
    await flush();
    expect(rig.sink.instrumentCalls[0].list).toHaveLength(64);
    const errors = rig.sink.events.filter((e) => e.kind === 'venueError');
    expect(errors).toEqual([{ kind: 'venueError', code: null, message: 'option family left out: BTC-USD_UM: okx error 51000: Parameter instFamily error', retryInMs: null }]);
    f2.stop();

    // both refused: the load fails and is retried
    const rig3 = feedRig(Date.UTC(2023, 11, 1), (url) => (url.includes('OPTION') ? { code: '50026', msg: 'System error', data: [] } : answer(url)));
    const f3 = createOkxFeed({ url: 'ws://127.0.0.1:8787/okx/ws/v5/public', ...rig3.options });
    f3.start();
    await flush();
    expect(rig3.sink.instrumentCalls).toEqual([]);
    expect(rig3.sink.events.find((e) => e.kind === 'venueError' && e.retryInMs !== null)).toBeTruthy();
    f3.stop();
  });

  it('keepalive: text ping after 20 s idle; no pong within 10 s -> reconnect with backoff and resubscribe', async () => {
    const { clock, sockets, sink, feed } = setup();
    feed.start();
    await flush();
    sockets[0].open();
    const firstSet = [...sockets[0].sent];
    clock.advance(19_999);
    expect(sockets[0].sent).not.toContain('ping');
    clock.advance(1);
    expect(sockets[0].sent.at(-1)).toBe('ping');
    sockets[0].receive('pong');
    clock.advance(15_000);
    expect(sockets[0].closed).toBeNull();
    // Next ping goes unanswered.
    clock.advance(5_000);
    expect(sockets[0].sent.filter((s) => s === 'ping')).toHaveLength(2);
    clock.advance(10_000);
    expect(sockets[0].closed).not.toBeNull();
    const closed = sink.events.find((e) => e.kind === 'closed');
    expect(closed && closed.kind === 'closed' && closed.retryInMs).toBe(500); // full jitter: 0.5 x 1 s
    clock.advance(500);
    expect(sockets).toHaveLength(2);
    sockets[1].open();
    expect(sockets[1].sent).toEqual(firstSet);
    feed.stop();
  });

  it('frames of the old socket are ignored after a reconnect', async () => {
    const { clock, sockets, sink, feed } = setup();
    feed.start();
    await flush();
    sockets[0].open();
    sockets[0].receive(indexFrame('37700', 1701388800000));
    expect(sink.indexes).toEqual([{ price: 37700, timestampMs: 1701388800000 }]);
    sockets[0].serverClose(1006, 'gone');
    clock.advance(1_000);
    expect(sockets).toHaveLength(2);
    sockets[1].open();
    sockets[0].captured.onmessage?.({ data: indexFrame('99999', 1701388801000) });
    sockets[0].captured.onclose?.({ code: 1000, reason: 'late close' });
    expect(sink.indexes).toHaveLength(1);
    expect(sockets).toHaveLength(2);
    sockets[1].receive(indexFrame('37701', 1701388802000));
    expect(sink.indexes.at(-1)).toEqual({ price: 37701, timestampMs: 1701388802000 });
    feed.stop();
  });

  it('bad frames are counted with reasons and never thrown', async () => {
    const { sockets, sink, feed } = setup();
    feed.start();
    await flush();
    sockets[0].open();
    const bad: unknown[] = [
      'not json',
      '{"arg":',
      'x'.repeat(2 * 1024 * 1024),
      new Uint8Array([1, 2, 3]),
      JSON.stringify({ arg: { channel: 'index-tickers', instId: 'BTC-USD' }, data: [{ instId: 'BTC-USD', idxPx: '-1', ts: '1701388800000' }] }),
      JSON.stringify({ arg: { channel: 'opt-summary', instFamily: 'BTC-USD' }, data: [{ instId: 'BTC-USD-231229-40000-P', markVol: '1e9', fwdPx: '38000', ts: '1701388800085' }] }),
      JSON.stringify({ arg: { channel: 'books', instId: 'BTC-USDT-SWAP' }, action: 'update', data: [{ asks: [], bids: [['37000', '1', '0', '1']], ts: '1701388800300' }] }),
      JSON.stringify({ arg: { channel: 'candle1m', instId: 'BTC-USDT' }, data: [] }),
      'null',
    ];
    expect(() => bad.forEach((b) => sockets[0].receive(b))).not.toThrow();
    expect(sink.drops()).toEqual(['malformed', 'malformed', 'oversize', 'malformed', 'badNumber', 'badNumber', 'unknownChannel', 'malformed']);
    expect(sink.optionUpdates).toEqual([]);
    expect(sink.indexes).toEqual([]);
    expect(sockets[0].closed).toBeNull();
    feed.stop();
  });

  it('perp: pushed book snapshot + mark + index -> PerpQuote in coin; a seqId gap clears the depth and is repaired by a REST snapshot, never a resubscribe', async () => {
    const { clock, sockets, sink, feed, urls } = setup();
    feed.start();
    await flush();
    sockets[0].open();
    const perpArg = { channel: 'mark-price', instId: 'BTC-USDT-SWAP' };
    sockets[0].receive(JSON.stringify({ arg: perpArg, data: [{ instId: 'BTC-USDT-SWAP', instType: 'SWAP', markPx: '37700.5', ts: '1701388800000' }] }));
    sockets[0].receive(JSON.stringify({ arg: { channel: 'index-tickers', instId: 'BTC-USDT' }, data: [{ instId: 'BTC-USDT', idxPx: '37699', ts: '1701388800001' }] }));
    const bids = [['37700', '100', '0', '1'], ['37500', '50', '0', '1'], ['36000', '10', '0', '1']];
    const asks = [['37701', '80', '0', '1'], ['37900', '20', '0', '1'], ['39000', '10', '0', '1']];
    sockets[0].receive(JSON.stringify({ arg: { channel: 'books', instId: 'BTC-USDT-SWAP' }, action: 'snapshot', data: [{ bids, asks, ts: '1701388800002', seqId: 10, prevSeqId: -1 }] }));
    const q = sink.perps.at(-1)!;
    expect(q.markPrice).toBe(37700.5);
    expect(q.indexPrice).toBe(37699);
    expect(q.bestBid).toBe(37700);
    expect(q.bestAsk).toBe(37701);
    // 0.01 BTC per contract (from the REST swap spec): 100 + 50 contracts within 1 % = 1.5 BTC.
    expect(q.depth.find((d) => d.bandPct === 1)).toEqual({ bandPct: 1, bidCoin: 1.5, askCoin: 1 });
    const sentBefore = sockets[0].sent.length;
    sockets[0].receive(JSON.stringify({ arg: { channel: 'books', instId: 'BTC-USDT-SWAP' }, action: 'update', data: [{ bids: [], asks: [], ts: '1701388800100', seqId: 12, prevSeqId: 11 }] }));
    expect(sink.drops()).toEqual(['bookGap']);
    expect(sink.perps.at(-1)!.bestBid).toBeNull();
    clock.advance(2_000);
    await flush();
    expect(sockets[0].sent.slice(sentBefore)).toEqual([]);
    expect(urls.filter((u) => u.includes('/market/books'))).toEqual(['http://127.0.0.1:8787/okx/rest/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400']);
    feed.stop();
  });

  it('books with checksum 0 and no pushed snapshot: the REST snapshot and the pushed updates join by seqId, whichever comes first; the chain is never resubscribed', async () => {
    let restSeq = 0;
    let restLevels = { bids: [['100', '5', '0', '1']], asks: [['101', '5', '0', '1']] };
    const rig = feedRig(Date.UTC(2023, 11, 1), (url) => {
      if (url.includes('/market/books')) return { code: '0', msg: '', data: [{ ...restLevels, ts: '1701388800000', seqId: restSeq }] };
      return answer(url);
    });
    const feed = createOkxFeed({ url: 'ws://127.0.0.1:8787/okx/ws/v5/public', ...rig.options });
    const { clock, sockets, sink, urls } = rig;
    const booksUrls = () => urls.filter((u) => u.includes('/market/books'));
    feed.start();
    await flush();
    sockets[0].open();
    sockets[0].receive(JSON.stringify({ arg: { channel: 'mark-price', instId: 'BTC-USDT-SWAP' }, data: [{ instId: 'BTC-USDT-SWAP', instType: 'SWAP', markPx: '100.5', ts: '1701388800000' }] }));
    sockets[0].receive(JSON.stringify({ arg: { channel: 'index-tickers', instId: 'BTC-USDT' }, data: [{ instId: 'BTC-USDT', idxPx: '100.5', ts: '1701388800000' }] }));
    const upd = (prev: number, seq: number, bids: string[][], asks: string[][] = []) =>
      JSON.stringify({ arg: { channel: 'books', instId: 'BTC-USDT-SWAP' }, action: 'update', data: [{ bids, asks, ts: String(1701388800000 + seq), checksum: 0, prevSeqId: prev, seqId: seq }] });
    // Two updates before the snapshot: held, and a snapshot is asked for at once.
    sockets[0].receive(upd(7, 8, [['99', '1', '0', '1']]));
    sockets[0].receive(upd(8, 9, [['98', '2', '0', '1']]));
    expect(sink.drops()).toEqual([]);
    restSeq = 8; // the snapshot contains update 8 but not 9
    restLevels = { bids: [['100', '5', '0', '1'], ['99', '1', '0', '1']], asks: [['101', '5', '0', '1']] };
    clock.advance(0);
    await flush();
    expect(booksUrls()).toHaveLength(1);
    let q = sink.perps.at(-1)!;
    expect(q.bestBid).toBe(100);
    expect(q.bestAsk).toBe(101);
    // updates chain on: 9 (held) was applied, 10 follows 9
    sockets[0].receive(upd(9, 10, [['100', '0', '0', '0']], [['100.8', '3', '0', '1']]));
    q = sink.perps.at(-1)!;
    expect(q.bestBid).toBe(99);
    expect(q.bestAsk).toBe(100.8);
    // a long intact chain with checksum 0: no drop, no request of any kind
    const sentBefore = sockets[0].sent.length;
    for (let k = 11; k < 600; k++) sockets[0].receive(upd(k - 1, k, [[String(90 + (k % 5)), String(k % 3), '0', '1']]));
    clock.advance(10_000);
    await flush();
    expect(sink.drops()).toEqual([]);
    expect(sockets[0].sent.slice(sentBefore).filter((m) => m !== 'ping')).toEqual([]);
    expect(booksUrls()).toHaveLength(1);
    expect(feed.requestStats?.().subscribesLastHour).toBe(sockets[0].sent.filter((m) => m.startsWith('{"op":"subscribe"')).length);
    // A break: counted once, the depth is withdrawn, a new snapshot (not a resubscribe) repairs it.
    sockets[0].receive(upd(700, 701, []));
    expect(sink.drops()).toEqual(['bookGap']);
    expect(sink.perps.at(-1)!.bestBid).toBeNull();
    restSeq = 702;
    sockets[0].receive(upd(701, 702, [['50', '1', '0', '1']])); // held until the snapshot
    clock.advance(2_000);
    await flush();
    expect(booksUrls()).toHaveLength(2);
    sockets[0].receive(upd(702, 703, [['99.5', '1', '0', '1']]));
    expect(sink.perps.at(-1)!.bestBid).toBe(100);
    expect(sink.drops()).toEqual(['bookGap']);
    expect(sockets[0].sent.slice(sentBefore).filter((m) => m !== 'ping')).toEqual([]);
    feed.stop();
  });

  it('the same book update twice (a flooded or duplicated frame) is counted as a duplicate, not a break', async () => {
    const rig = feedRig(Date.UTC(2023, 11, 1), (url) => (url.includes('/market/books') ? { code: '0', msg: '', data: [{ bids: [['100', '5', '0', '1']], asks: [['101', '5', '0', '1']], ts: '1701388800000', seqId: 5 }] } : answer(url)));
    const feed = createOkxFeed({ url: 'ws://127.0.0.1:8787/okx/ws/v5/public', ...rig.options });
    const { clock, sockets, sink, urls } = rig;
    feed.start();
    await flush();
    sockets[0].open();
    const upd = (prev: number, seq: number, px: string) => JSON.stringify({ arg: { channel: 'books', instId: 'BTC-USDT-SWAP' }, action: 'update', data: [{ bids: [[px, '1', '0', '1']], asks: [], ts: String(1701388800000 + seq), checksum: 0, prevSeqId: prev, seqId: seq }] });
    sockets[0].receive(upd(5, 6, '99'));
    clock.advance(0);
    await flush();
    for (let k = 0; k < 10; k++) sockets[0].receive(upd(6, 7, '98')); // ten copies
    sockets[0].receive(upd(7, 8, '97'));
    clock.advance(5_000);
    await flush();
    expect(sink.drops()).toEqual(Array(9).fill('duplicate'));
    expect(urls.filter((u) => u.includes('/market/books'))).toHaveLength(1);
    feed.stop();
  });

  it('snapshot requests are rate-bounded: a chain that keeps breaking is asked for again at a growing spacing', async () => {
    const rig = feedRig(Date.UTC(2023, 11, 1), (url) => {
      if (url.includes('/market/books')) return { code: '0', msg: '', data: [{ bids: [['100', '5', '0', '1']], asks: [['101', '5', '0', '1']], ts: '1701388800000', seqId: 1 }] };
      return answer(url);
    });
    const feed = createOkxFeed({ url: 'ws://127.0.0.1:8787/okx/ws/v5/public', ...rig.options });
    const { clock, sockets, urls } = rig;
    feed.start();
    await flush();
    sockets[0].open();
    const at: number[] = [];
    const t0 = clock.now();
    // every update names a predecessor the snapshot never had: each snapshot fails to join
    for (let k = 0; k < 400; k++) {
      sockets[0].receive(JSON.stringify({ arg: { channel: 'books', instId: 'BTC-USDT-SWAP' }, action: 'update', data: [{ bids: [], asks: [], ts: String(1701388800000 + k), checksum: 0, prevSeqId: 1000 + k, seqId: 1001 + k }] }));
      const before = urls.length;
      clock.advance(100);
      await flush();
      if (urls.length > before && urls.at(-1)!.includes('/market/books')) at.push(clock.now() - t0);
    }
    // 40 s: requests at 0.1, ~1, ~3, ~7, ~15, ~31 s (doubling), not one per update
    expect(at.length).toBeLessThanOrEqual(7);
    expect(at.length).toBeGreaterThanOrEqual(5);
    for (let i = 2; i < at.length; i++) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(1.9 * (at[i - 1] - at[i - 2]) - 200);
    feed.stop();
  });

  it('64008 service-upgrade notice reconnects; venue errors are reported, not fatal', async () => {
    const { clock, sockets, sink, feed } = setup();
    feed.start();
    await flush();
    sockets[0].open();
    sockets[0].receive(JSON.stringify({ event: 'error', code: '60018', msg: "channel doesn't exist" }));
    expect(sockets[0].closed).toBeNull();
    expect(sink.events.some((e) => e.kind === 'venueError' && e.code === 60018)).toBe(true);
    sockets[0].receive(JSON.stringify({ event: 'notice', code: '64008', msg: 'service upgrade' }));
    expect(sockets[0].closed).not.toBeNull();
    clock.advance(1_000);
    expect(sockets).toHaveLength(2);
    feed.stop();
    clock.advance(60_000);
    expect(sockets).toHaveLength(2);
  });
});
