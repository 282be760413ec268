/**
 * Deribit websocket client: one JSON-RPC 2.0 socket per currency that keeps the chain current.
 *
 * Why these channels (shared/feeds.md §1, the brief's channel plan):
 * - `markprice.options.{index}`: the whole chain's mark IV (DECIMAL) in one channel, about once a
 *   second. Subscribing `ticker.*` for each of ~900 options would cost hundreds of subscribe calls.
 * - `public/get_book_summary_by_currency {kind: option}` every 30 s over the same socket: open interest
 *   (and a forward and IV) for every option in one request, well inside the "OI at least every minute"
 *   requirement. No REST, so no CORS question in the browser.
 * - one `ticker.{option}.100ms` per expiry (the listed call nearest the money, ./forwards.ts): its
 *   `underlying_price` is that expiry's forward, ten times a second. ~10-15 channels.
 * - `deribit_price_index.{index}` (spot), `ticker.{C}-PERPETUAL.100ms` and `book.{C}-PERPETUAL.100ms`
 *   (mark, index, funding, OI, depth) as they come; `instrument.state.option.{c}` for listings between
 *   the 10-minute `public/get_instruments` refreshes (./listing.ts).
 * - `trades.option.{C}.100ms`: every public option trade of the currency (./trades.ts) -> sink.trades;
 *   its history, `public/get_last_trades_by_currency_and_time`, over the same socket (tradeHistory).
 *
 * Rate limits (feeds.md §1.2): `public/subscribe` costs 3,000 of 30,000 credits (~3.3 calls/s, burst
 * 10) and a 10028 too_many_requests TERMINATES the session. So channels go in batches (100 per call)
 * through the socket's paced queue (<= 3 calls/s, ./subscriptions.ts); the other requests are a
 * handful per minute (500 credits each, ~20/s allowed) and go at once. After a 10028 the next dial
 * waits >= 10 s + jitter for the credits to refill (./rpc.ts).
 *
 * Reliability (shared/reliability.md): the transport is the venue-neutral ManagedSocket: dial timeout,
 * generation counter, capped full-jitter backoff that resets only after 30 s of valid data, liveness
 * (any frame, heartbeats included, within 2 x heartbeat + 5 s) separate from data freshness (data
 * frames only; a minute without data reconnects). The desired channel set is resubscribed in full,
 * chunked, after every reconnect. Every frame is size-checked before JSON.parse and validated before it
 * reaches the sink; drops are reported. Venue timestamps are guarded once, by the host
 * (src/feeds/venue-time.ts): the hello reply's `usOut` anchors venue time on each connection, a stamped
 * frame the sink refuses is not counted as data and does not advance this client's per-channel newest
 * timestamps, and expiries are pruned by the host's venue time (FeedOptions.venueNow).
 *
 * The client knows nothing of the worker: it only calls the FeedSink.
 */
import type { FeedOptions, TradeHistory, VenueFeed } from '../adapter.ts';
import { parseFrame } from '../frame-guard.ts';
import { MAX_FRAME_BYTES_LIST, MAX_FRAME_BYTES_LIVE } from '../limits.ts';
import { ManagedSocket, type FrameClass } from '../managed-socket.ts';
import { ForwardTickers, forwardChannel } from './forwards.ts';
import {
  DATA_SILENCE_RECONNECT_MS,
  DERIBIT_HEARTBEAT_SEC,
  DERIBIT_INSTRUMENTS_REFRESH_MS,
  DERIBIT_SUMMARY_REFRESH_MS,
  SUBSCRIBE_CHANNELS_PER_CALL,
  SUBSCRIBE_MIN_SPACING_MS,
  livenessTimeoutMs,
} from './limits.ts';
import { DeribitTradeHistory } from './history.ts';
import { DeribitListing } from './listing.ts';
import { parseDeribitFrame, type DeribitMessage, type DeribitOptionTicker } from './parse.ts';
import { DeribitPerp } from './perp.ts';
import { parseBookSummaryResult, parseInstrumentsResult } from './rest.ts';
import { DeribitRpc, type AnsweredRequest, type Request } from './rpc.ts';
import { DeribitSubscriptions, staticChannels } from './subscriptions.ts';

