import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLOSE_CONNECT_TIMEOUT, CLOSE_DATA_SILENCE, CLOSE_SILENCE } from '../managed-socket.ts';
import { feedRig, type FakeSocket, type RecordingSink } from '../testing.ts';
import { VenueTime, guardSink } from '../venue-time.ts';
import { createDeribitFeed } from './client.ts';
import { forwardChannel } from './forwards.ts';
import { parseOptionName } from './rest.ts';
import { staticChannels } from './subscriptions.ts';
import { sampleDir } from '../../../test/samples.ts';
import { mulberry32 } from '../../shared/prng.ts';

// ------------------------------------------------------------------ the venue's end of a socket

interface Sent {
  at: number;
  id: number;
  method: string;
  params: Record<string, unknown>;
}

/** The venue's side of one fake socket: the JSON-RPC calls the client sent (with their times), and answers. */
class VenueEnd {
  constructor(readonly socket: FakeSocket) {}
  get sent(): Sent[] {
    return this.socket.sent.map((text, k) => {
      const f = JSON.parse(text);
      return { at: this.socket.sentAt[k], id: f.id, method: f.method, params: f.params };
    });
  }
  open(): void {
    this.socket.open();
  }
  push(frame: unknown): void {
    this.socket.receive(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }
  serverClose(code = 1006, reason = ''): void {
    this.socket.serverClose(code, reason);
  }
  calls(method: string): Sent[] {
    return this.sent.filter((s) => s.method === method);
  }
  answer(method: string, result: unknown, nth = -1): void {
    const c = this.calls(method);
    const call = c[nth < 0 ? c.length + nth : nth];
    if (!call) throw new Error(`no ${method} call`);
    // usOut is the venue's clock (µs): the capture's time.
    this.push({ jsonrpc: '2.0', id: call.id, result, usIn: T0 * 1000, usOut: T0 * 1000 + 2, usDiff: 2, testnet: false });
  }
  /** Acknowledges every subscribe call so far (all channels). */
  ackSubscribes(): void {
    for (const c of this.calls('public/subscribe')) this.push({ jsonrpc: '2.0', id: c.id, result: c.params.channels });
  }
}

/**
 * A BTC feed on the shared rig. `guarded`: the sink sits behind the host's venue-time guard
 * (guardSink), the feed reads venue time from it, and a refusal is counted as the host counts it.
 */
function setup(opts: { random?: () => number; channelsPerCall?: number; heartbeatSec?: number; guarded?: boolean } = {}) {
  const rig = feedRig(1_700_000_000_000, () => {
    throw new Error('Deribit asks nothing over REST');
  });
  const { clock, sockets, sink } = rig;
  const venueTime = new VenueTime();
  const feed = createDeribitFeed({
    ...rig.options,
    url: 'ws://127.0.0.1:8787/deribit/ws/api/v2',
    sink: opts.guarded ? guardSink(sink, venueTime, clock, (reason) => sink.status('deribit', { kind: 'dropped', reason })) : sink,
    heartbeatSec: opts.heartbeatSec ?? 10,
    random: opts.random ?? mulberry32(42),
    channelsPerCall: opts.channelsPerCall,
    venueNow: opts.guarded ? () => venueTime.nowMs : undefined,
  });
  const last = () => new VenueEnd(sockets[sockets.length - 1]);
  return { clock, sockets, sink, feed, last, venueTime };
}

const dropped = (sink: RecordingSink): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const r of sink.drops()) out[r] = (out[r] ?? 0) + 1;
  return out;
};
const figuresOf = (sink: RecordingSink) => ({ options: sink.optionUpdates.length, forwards: sink.forwardUpdates.length, index: sink.indexes.length, perps: sink.perps.length });

// ------------------------------------------------------------------ real-shaped data

