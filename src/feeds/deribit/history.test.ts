/** Deribit's trade channel and trade history over the feed's socket, against a scripted venue end (FakeSocket). */
import { describe, expect, it } from 'vitest';
import type { TradeHistoryPage } from '../adapter.ts';
import { feedRig, flush, settle, type FakeSocket } from '../testing.ts';
import { createDeribitFeed } from './client.ts';
import { TRADE_PAGE_MIN_SPACING_MS, TRADE_PAGE_TIMEOUT_MS } from './limits.ts';
import { TRADE_HISTORY_METHOD } from './history.ts';

const T0 = 1_700_000_000_000;
const row = (id: number, ts: number, over: Record<string, unknown> = {}) => ({
  trade_seq: id, trade_id: String(id), timestamp: ts, tick_direction: 1, price: 0.01, mark_price: 0.01, iv: 50, instrument_name: 'BTC-29DEC23-40000-C', index_price: 37000, direction: 'buy', amount: 1, ...over,
});

function setup() {
  const rig = feedRig(T0, () => {
    throw new Error('Deribit asks nothing over REST');
  });
  const feed = createDeribitFeed({ ...rig.options, url: 'ws://127.0.0.1:8787/deribit/ws/api/v2', heartbeatSec: 10 });
  const history = feed.tradeHistory!;
  const socket = () => rig.sockets[rig.sockets.length - 1];
  const pages = (s: FakeSocket = socket()) =>
    s.sent.map((text, k) => ({ ...(JSON.parse(text) as { id: number; method: string; params: Record<string, unknown> }), at: s.sentAt[k] })).filter((c) => c.method === TRADE_HISTORY_METHOD);
  const answer = (result: unknown, nth = -1) => {
    const p = pages();
    socket().receive(JSON.stringify({ jsonrpc: '2.0', id: p.at(nth)!.id, result, usIn: 0, usOut: 0, usDiff: 0, testnet: false }));
  };
  const fail = (code: number, message: string) => socket().receive(JSON.stringify({ jsonrpc: '2.0', id: pages().at(-1)!.id, error: { code, message } }));
  feed.start();
  socket().open();
  return { ...rig, feed, history, socket, pages, answer, fail };
}