export interface DeribitFeedOptions extends FeedOptions {
  /** `public/set_heartbeat` interval in seconds (Deribit minimum 10; the simulator accepts >= 1). */
  heartbeatSec?: number;
  /** Book summary (OI) refresh, ms (default 30 s; integration tests ask every 2 s). */
  summaryRefreshMs?: number;
  /** Uniform [0, 1) for backoff and 10028 jitter; injected for deterministic tests. */
  random?: () => number;
  /** Channels per subscribe call (tests use small values to see chunking). */
  channelsPerCall?: number;
}

const VENUE = 'deribit' as const;

export function createDeribitFeed(options: DeribitFeedOptions): VenueFeed {
  return new DeribitFeed(options);
}

class DeribitFeed implements VenueFeed {
  private readonly o: DeribitFeedOptions;
  private readonly heartbeatSec: number;
  private readonly summaryRefreshMs: number;
  private readonly bookChannel: string;
  private readonly socket: ManagedSocket;
  private readonly rpc: DeribitRpc;
  private readonly subs: DeribitSubscriptions;
  private readonly listing: DeribitListing;
  private readonly forwards = new ForwardTickers();
  private readonly perp: DeribitPerp;
  private spot: number | null = null;
  private lastIndexTs = 0;
  readonly tradeHistory: TradeHistory;

  constructor(options: DeribitFeedOptions) {
    this.o = options;
    this.heartbeatSec = Math.max(1, options.heartbeatSec ?? DERIBIT_HEARTBEAT_SEC);
    this.summaryRefreshMs = Math.max(1, options.summaryRefreshMs ?? DERIBIT_SUMMARY_REFRESH_MS);
    this.bookChannel = `book.${options.currency}-PERPETUAL.100ms`;
    const random = options.random ?? Math.random;
    const sink = options.sink;
    this.socket = new ManagedSocket({
      venue: VENUE, label: VENUE, url: options.url, clock: options.clock, socketFactory: options.socketFactory, sink, random,
      ping: null, // Deribit sends the heartbeats (public/set_heartbeat); we answer its test_request
      silenceMs: livenessTimeoutMs(this.heartbeatSec),
      dataSilenceMs: DATA_SILENCE_RECONNECT_MS,
      // Lists are checked against the live cap in onText unless one is awaited.
      maxFrameBytes: MAX_FRAME_BYTES_LIST,
      sendSpacingMs: SUBSCRIBE_MIN_SPACING_MS,
      subscribeMessages: () => this.subscribeMessages(),
      onText: (text) => this.onText(text),
      onOpen: () => this.onOpen(),
      onDisconnect: () => this.onDisconnect(),
    });
    this.rpc = new DeribitRpc({
      sink, random,
      restart: (reason, minDelayMs) => this.socket.restart(reason, minDelayMs),
      onResult: (request, result) => this.onResult(request, result),
    });
    this.subs = new DeribitSubscriptions({
      sink,
      channelsPerCall: Math.max(1, options.channelsPerCall ?? SUBSCRIBE_CHANNELS_PER_CALL),
      request: (method, channels) => this.rpc.message(method, { channels }, { kind: method === 'public/subscribe' ? 'subscribe' : 'unsubscribe', channels }),
      send: (message) => this.socket.send(message),
      onRefused: (channel) => this.onRefused(channel),
    }, staticChannels(options.currency));
    this.listing = new DeribitListing({ currency: options.currency, sink, venueNow: () => this.venueNow() });
    // A broken book chain: unsubscribe + subscribe that one channel, a fresh snapshot without a reconnect.
    this.perp = new DeribitPerp({ currency: options.currency, sink, onGap: () => this.subs.refresh(this.bookChannel) });
    this.tradeHistory = new DeribitTradeHistory({ currency: options.currency, clock: options.clock, call: (method, params) => this.call(method, params) });
  }