const INSTRUMENTS = (
  JSON.parse(readFileSync(sampleDir('deribit') + 'rest-get_instruments-BTC-2021-07-22.json', 'utf8')).result as { kind: string }[]
).filter((x) => x.kind === 'option');
const T0 = 1626993723632; // 2021-07-22 22:42 UTC, the capture's time
const SPOT = 32208.37;
const sub = (channel: string, data: unknown) => ({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });
const indexFrame = (price: number, ts: number) => sub('deribit_price_index.btc_usd', { index_name: 'btc_usd', price, timestamp: ts });
const markFrame = (ts: number, iv = 0.8) => sub('markprice.options.btc_usd', [{ instrument_name: 'BTC-30JUL21-32000-C', mark_price: 0.05, iv, timestamp: ts }]);
const summaryRows = [
  { instrument_name: 'BTC-30JUL21-32000-C', mark_iv: 80.5, open_interest: 1234.5, underlying_price: 32310.2, estimated_delivery_price: SPOT, creation_timestamp: T0, mark_price: 0.05 },
  { instrument_name: 'BTC-24SEP21-40000-P', mark_iv: 79.1, open_interest: 650, underlying_price: 32450.1, estimated_delivery_price: SPOT, creation_timestamp: T0 - 5, mark_price: 0.3 },
];
const EXPECTED_FORWARDS = [
  'BTC-23JUL21-32000-C',
  'BTC-24JUL21-32000-C',
  'BTC-30JUL21-32000-C',
  'BTC-6AUG21-32000-C',
  'BTC-13AUG21-32000-C',
  'BTC-27AUG21-32000-C',
  'BTC-24SEP21-32000-C',
  'BTC-31DEC21-32000-C',
  'BTC-25MAR22-30000-C',
  'BTC-24JUN22-30000-C',
].map(forwardChannel);

/** Opens, answers the lists, sends spot: the chain is known and forward tickers are chosen. */
function bootstrap(env: ReturnType<typeof setup>): VenueEnd {
  env.feed.start();
  const s = env.last();
  s.open();
  s.answer('public/hello', { version: '1.2.26' });
  s.answer('public/set_heartbeat', 'ok');
  s.answer('public/get_instruments', INSTRUMENTS);
  s.push(indexFrame(SPOT, T0));
  s.answer('public/get_book_summary_by_currency', summaryRows);
  env.clock.advance(5_000);
  s.ackSubscribes();
  return s;
}

/** The option tickers the venue holds on this socket: subscribed and not unsubscribed since. */
function forwardTickersHeld(s: VenueEnd): string[] {
  const held = new Set<string>();
  for (const c of s.sent) {
    for (const ch of (c.params?.channels ?? []) as string[]) {
      if (!parseOptionName(ch.split('.')[1] ?? '')) continue;
      if (c.method === 'public/subscribe') held.add(ch);
      if (c.method === 'public/unsubscribe') held.delete(ch);
    }
  }
  return [...held];
}

function subscribedChannels(s: VenueEnd): string[] {
  return s.calls('public/subscribe').flatMap((c) => c.params.channels as string[]);
}

// ------------------------------------------------------------------ tests