describe('Deribit trade history', () => {
  it('asks for one page of 1,000 option trades in time order over the socket, and gives them oldest first with has_more and the drops', async () => {
    const { history, pages, answer, sink } = setup();
    expect(history.reach).toBe('window');
    const got = settle(history.fetchPage({ startMs: T0 - 7 * 86_400_000, endMs: T0 }));
    await flush();
    expect(pages().map((p) => p.params)).toEqual([
      { currency: 'BTC', kind: 'option', start_timestamp: T0 - 7 * 86_400_000, end_timestamp: T0, count: 1000, sorting: 'asc' },
    ]);
    answer({ trades: [row(2, T0 - 5_000, { block_trade_id: 'BLOCK-1' }), row(1, T0 - 6_000, { direction: 'sell' }), row(3, T0 - 4_000, { amount: -1 }), row(4, T0 - 3_000, { instrument_name: 'BTC-PERPETUAL' })], has_more: true });
    await flush();
    expect(got.value).toEqual<TradeHistoryPage>({
      trades: [
        { venue: 'deribit', instrument: 'BTC-29DEC23-40000-C', tradeId: '1', timestampMs: T0 - 6_000, takerSide: 'sell', contracts: 1, block: false },
        { venue: 'deribit', instrument: 'BTC-29DEC23-40000-C', tradeId: '2', timestampMs: T0 - 5_000, takerSide: 'buy', contracts: 1, block: true },
      ],
      hasMore: true,
      dropped: { badAmount: 1, notOption: 1 },
    });
    // A history page is no live data: the sink heard nothing of it.
    expect(sink.tapeTrades).toEqual([]);
    expect(sink.count('data')).toBe(0);
  });

  it('paces pages inside Deribit\'s credits: back-to-back calls go out 200 ms apart', async () => {
    const { history, pages, answer, clock } = setup();
    const a = settle(history.fetchPage({ startMs: T0 - 10_000, endMs: T0 }));
    const b = settle(history.fetchPage({ startMs: T0 - 5_000, endMs: T0 }));
    await flush();
    expect(pages()).toHaveLength(1);
    clock.advance(TRADE_PAGE_MIN_SPACING_MS - 1);
    await flush();
    expect(pages()).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(pages().map((p) => p.at - T0)).toEqual([0, TRADE_PAGE_MIN_SPACING_MS]);
    answer({ trades: [], has_more: false }, 1);
    answer({ trades: [row(9, T0 - 9_000)], has_more: false }, 0);
    await flush();
    expect(a.value?.trades.map((t) => t.tradeId)).toEqual(['9']);
    expect(b.value).toEqual({ trades: [], hasMore: false, dropped: {} });
  });

  it('a full page inside the millisecond it starts at would come back forever: the rest of that millisecond is skipped and counted', async () => {
    const { history, pages, answer, clock } = setup();
    const T = T0 - 60_000;
    const sameMs = Array.from({ length: 1000 }, (_, i) => row(100 + i, T));
    // A page ending in a crowded millisecond is ordinary: the caller asks again from T and gets the rest.
    const ordinary = settle(history.fetchPage({ startMs: T - 1_000, endMs: T0 }));
    await flush();
    answer({ trades: sameMs, has_more: true });
    await flush();
    expect(ordinary.value?.trades).toHaveLength(1000);
    expect(ordinary.value?.dropped).toEqual({});
    expect(pages()).toHaveLength(1);
    // Asked again from T, the same page: this time the feed goes on from T + 1 in the same call.
    const stuck = settle(history.fetchPage({ startMs: T, endMs: T0 }));
    clock.advance(TRADE_PAGE_MIN_SPACING_MS);
    await flush();
    answer({ trades: sameMs, has_more: true });
    clock.advance(TRADE_PAGE_MIN_SPACING_MS);
    await flush();
    expect(pages().map((p) => p.params.start_timestamp)).toEqual([T - 1_000, T, T + 1]);
    answer({ trades: [row(5000, T + 7)], has_more: false });
    await flush();
    expect(stuck.value?.trades).toHaveLength(1001);
    expect(stuck.value?.trades.at(-1)?.tradeId).toBe('5000');
    expect(stuck.value?.hasMore).toBe(false);
    expect(stuck.value?.dropped).toEqual({ millisecondBeyondPage: 1 });
    // At the window's end there is no next millisecond: the page ends there.
    const atEnd = settle(history.fetchPage({ startMs: T, endMs: T }));
    clock.advance(TRADE_PAGE_MIN_SPACING_MS);
    await flush();
    answer({ trades: sameMs, has_more: true });
    await flush();
    expect(atEnd.value).toMatchObject({ hasMore: false, dropped: { millisecondBeyondPage: 1 } });
    expect(pages()).toHaveLength(4);
  });

  it('failures reject (the caller retries): a venue error, a closed connection, no connection, no answer, a malformed answer, an abort', async () => {
    const { history, fail, answer, clock, socket, sink, pages } = setup();
    const step = async (ms = TRADE_PAGE_MIN_SPACING_MS) => {
      clock.advance(ms);
      await flush();
    };
    const venueError = settle(history.fetchPage({ startMs: T0 - 1_000, endMs: T0 }));
    await step(0);
    fail(-32602, 'Invalid params');
    await step(0);
    expect(venueError.error?.message).toBe('Deribit error -32602: Invalid params');
    // The caller shows it; it is not the live feed's error.
    expect(sink.ofKind('venueError')).toEqual([]);

    const malformed = settle(history.fetchPage({ startMs: T0 - 1_000, endMs: T0 }));
    await step();
    answer({ nope: true });
    await step(0);
    expect(malformed.error?.message).toMatch(/no trades list/);

    const silent = settle(history.fetchPage({ startMs: T0 - 1_000, endMs: T0 }));
    await step();
    // The session itself stays alive (Deribit's heartbeats come); only the page goes unanswered.
    for (let t = 0; t < TRADE_PAGE_TIMEOUT_MS - 5_000; t += 5_000) {
      socket().receive(JSON.stringify({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'heartbeat' } }));
      await step(5_000);
    }
    await step(4_999);
    expect(silent.error).toBeUndefined();
    await step(1);
    expect(silent.error?.message).toMatch(/no answer .* within 30 s/);

    const ctl = new AbortController();
    const aborted = settle(history.fetchPage({ startMs: T0 - 1_000, endMs: T0, signal: ctl.signal }));
    await step();
    ctl.abort(new Error('cancelled'));
    await step(0);
    expect(aborted.error?.message).toBe('cancelled');

    const closed = settle(history.fetchPage({ startMs: T0 - 1_000, endMs: T0 }));
    await step();
    expect(pages()).toHaveLength(5);
    socket().serverClose(1006, '');
    await step(0);
    expect(closed.error?.message).toBe('connection closed before the answer');
    const offline = settle(history.fetchPage({ startMs: T0 - 1_000, endMs: T0 }));
    await step();
    expect(offline.error?.message).toBe('not connected');

    const bad = settle(history.fetchPage({ startMs: T0, endMs: T0 - 1 }));
    await step(0);
    expect(bad.error?.message).toMatch(/bad trade history window/);
  });

  it('10028 too_many_requests rejects the page and ends the session, as for any request', async () => {
    const { history, fail, sink, socket } = setup();
    const p = settle(history.fetchPage({ startMs: T0 - 1_000, endMs: T0 }));
    await flush();
    fail(10028, 'too_many_requests');
    await flush();
    expect(p.error?.message).toBe('Deribit error 10028: too_many_requests');
    expect(socket().closed).not.toBeNull();
    expect(sink.ofKind('venueError')).toMatchObject([{ code: 10028 }]);
  });
});

describe('Deribit client: trades channel', () => {
  it('hands the channel\'s trades to the sink as data, counts bad rows; another currency\'s channel is not this feed\'s', () => {
    const { socket, sink } = setup();
    const note = (channel: string, data: unknown) => socket().receive(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } }));
    note('trades.option.BTC.100ms', [row(1, T0 - 1_000), row(2, T0 - 900, { direction: 'sell', block_trade_id: 'B1' }), row(3, T0, { amount: 'x' })]);
    expect(sink.tapeTrades).toEqual([
      { venue: 'deribit', instrument: 'BTC-29DEC23-40000-C', tradeId: '1', timestampMs: T0 - 1_000, takerSide: 'buy', contracts: 1, block: false, currency: 'BTC' },
      { venue: 'deribit', instrument: 'BTC-29DEC23-40000-C', tradeId: '2', timestampMs: T0 - 900, takerSide: 'sell', contracts: 1, block: true, currency: 'BTC' },
    ]);
    expect(sink.count('data')).toBe(1);
    note('trades.option.ETH.100ms', [row(4, T0, { instrument_name: 'ETH-29DEC23-2000-C' })]);
    expect(sink.tapeTrades).toHaveLength(2);
    expect(sink.events.filter((e) => e.kind === 'dropped')).toEqual([
      { kind: 'dropped', reason: 'badAmount', count: 1 },
      { kind: 'dropped', reason: 'unknownChannel' },
    ]);
  });
});