  start(): void {
    this.socket.start();
  }

  stop(): void {
    this.socket.stop();
    this.onDisconnect();
  }

  // ---------------------------------------------------------------- connection

  private onOpen(): void {
    this.request('public/hello', { client_name: 'gexdesk', client_version: '0.1.0' }, { kind: 'hello' });
    this.request('public/set_heartbeat', { interval: this.heartbeatSec }, { kind: 'heartbeat' });
    this.requestInstruments();
    this.requestSummary();
  }

  /** The whole desired set, after a prune: a reconnect never resubscribes a dead instrument. */
  private subscribeMessages(): string[] {
    this.pruneExpired();
    return this.subs.openMessages();
  }

  private onDisconnect(): void {
    this.rpc.reset();
    this.subs.reset();
    this.perp.reset();
  }

  /** A request outside the paced subscribe queue, on the open connection. */
  private request(method: string, params: Record<string, unknown>, request: Request): void {
    if (this.socket.isOpen) this.socket.sendNow(this.rpc.message(method, params, request));
  }

  /** A request whose answer its caller awaits (a trade history page); rejects when not connected. */
  private call(method: string, params: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.socket.isOpen) reject(new Error('not connected'));
      else this.socket.sendNow(this.rpc.message(method, params, { kind: 'tradePage', resolve, reject }));
    });
  }

  private requestInstruments(): void {
    this.request('public/get_instruments', { currency: this.o.currency, kind: 'option', expired: false }, { kind: 'instruments' });
    this.socket.connectionTimer(DERIBIT_INSTRUMENTS_REFRESH_MS, () => this.requestInstruments());
  }

  private requestSummary(): void {
    this.request('public/get_book_summary_by_currency', { currency: this.o.currency, kind: 'option' }, { kind: 'summary' });
    this.socket.connectionTimer(this.summaryRefreshMs, () => {
      this.pruneExpired();
      this.requestSummary();
    });
  }

  // ---------------------------------------------------------------- frames

  private onText(text: string): FrameClass {
    // A large frame is only plausible as the answer to a list request we are waiting for.
    const f = parseFrame(text, this.rpc.awaitingList ? MAX_FRAME_BYTES_LIST : MAX_FRAME_BYTES_LIVE);
    if (!f.ok) return this.drop(f.reason);
    const m = parseDeribitFrame(f.value);
    if (!m.ok) return this.drop(m.reason);
    return this.onMessage(m.value, f.value);
  }

  private onMessage(m: DeribitMessage, frame: unknown): FrameClass {
    const sink = this.o.sink;
    const currency = this.o.currency;
    switch (m.kind) {
      case 'heartbeat':
        if (m.testRequest) this.request('public/test', {}, { kind: 'test' });
        return 'heartbeat';
      case 'response':
      case 'error':
        return this.rpc.receive(m, frame);
      case 'markprice':
        if (m.currency !== currency) return this.drop('unknownChannel');
        this.dropEach(m.dropped);
        return m.updates.length > 0 && sink.options(VENUE, m.updates) !== false ? 'data' : 'other';
      case 'index':
        if (m.currency !== currency) return this.drop('unknownChannel');
        if (m.timestampMs < this.lastIndexTs) return this.drop('stale');
        if (!this.takeIndex(m.price, m.timestampMs)) return 'other';
        if (this.forwards.spotMoved(m.price)) this.pickForwards();
        return 'data';
      case 'optionTicker':
        return this.onOptionTicker(m.ticker);
      case 'perpTicker':
        return this.perp.onTicker(m.ticker);
      case 'book':
        return m.channel === this.bookChannel ? this.perp.onBook(m.book) : this.drop('unknownChannel');
      case 'trades':
        if (m.currency !== currency) return this.drop('unknownChannel');
        this.dropEach(m.dropped);
        // A trade the host refused (stamped ahead of venue time) is not data.
        return m.trades.length > 0 && sink.trades(VENUE, currency, m.trades) !== false ? 'data' : 'other';
      case 'instrumentState': {
        const change = this.listing.onState(m.name, m.state);
        if (change === 'foreign') return this.drop('unknownInstrument');
        if (change === 'changed') this.pickForwards();
        return 'data';
      }
    }
  }

  private onOptionTicker(t: DeribitOptionTicker): FrameClass {
    if (t.currency !== this.o.currency) return this.drop('unknownChannel');
    if (t.expired || !t.update) {
      // The venue says it is over: forget it and move the forward to another option of the expiry.
      this.listing.remove(t.name);
      this.pickForwards();
      return 'data';
    }
    if (this.o.sink.options(VENUE, [t.update]) === false) return 'other';
    if (t.update.forward !== undefined) {
      this.o.sink.forwards(VENUE, t.currency, [{ expiryMs: t.expiryMs, forward: t.update.forward, timestampMs: t.timestampMs }]);
    }
    return 'data';
  }

  /** An answer to one of this connection's requests; lists are data. */
  private onResult(request: AnsweredRequest, result: unknown): FrameClass {
    switch (request.kind) {
      case 'hello':
      case 'heartbeat':
      case 'test':
        return 'other';
      case 'instruments': {
        const r = parseInstrumentsResult(result, this.o.currency);
        this.dropEach(r.dropped);
        this.listing.replace(r.instruments);
        this.pickForwards();
        return 'data';
      }
      case 'summary':
        return this.onSummary(result);
      case 'subscribe':
        this.subs.onSubscribed(request.channels, result);
        return 'other';
      case 'unsubscribe':
        this.subs.onUnsubscribed(request.channels);
        return 'other';
    }
  }

  private onSummary(result: unknown): FrameClass {
    const r = parseBookSummaryResult(result);
    this.dropEach(r.dropped);
    if (r.indexPrice !== null && r.newestTimestampMs !== null && r.newestTimestampMs > this.lastIndexTs) this.takeIndex(r.indexPrice, r.newestTimestampMs);
    if (r.lines.length > 0) this.o.sink.options(VENUE, r.lines);
    // The first stamped answer of a connection: what expired during a reconnect gap goes now.
    this.pruneExpired();
    if (this.forwards.unpicked) this.pickForwards();
    return 'data';
  }

  // ---------------------------------------------------------------- chain bookkeeping

  /** The host's venue time for this feed (FeedOptions.venueNow); null when unknown. */
  private venueNow(): number | null {
    return this.o.venueNow?.() ?? null;
  }

  /** The index to the sink; spot and the stale check follow only an index the sink took. */
  private takeIndex(price: number, timestampMs: number): boolean {
    if (this.o.sink.index(VENUE, this.o.currency, price, timestampMs) === false) return false;
    this.lastIndexTs = timestampMs;
    this.spot = price;
    return true;
  }

  private pruneExpired(): void {
    if (this.listing.pruneExpired()) this.pickForwards();
  }

  /** Per expiry, the forward ticker to follow; (un)subscribes only what changed. */
  private pickForwards(): void {
    if (this.spot === null) return;
    const { add, remove } = this.forwards.repick(this.listing.values(), this.spot, this.venueNow());
    this.subs.unwant(remove.map(forwardChannel));
    this.subs.want(add.map(forwardChannel));
  }

  /** The venue did not confirm a channel: usually an expired option, which then leaves the listing. */
  private onRefused(channel: string): void {
    const name = this.forwards.forget(channel);
    if (name === null) return;
    this.subs.unwant([channel]);
    this.listing.remove(name);
    this.pickForwards();
  }

  private drop(reason: string): FrameClass {
    this.o.sink.status(VENUE, { kind: 'dropped', reason });
    return 'other';
  }

  /** A parser's drop counts: one `dropped` event per reason, with its count. */
  private dropEach(counts: Record<string, number>): void {
    for (const [reason, count] of Object.entries(counts)) if (count > 0) this.o.sink.status(VENUE, { kind: 'dropped', reason, count });
  }
}