describe('Deribit client: session start', () => {
  it('sends hello, set_heartbeat, get_instruments, the summary, then the static channels in one call', () => {
    const env = setup();
    env.feed.start();
    const s = env.last();
    expect(s.socket.url).toBe('ws://127.0.0.1:8787/deribit/ws/api/v2');
    expect(env.sink.ofKind('connecting')).toHaveLength(1);
    s.open();
    expect(s.sent.map((x) => x.method)).toEqual([
      'public/hello',
      'public/set_heartbeat',
      'public/get_instruments',
      'public/get_book_summary_by_currency',
      'public/subscribe',
    ]);
    expect(s.sent[1].params).toEqual({ interval: 10 });
    expect(s.sent[2].params).toEqual({ currency: 'BTC', kind: 'option', expired: false });
    expect(s.sent[3].params).toEqual({ currency: 'BTC', kind: 'option' });
    expect(s.sent[4].params.channels).toEqual([
      'markprice.options.btc_usd',
      'deribit_price_index.btc_usd',
      'ticker.BTC-PERPETUAL.100ms',
      'book.BTC-PERPETUAL.100ms',
      'instrument.state.option.BTC',
      'trades.option.BTC.100ms',
    ]);
    expect(new Set(s.sent.map((x) => x.id)).size).toBe(5);
  });

  it('publishes the listing, picks the call nearest spot per expiry, and paces the second subscribe', () => {
    const env = setup();
    const s = bootstrap(env);
    const full = env.sink.instrumentCalls.filter((c) => c.complete);
    expect(full[0].list).toHaveLength(390);
    const subs = s.calls('public/subscribe');
    expect(subs).toHaveLength(2);
    expect([...(subs[1].params.channels as string[])].sort()).toEqual([...EXPECTED_FORWARDS].sort());
    expect(subs[1].at - subs[0].at).toBeGreaterThanOrEqual(333);
    // The summary's OI and the index reached the sink.
    expect(env.sink.optionUpdates.find((u) => u.name === 'BTC-24SEP21-40000-P')).toMatchObject({ openInterest: 650 });
    expect(env.sink.indexes[0]).toEqual({ price: SPOT, timestampMs: T0 });
    expect(env.sink.ofKind('subscribed').at(-1)).toEqual({ kind: 'subscribed', channels: 16 });
  });

  it('routes a forward ticker to forwards and options, and the perp ticker + book to perp with depth', () => {
    const env = setup();
    const s = bootstrap(env);
    s.push(
      sub('ticker.BTC-30JUL21-32000-C.100ms', { instrument_name: 'BTC-30JUL21-32000-C', timestamp: T0 + 100, state: 'open', underlying_price: 32310.2, mark_iv: 80.12, open_interest: 321.5 }),
    );
    expect(env.sink.forwardUpdates).toEqual([{ expiryMs: Date.UTC(2021, 6, 30, 8), forward: 32310.2, timestampMs: T0 + 100 }]);
    expect(env.sink.optionUpdates.at(-1)).toEqual({ name: 'BTC-30JUL21-32000-C', timestampMs: T0 + 100, markIv: 0.8012, forward: 32310.2, openInterest: 321.5 });
    s.push(sub('book.BTC-PERPETUAL.100ms', { type: 'snapshot', timestamp: T0, instrument_name: 'BTC-PERPETUAL', change_id: 1, bids: [['new', 32200, 322_000]], asks: [['new', 32210, 64_420], ['new', 33000, 1e6]] }));
    expect(env.sink.perps).toHaveLength(0); // no ticker yet
    s.push(sub('ticker.BTC-PERPETUAL.100ms', { instrument_name: 'BTC-PERPETUAL', timestamp: T0 + 200, mark_price: 32205, index_price: 32208.37, funding_8h: 0.0001, current_funding: 0, open_interest: 322_050_000, best_bid_price: 32200, best_ask_price: 32210 }));
    const q = env.sink.perps.at(-1)!;
    expect(q).toMatchObject({ venue: 'deribit', instrument: 'BTC-PERPETUAL', markPrice: 32205, funding8h: 0.0001, bestBid: 32200, bestAsk: 32210 });
    expect(q.openInterestCoin).toBeCloseTo(10_000, 6);
    expect(q.depth[0]).toEqual({ bandPct: 0.5, bidCoin: 10, askCoin: 2 });
  });
});

describe('Deribit client: heartbeats and liveness', () => {
  it('answers test_request with public/test; heartbeats are not data', () => {
    const env = setup();
    const s = bootstrap(env);
    const dataBefore = env.sink.ofKind('data').length;
    s.push({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'test_request' } });
    expect(s.sent.at(-1)!.method).toBe('public/test');
    expect(s.sent.at(-1)!.params).toEqual({});
    s.push({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'heartbeat' } });
    expect(s.calls('public/test')).toHaveLength(1);
    expect(env.sink.ofKind('data').length).toBe(dataBefore);
  });

  it('heartbeats keep the socket alive past 2 x interval + 5 s', () => {
    const env = setup();
    const s = bootstrap(env);
    for (let i = 0; i < 5; i++) {
      env.clock.advance(10_000);
      s.push({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'heartbeat' } });
      s.push(markFrame(T0 + 1000 * i));
    }
    expect(env.sockets).toHaveLength(1);
    expect(s.socket.closed).toBeNull();
  });

  it('silence -> closed after 2 x 10 s + 5 s and a new socket within the first backoff step', () => {
    const env = setup();
    const s = bootstrap(env); // advanced 5 s with no frames after the acks
    const opened = env.clock.now();
    env.clock.advance(24_999 - 0);
    expect(s.socket.closed).toBeNull();
    env.clock.advance(1);
    expect(s.socket.closed).not.toBeNull();
    const closed = env.sink.ofKind('closed').at(-1)!;
    expect(closed.code).toBe(CLOSE_SILENCE);
    expect(closed.reason).toBe('deribit: no frame for 25000 ms');
    expect(closed.retryInMs).toBeGreaterThanOrEqual(0);
    expect(closed.retryInMs).toBeLessThanOrEqual(1_000);
    env.clock.advance(1_000);
    expect(env.sockets).toHaveLength(2);
    expect(env.clock.now() - opened).toBeLessThanOrEqual(26_000);
  });
});

describe('Deribit client: data freshness is separate from liveness', () => {
  it('heartbeats alone keep the socket alive but a minute without data reconnects', () => {
    const env = setup();
    const s = bootstrap(env);
    const dataEvents = env.sink.ofKind('data').length;
    for (let i = 0; i < 5; i++) {
      env.clock.advance(10_000);
      s.push({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'test_request' } });
    }
    expect(s.socket.closed).toBeNull();
    expect(env.sink.ofKind('data').length).toBe(dataEvents);
    env.clock.advance(10_000);
    s.push({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'heartbeat' } });
    expect(s.socket.closed).not.toBeNull();
    expect(env.sink.ofKind('closed').at(-1)).toMatchObject({ code: CLOSE_DATA_SILENCE, reason: 'deribit: no data for 60000 ms' });
  });
});

describe('Deribit client: reconnect and backoff', () => {
  it('retry delays lie in [0, min(30 s, 1 s * 2^n)] and are not all equal', () => {
    const env = setup({ random: mulberry32(3) });
    env.feed.start();
    const delays: number[] = [];
    for (let n = 0; n < 10; n++) {
      env.last().serverClose(1006, 'refused');
      const e = env.sink.ofKind('closed').at(-1)!;
      delays.push(e.retryInMs);
      expect(e.retryInMs).toBeGreaterThanOrEqual(0);
      expect(e.retryInMs).toBeLessThanOrEqual(Math.min(30_000, 1_000 * 2 ** n));
      const before = env.sockets.length;
      env.clock.advance(e.retryInMs);
      expect(env.sockets.length).toBe(before + 1);
    }
    expect(new Set(delays).size).toBeGreaterThan(5);
  });

  it('a connection with < 30 s of data does not reset the backoff; one with 30 s does', () => {
    const env = setup({ random: () => 0.999 });
    env.feed.start();
    for (let n = 0; n < 3; n++) {
      env.last().serverClose();
      env.clock.advance(10_000);
    }
    // 4th connection: opens, 20 s of data, then drops. Attempt 3 -> ceiling 8 s.
    let s = env.last();
    s.open();
    for (let i = 0; i < 20; i++) {
      s.push(markFrame(T0 + i * 1000));
      env.clock.advance(1_000);
    }
    s.serverClose();
    let e = env.sink.ofKind('closed').at(-1)!;
    expect(e.retryInMs).toBe(Math.floor(0.999 * 8_000));
    env.clock.advance(e.retryInMs);
    // 5th connection: 31 s of data -> stable; the next delay is back at the first step.
    s = env.last();
    s.open();
    for (let i = 0; i <= 31; i++) {
      s.push(markFrame(T0 + 100_000 + i * 1000));
      s.push({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'heartbeat' } });
      env.clock.advance(1_000);
    }
    s.serverClose();
    e = env.sink.ofKind('closed').at(-1)!;
    expect(e.retryInMs).toBe(Math.floor(0.999 * 1_000));
  });

  it('resubscribes the whole desired set after a reconnect, each channel exactly once, in paced chunks', () => {
    const env = setup({ channelsPerCall: 4 });
    const s1 = bootstrap(env);
    const desired = new Set([...staticChannels('BTC'), ...EXPECTED_FORWARDS]);
    expect(new Set(subscribedChannels(s1))).toEqual(desired);
    s1.serverClose(1006, 'drop');
    env.clock.advance(1_000);
    const s2 = env.last();
    expect(s2).not.toBe(s1);
    s2.open();
    env.clock.advance(10_000);
    const calls = s2.calls('public/subscribe');
    const chans = subscribedChannels(s2);
    expect(chans.length).toBe(desired.size);
    expect(new Set(chans)).toEqual(desired);
    expect(calls).toHaveLength(Math.ceil(desired.size / 4));
    for (const c of calls) expect((c.params.channels as string[]).length).toBeLessThanOrEqual(4);
    for (let i = 1; i < calls.length; i++) expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(333);
    // The lists were asked for again on the new socket.
    expect(s2.calls('public/get_instruments')).toHaveLength(1);
  });

  it('ignores late frames and events from an old socket', () => {
    const env = setup();
    const s1 = bootstrap(env);
    const lateMessage = s1.socket.onmessage!;
    const lateClose = s1.socket.onclose!;
    s1.serverClose(1006, 'drop');
    env.clock.advance(1_000);
    const s2 = env.last();
    s2.open();
    const figures = figuresOf(env.sink);
    const closes = env.sink.ofKind('closed').length;
    lateMessage({ data: JSON.stringify(indexFrame(99_999, T0 + 20_000)) });
    lateClose({ code: 1006, reason: 'late' });
    expect(figuresOf(env.sink)).toEqual(figures);
    expect(env.sink.ofKind('closed').length).toBe(closes);
    expect(env.sockets).toHaveLength(2);
    // The live socket still works.
    s2.push(indexFrame(32_300, T0 + 21_000));
    expect(env.sink.indexes.at(-1)).toEqual({ price: 32_300, timestampMs: T0 + 21_000 });
  });

  it('10028 too_many_requests: shown as a venue error, the session ends, the next dial waits >= 10 s', () => {
    const env = setup({ random: () => 0 });
    env.feed.start();
    const s = env.last();
    s.open();
    const subCall = s.calls('public/subscribe')[0];
    s.push({ jsonrpc: '2.0', id: subCall.id, error: { code: 10028, message: 'too_many_requests' }, usIn: 1, usOut: 2, usDiff: 1, testnet: false });
    const ve = env.sink.ofKind('venueError')[0];
    expect(ve).toMatchObject({ code: 10028, message: 'too_many_requests' });
    expect(ve.retryInMs).toBeGreaterThanOrEqual(10_000);
    expect(s.socket.closed).not.toBeNull();
    const closed = env.sink.ofKind('closed').at(-1)!;
    expect(closed.retryInMs).toBeGreaterThanOrEqual(10_000);
    env.clock.advance(9_999);
    expect(env.sockets).toHaveLength(1);
    env.clock.advance(closed.retryInMs - 9_999);
    expect(env.sockets).toHaveLength(2);
  });

  it('other venue errors are reported with the request they answer, and the session continues', () => {
    const env = setup();
    const s = bootstrap(env);
    s.push({ jsonrpc: '2.0', id: 9_999, error: { code: -32601, message: 'Method not found' } });
    expect(env.sink.ofKind('venueError').at(-1)).toEqual({ kind: 'venueError', code: -32601, message: 'Method not found', retryInMs: null });
    expect(s.socket.closed).toBeNull();
  });
});

describe('Deribit client: book gaps, listings, expiry', () => {
  it('a book gap resubscribes that channel only', () => {
    const env = setup();
    const s = bootstrap(env);
    const book = 'book.BTC-PERPETUAL.100ms';
    const base = { timestamp: T0, instrument_name: 'BTC-PERPETUAL', bids: [['new', 32200, 1000]], asks: [['new', 32210, 1000]] };
    s.push(sub(book, { ...base, type: 'snapshot', change_id: 10 }));
    s.push(sub(book, { ...base, type: 'change', change_id: 11, prev_change_id: 10 }));
    const sentBefore = s.sent.length;
    s.push(sub(book, { ...base, type: 'change', change_id: 15, prev_change_id: 13 }));
    env.clock.advance(2_000);
    const after = s.sent.slice(sentBefore);
    expect(after.map((x) => [x.method, x.params.channels])).toEqual([
      ['public/unsubscribe', [book]],
      ['public/subscribe', [book]],
    ]);
    expect(dropped(env.sink).bookGap).toBe(1);
    expect(env.sockets).toHaveLength(1);
  });

  it('instrument.state created adds a listing; an expired forward ticker moves the forward to another call', () => {
    const env = setup();
    const s = bootstrap(env);
    s.push(sub('instrument.state.option.BTC', { timestamp: T0 + 1000, state: 'created', instrument_name: 'BTC-29JUL22-32000-C' }));
    expect(env.sink.instrumentCalls.at(-1)).toMatchObject({ complete: false, list: [{ name: 'BTC-29JUL22-32000-C', strike: 32000, isCall: true, expiryMs: Date.UTC(2022, 6, 29, 8) }] });
    env.clock.advance(2_000);
    expect(s.calls('public/subscribe').at(-1)!.params.channels).toEqual([forwardChannel('BTC-29JUL22-32000-C')]);
    // The 23JUL21 pick reports it has expired: it leaves the listing and another 23JUL21 call takes over.
    s.ackSubscribes();
    s.push(sub('ticker.BTC-23JUL21-32000-C.100ms', { instrument_name: 'BTC-23JUL21-32000-C', timestamp: T0 + 2000, state: 'closed', estimated_delivery_price: 'expired', underlying_price: 32000, mark_iv: 70, open_interest: 0 }));
    const full = env.sink.instrumentCalls.at(-1)!;
    expect(full.complete).toBe(true);
    expect(full.list.find((i) => i.name === 'BTC-23JUL21-32000-C')).toBeUndefined();
    env.clock.advance(2_000);
    const tail = s.sent.slice(-2).map((x) => [x.method, x.params.channels]);
    expect(tail).toEqual([
      ['public/unsubscribe', [forwardChannel('BTC-23JUL21-32000-C')]],
      // spot 32208: the 33000 call (792 away) is nearer than the 31000 (1208 away).
      ['public/subscribe', [forwardChannel('BTC-23JUL21-33000-C')]],
    ]);
  });

  it('at venue time past an expiry its instruments leave and its forward ticker is not resubscribed', () => {
    const env = setup({ guarded: true });
    const s = bootstrap(env);
    const venueNow = () => env.venueTime.nowMs;
    expect(venueNow()).toBe(T0);
    // Venue time moves 9 h past 23JUL21 08:00 (a replay skipping the night): a jump that two later
    // frames confirm (one corrupt timestamp must not prune the chain). Then the 30 s summary timer prunes.
    const after = Date.UTC(2021, 6, 23, 8, 0, 1);
    s.push(indexFrame(SPOT, after));
    expect(venueNow()).toBe(T0);
    s.push(indexFrame(SPOT, after + 1000));
    expect(venueNow()).toBe(T0);
    s.push(indexFrame(SPOT, after + 2000));
    expect(venueNow()).toBe(after + 2000);
    expect(dropped(env.sink).futureTimestamp).toBe(2);
    env.clock.advance(30_000);
    const full = env.sink.instrumentCalls.filter((c) => c.complete).at(-1)!;
    expect(full.list.some((i) => i.expiryMs <= after)).toBe(false);
    const listed23 = INSTRUMENTS.filter((i) => (i as unknown as { expiration_timestamp: number }).expiration_timestamp === Date.UTC(2021, 6, 23, 8)).length;
    expect(listed23).toBeGreaterThan(0);
    expect(full.list.length).toBe(390 - listed23);
    s.serverClose();
    env.clock.advance(1_000);
    const s2 = env.last();
    s2.open();
    env.clock.advance(5_000);
    const chans = subscribedChannels(s2);
    expect(chans).not.toContain(forwardChannel('BTC-23JUL21-32000-C'));
    expect(chans).toContain(forwardChannel('BTC-24JUL21-32000-C'));
  });

  it('a reconnect hours later re-anchors venue time on the hello reply (usOut); what expired meanwhile goes with the summary', () => {
    const env = setup({ guarded: true });
    const s = bootstrap(env);
    s.serverClose();
    env.clock.advance(1_000);
    const s2 = env.last();
    s2.open();
    // The venue says it is 24JUL21 09:00 (a replay at 480x for the second the socket was down).
    const later = Date.UTC(2021, 6, 24, 9, 0, 0);
    const hello = s2.calls('public/hello')[0];
    s2.push({ jsonrpc: '2.0', id: hello.id, result: { version: '1.2.26' }, usIn: later * 1000, usOut: later * 1000 + 5, usDiff: 5, testnet: false });
    expect(env.sink.ofKind('serverTime')).toEqual([{ kind: 'serverTime', timestampMs: T0 }, { kind: 'serverTime', timestampMs: later }]);
    // Frames at the venue's new time are taken at once: no frame held back.
    s2.push(indexFrame(SPOT + 1, later + 100));
    expect(env.sink.indexes.at(-1)).toEqual({ price: SPOT + 1, timestampMs: later + 100 });
    expect(dropped(env.sink).futureTimestamp).toBeUndefined();
    // 23JUL21 and 24JUL21 expired during the gap: the first summary answer prunes the listing and
    // the forward tickers.
    const summary = s2.calls('public/get_book_summary_by_currency')[0];
    s2.push({ jsonrpc: '2.0', id: summary.id, result: summaryRows.map((r) => ({ ...r, creation_timestamp: later + 200 })) });
    const full = env.sink.instrumentCalls.filter((c) => c.complete).at(-1)!;
    expect(full.list.some((i) => i.expiryMs <= later)).toBe(false);
    env.clock.advance(5_000);
    s2.ackSubscribes();
    env.clock.advance(5_000);
    // The venue is left holding one forward ticker per live expiry: the two expired ones were taken back off.
    const held = forwardTickersHeld(s2);
    expect(held.map((ch) => parseOptionName(ch.split('.')[1])!.expiryMs).some((e) => e <= later)).toBe(false);
    expect(held).toHaveLength(EXPECTED_FORWARDS.length - 2);
  });
});

describe('Deribit client: bad input never reaches the sink', () => {
  it('malformed, NaN, 1e400, negative OI, absurd IV and oversized frames are dropped and counted; figures unchanged', () => {
    const env = setup();
    const s = bootstrap(env);
    const figures = figuresOf(env.sink);
    const droppedBefore = dropped(env.sink);
    const tick = (patch: Record<string, unknown>) =>
      JSON.stringify(sub('ticker.BTC-30JUL21-32000-C.100ms', { instrument_name: 'BTC-30JUL21-32000-C', timestamp: T0 + 500, state: 'open', underlying_price: 32310.2, mark_iv: 80, open_interest: 10, ...patch }));
    s.push('{"jsonrpc":"2.0","method":"subscription","params":{"channel":');
    s.push('not json at all');
    s.push(tick({ open_interest: -5 }));
    s.push(tick({ mark_iv: 'NaN' }));
    s.push(tick({ mark_iv: 1e9 }));
    s.push(tick({ underlying_price: 0 }));
    s.push(tick({}).replace('"underlying_price":32310.2', '"underlying_price":1e400'));
    s.push(JSON.stringify(indexFrame(-1, T0 + 600)));
    s.push(JSON.stringify(sub('markprice.options.btc_usd', [{ instrument_name: 'BTC-30JUL21-32000-C', iv: 1e9, mark_price: 0.1, timestamp: T0 }])));
    s.push(JSON.stringify(sub('ticker.BTC-PERPETUAL.100ms', { instrument_name: 'BTC-PERPETUAL', timestamp: T0, mark_price: 32000, index_price: 32000, open_interest: -1 })));
    s.push(JSON.stringify(sub('markprice.options.btc_usd', [])) + ' '.repeat(2 * 1024 * 1024));
    s.push(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel: 'ticker.BTC-27DEC24-0-C.100ms', data: {} } }));
    expect(figuresOf(env.sink)).toEqual(figures);
    const d = dropped(env.sink);
    const delta = (k: string) => (d[k] ?? 0) - (droppedBefore[k] ?? 0);
    expect(delta('malformed')).toBe(2);
    expect(delta('badNumber')).toBe(8);
    expect(delta('oversize')).toBe(1);
    expect(delta('unknownInstrument')).toBe(1);
    expect(s.socket.closed).toBeNull();
  });

  it('duplicate and older index or perp frames are dropped as stale', () => {
    const env = setup();
    const s = bootstrap(env);
    s.push(indexFrame(32_100, T0 + 5_000));
    s.push(indexFrame(31_000, T0 + 4_000));
    expect(env.sink.indexes.at(-1)).toEqual({ price: 32_100, timestampMs: T0 + 5_000 });
    expect(dropped(env.sink).stale).toBe(1);
  });

  it('a frame the sink refuses (stamped an hour ahead) does not block later frames; a confirmed jump passes', () => {
    const env = setup({ guarded: true });
    const s = bootstrap(env);
    const perp = (ts: number, mark: number) =>
      sub('ticker.BTC-PERPETUAL.100ms', { instrument_name: 'BTC-PERPETUAL', timestamp: ts, mark_price: mark, index_price: 32208, open_interest: 1e8 });
    const dataBefore = env.sink.ofKind('data').length;
    s.push(perp(T0 + 1_000, 32_200));
    s.push(perp(T0 + 3_601_100, 99_999)); // corrupt clock
    s.push(perp(T0 + 1_200, 32_201));
    expect(env.sink.perps.map((q) => q.markPrice)).toEqual([32_200, 32_201]);
    // The same for the index: the refused stamp does not make later index frames stale.
    s.push(indexFrame(99_999, T0 + 3_601_300));
    s.push(indexFrame(32_300, T0 + 1_300));
    expect(env.sink.indexes.at(-1)).toEqual({ price: 32_300, timestampMs: T0 + 1_300 });
    // Copies of one corrupt stamp in a burst do not confirm each other.
    s.push(perp(T0 + 3_601_400, 99_999));
    s.push(perp(T0 + 3_601_400, 99_999));
    s.push(perp(T0 + 3_601_400, 99_999));
    expect(env.sink.perps.at(-1)!.markPrice).toBe(32_201);
    s.push(perp(T0 + 1_500, 32_202));
    expect(env.sink.perps.at(-1)!.markPrice).toBe(32_202);
    expect(dropped(env.sink).futureTimestamp).toBe(5);
    expect(dropped(env.sink).stale).toBeUndefined();
    // Refused frames are not data (7 ordinary frames were).
    expect(env.sink.ofKind('data').length - dataBefore).toBe(4);
    // A replay that skips two hours: the first frame after the gap waits for two later ones.
    const later = T0 + 7_200_000;
    s.push(indexFrame(32_500, later));
    s.push(indexFrame(32_505, later + 500));
    expect(env.sink.indexes.at(-1)!.timestampMs).toBeLessThan(later);
    s.push(indexFrame(32_510, later + 1_000));
    expect(env.sink.indexes.at(-1)).toEqual({ price: 32_510, timestampMs: later + 1_000 });
    s.push(perp(later + 1_100, 32_505));
    expect(env.sink.perps.at(-1)!.markPrice).toBe(32_505);
  });

  it('a socket that never opens is abandoned after the 10 s dial timeout, keeping an error handler', () => {
    const env = setup();
    env.feed.start();
    const s = env.last();
    env.clock.advance(9_999);
    expect(s.socket.closed).toBeNull();
    env.clock.advance(1);
    expect(s.socket.closed).not.toBeNull();
    // `ws` emits 'error' when a connecting socket is closed; a missing listener would crash Node.
    expect(typeof s.socket.onerror).toBe('function');
    expect(s.socket.onmessage).toBeNull();
    expect(env.sink.ofKind('closed').at(-1)).toMatchObject({ code: CLOSE_CONNECT_TIMEOUT, reason: 'deribit: connect timeout' });
  });

  it('stop() closes the socket and nothing reconnects', () => {
    const env = setup();
    const s = bootstrap(env);
    env.feed.stop();
    expect(s.socket.closed).not.toBeNull();
    env.clock.advance(600_000);
    expect(env.sockets).toHaveLength(1);
  });
});
