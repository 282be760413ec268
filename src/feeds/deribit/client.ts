/**
 * Deribit websocket client: one JSON-RPC 2.0 socket per currency that keeps the chain current.
 *
 * Why these channels (shared/feeds.md §1, the brief's channel plan):
 * - `markprice.options.{index}`: the whole chain's mark IV (DECIMAL) in one channel, about once a
 *   second. Subscribing `ticker.*` for each of ~900 options would cost hundreds of subscribe calls.
 * - `public/get_book_summary_by_currency {kind: option}` every 30 s over the same socket: open interest
 *   (and a forward and IV) for every option in one request, well inside the "OI at least every minute"
 *   requirement. No REST, so no CORS question in the browser.
 * - one `ticker.{option}.100ms` per expiry (the listed call nearest the money): its `underlying_price`
 *   is that expiry's forward, ten times a second. Any option of the expiry carries the same forward;
 *   the one near the money is the liveliest. ~10-15 channels.
 * - `deribit_price_index.{index}` (spot), `ticker.{C}-PERPETUAL.100ms` and `book.{C}-PERPETUAL.100ms`
 *   (mark, index, funding, OI, depth) as they come; `instrument.state.option.{c}` for listings between
 *   the 10-minute `public/get_instruments` refreshes.
 *
 * Rate limits (feeds.md §1.2): `public/subscribe` costs 3,000 of 30,000 credits (~3.3 calls/s, burst
 * 10) and a 10028 too_many_requests TERMINATES the session. So channels go in batches (100 per call)
 * and calls are spaced (<= 3/s); the other requests are a handful per minute (500 credits each,
 * ~20/s allowed). After a 10028 the next dial waits >= 10 s + jitter for the credits to refill.
 *
 * Reliability (shared/reliability.md): liveness (any frame, heartbeats included, within 2 x heartbeat
 * + 5 s) is separate from data freshness (data frames only; reported as `data` events, and a minute
 * without data reconnects). Reconnects use capped full-jitter backoff that resets only after 30 s of
 * valid data. A generation counter makes late frames and events of an old socket inert. The desired
 * channel set is owned here and resubscribed in full, chunked, after every reconnect. Every frame is
 * size-checked before JSON.parse and validated before it reaches the sink; drops are reported.
 * Venue timestamps are guarded once, by the host (src/feeds/venue-time.ts): the hello reply's `usOut`
 * anchors venue time on each connection, a stamped frame the sink refuses is not counted as data and
 * does not advance this client's per-channel newest timestamps, and expiries are pruned by the host's
 * venue time (FeedOptions.venueNow).
 *
 * The client knows nothing of the worker: it only calls the FeedSink.
 */
import type { Currency, OptionInstrument } from '../../chain/model.ts';
import type { FeedEvent, FeedOptions, SocketLike, VenueFeed } from '../adapter.ts';
import { Backoff } from '../backoff.ts';
import { isRecord, parseFrame, type DropReason } from '../frame-guard.ts';
import {
  CONNECT_TIMEOUT_MS,
  DATA_SILENCE_RECONNECT_MS,
  DERIBIT_HEARTBEAT_SEC,
  DERIBIT_INSTRUMENTS_REFRESH_MS,
  DERIBIT_SUMMARY_REFRESH_MS,
  FORWARD_REPICK_MOVE,
  MAX_FRAME_BYTES_LIST,
  MAX_FRAME_BYTES_LIVE,
  RATE_LIMIT_FLOOR_MS,
  RATE_LIMIT_JITTER_MS,
  SUBSCRIBE_CHANNELS_PER_CALL,
  SUBSCRIBE_MIN_SPACING_MS,
  livenessTimeoutMs,
} from '../limits.ts';
import { expiredAt } from '../venue-time.ts';
import { DeribitBookChain } from './book.ts';
import { indexNameOf, parseDeribitFrame, type DeribitMessage, type DeribitOptionTicker, type DeribitPerpTicker } from './parse.ts';
import { parseBookSummaryResult, parseInstrumentsResult, parseOptionName } from './rest.ts';

export interface DeribitFeedOptions extends FeedOptions {
  /** `public/set_heartbeat` interval in seconds (Deribit minimum 10; the simulator accepts >= 1). */
  heartbeatSec?: number;
  /** Uniform [0, 1) for backoff jitter; injected for deterministic tests. */
  random?: () => number;
  /** Channels per subscribe call (tests use small values to see chunking). */
  channelsPerCall?: number;
}

const OPEN = 1;
const VENUE = 'deribit' as const;
/** Close codes we use when we end a connection ourselves (4000-4999 are application codes). */
export const CLOSE_HEARTBEAT = 4000;
export const CLOSE_CONNECT_TIMEOUT = 4001;
export const CLOSE_RATE_LIMIT = 4002;
export const CLOSE_DATA_SILENCE = 4003;
/** Instrument states that end an option's life (Deribit instrument.state). */
const ENDED_STATES = new Set(['settled', 'closed', 'deactivated', 'terminated', 'delivered', 'inactive']);
const LIVE_STATES = new Set(['created', 'started', 'open']);
/** Unanswered requests kept per connection, at most. */
const MAX_PENDING = 256;

type Pending =
  | { kind: 'hello' | 'heartbeat' | 'test' | 'instruments' | 'summary' }
  | { kind: 'subscribe' | 'unsubscribe'; channels: string[] };

type TimerName = 'liveness' | 'dataWatch' | 'instruments' | 'summary' | 'pace' | 'connect' | 'reconnect';

export function createDeribitFeed(options: DeribitFeedOptions): VenueFeed {
  return new DeribitFeed(options);
}

/** The channels that do not depend on the listing. */
export function staticChannels(currency: Currency): string[] {
  const i = indexNameOf(currency);
  return [
    `markprice.options.${i}`,
    `deribit_price_index.${i}`,
    `ticker.${currency}-PERPETUAL.100ms`,
    `book.${currency}-PERPETUAL.100ms`,
    // The currency as documented (`BTC`): the AsyncAPI enum is BTC, ETH, USDC, USDT, any.
    `instrument.state.option.${currency}`,
  ];
}

export const forwardChannel = (instrument: string) => `ticker.${instrument}.100ms`;

class DeribitFeed implements VenueFeed {
  private readonly o: DeribitFeedOptions;
  private readonly heartbeatSec: number;
  private readonly random: () => number;
  private readonly channelsPerCall: number;
  private readonly backoff: Backoff;
  private readonly bookChannel: string;

  private stopped = true;
  /** Bumped on every connect and disconnect; handlers of an older socket compare and do nothing. */
  private generation = 0;
  private socket: SocketLike | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private timers: Record<TimerName, unknown> = { liveness: null, dataWatch: null, instruments: null, summary: null, pace: null, connect: null, reconnect: null };
  private subQueue: { method: 'public/subscribe' | 'public/unsubscribe'; channels: string[] }[] = [];
  private lastPacedSendMs = -Infinity;
  /** Clock time of the newest frame of any kind / of the newest valid data frame, this connection. */
  private lastFrameMs = 0;
  private lastDataMs = 0;
  /** While set, (un)subscribe requests only change `desired` (the full set is about to be sent). */
  private holdQueue = false;
  /** Rate-limit delay demanded by a 10028 on this connection. */
  private rateLimitDelayMs: number | null = null;

  /** The channels we want, whether or not the current socket has them. */
  private readonly desired = new Set<string>();
  /** Channels the venue acknowledged on the current socket. */
  private readonly acked = new Set<string>();
  private readonly instruments = new Map<string, OptionInstrument>();
  /** Expiry (ms) -> instrument whose ticker gives that expiry's forward. */
  private readonly forwardPick = new Map<number, string>();
  private spot: number | null = null;
  private spotAtPick: number | null = null;
  private lastIndexTs = 0;
  private perpTicker: DeribitPerpTicker | null = null;
  private readonly book: DeribitBookChain;

  constructor(options: DeribitFeedOptions) {
    this.o = options;
    this.heartbeatSec = Math.max(1, options.heartbeatSec ?? DERIBIT_HEARTBEAT_SEC);
    this.random = options.random ?? Math.random;
    this.channelsPerCall = Math.max(1, options.channelsPerCall ?? SUBSCRIBE_CHANNELS_PER_CALL);
    this.backoff = new Backoff({ random: this.random });
    this.bookChannel = `book.${options.currency}-PERPETUAL.100ms`;
    this.book = new DeribitBookChain(true);
    for (const c of staticChannels(options.currency)) this.desired.add(c);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.teardownSocket(1000, 'stopped');
    this.clearTimer('reconnect');
  }

  // ---------------------------------------------------------------- connection lifecycle

  private status(event: FeedEvent): void {
    this.o.sink.status(VENUE, event);
  }

  private dropped(reason: DropReason | string, n = 1): void {
    for (let i = 0; i < n; i++) this.status({ kind: 'dropped', reason });
  }

  private setTimer(name: TimerName, ms: number, fn: () => void): void {
    this.clearTimer(name);
    this.timers[name] = this.o.clock.setTimeout(() => {
      this.timers[name] = null;
      fn();
    }, ms);
  }

  private clearTimer(name: TimerName): void {
    if (this.timers[name] !== null) this.o.clock.clearTimeout(this.timers[name]);
    this.timers[name] = null;
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.status({ kind: 'connecting' });
    let socket: SocketLike;
    try {
      socket = this.o.socketFactory(this.o.url);
    } catch (e) {
      this.onDisconnected(1006, `connect failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (gen === this.generation) this.onOpen();
    };
    socket.onmessage = (ev) => {
      if (gen === this.generation) this.onFrame(ev.data);
    };
    socket.onclose = (ev) => {
      if (gen === this.generation) this.onDisconnected(ev?.code ?? 1006, ev?.reason ?? '');
    };
    // A close event always follows an error; nothing to do here.
    socket.onerror = () => {};
    this.setTimer('connect', CONNECT_TIMEOUT_MS, () => this.onDisconnected(CLOSE_CONNECT_TIMEOUT, 'connect timeout'));
  }

  private onOpen(): void {
    this.clearTimer('connect');
    this.status({ kind: 'open' });
    this.request('public/hello', { client_name: 'gexdesk', client_version: '0.1.0' }, { kind: 'hello' });
    this.request('public/set_heartbeat', { interval: this.heartbeatSec }, { kind: 'heartbeat' });
    this.requestInstruments();
    this.requestSummary();
    // Never resubscribe a dead instrument after a reconnect; the full set goes out once, below.
    this.holdQueue = true;
    this.pruneExpired();
    this.holdQueue = false;
    this.enqueue('public/subscribe', [...this.desired]);
    const now = this.o.clock.now();
    this.lastFrameMs = now;
    this.lastDataMs = now;
    this.watch('liveness', livenessTimeoutMs(this.heartbeatSec), () => this.lastFrameMs, CLOSE_HEARTBEAT, 'heartbeat timeout');
    this.watch('dataWatch', DATA_SILENCE_RECONNECT_MS, () => this.lastDataMs, CLOSE_DATA_SILENCE, 'no data');
  }

  /** Ends the current socket (if any) and invalidates its handlers. */
  private teardownSocket(code: number, reason: string): void {
    this.generation++;
    for (const t of ['liveness', 'dataWatch', 'instruments', 'summary', 'pace', 'connect'] as const) this.clearTimer(t);
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = null;
      s.onmessage = null;
      s.onclose = null;
      // Keep a no-op error handler: `ws` in Node emits 'error' when a still-connecting socket is
      // closed, and an EventEmitter 'error' without a listener crashes the process.
      s.onerror = () => {};
      try {
        s.close(code < 4000 && code !== 1000 ? 1000 : code, reason);
      } catch {
        // Closing a socket that never opened can throw in some implementations; it is gone either way.
      }
    }
    this.pending.clear();
    this.acked.clear();
    this.subQueue = [];
    this.book.reset();
    this.backoff.noteDisconnected();
  }

  private onDisconnected(code: number, reason: string): void {
    this.teardownSocket(code, reason);
    if (this.stopped) return;
    let delay = this.backoff.nextDelayMs();
    if (this.rateLimitDelayMs !== null) delay = Math.max(delay, this.rateLimitDelayMs);
    this.rateLimitDelayMs = null;
    this.status({ kind: 'closed', code, reason, retryInMs: delay });
    this.setTimer('reconnect', delay, () => this.connect());
  }

  /**
   * A watchdog that fires when `last()` is older than `limitMs`. Frames only stamp a time; the timer
   * re-arms itself for the remainder, so a busy stream costs no timer churn per frame.
   */
  private watch(name: 'liveness' | 'dataWatch', limitMs: number, last: () => number, code: number, reason: string): void {
    const check = () => {
      const idle = this.o.clock.now() - last();
      if (idle >= limitMs) this.onDisconnected(code, reason);
      else this.setTimer(name, limitMs - idle, check);
    };
    this.setTimer(name, limitMs, check);
  }

  // ---------------------------------------------------------------- requests and pacing

  private request(method: string, params: Record<string, unknown>, pending: Pending): void {
    const s = this.socket;
    if (!s || s.readyState !== OPEN) return;
    const id = this.nextId++;
    if (this.pending.size >= MAX_PENDING) {
      // A server that never answers must not grow this map; the oldest entries go first.
      const first = this.pending.keys().next().value;
      if (first !== undefined) this.pending.delete(first);
    }
    this.pending.set(id, pending);
    try {
      s.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    } catch {
      // The close event that follows handles it.
    }
  }

  private requestInstruments(): void {
    this.request('public/get_instruments', { currency: this.o.currency, kind: 'option', expired: false }, { kind: 'instruments' });
    this.setTimer('instruments', DERIBIT_INSTRUMENTS_REFRESH_MS, () => this.requestInstruments());
  }

  private requestSummary(): void {
    this.request('public/get_book_summary_by_currency', { currency: this.o.currency, kind: 'option' }, { kind: 'summary' });
    this.setTimer('summary', DERIBIT_SUMMARY_REFRESH_MS, () => {
      this.pruneExpired();
      this.requestSummary();
    });
  }

  /** Queues (un)subscribe calls in chunks; `pump` sends them at most 3 per second. */
  private enqueue(method: 'public/subscribe' | 'public/unsubscribe', channels: string[]): void {
    if (!this.socket || this.holdQueue || channels.length === 0) return;
    for (let i = 0; i < channels.length; i += this.channelsPerCall) {
      this.subQueue.push({ method, channels: channels.slice(i, i + this.channelsPerCall) });
    }
    this.pump();
  }

  private pump(): void {
    if (this.timers.pace !== null || this.subQueue.length === 0) return;
    const s = this.socket;
    if (!s || s.readyState !== OPEN) return;
    const wait = this.lastPacedSendMs + SUBSCRIBE_MIN_SPACING_MS - this.o.clock.now();
    if (wait > 0) {
      this.setTimer('pace', wait, () => this.pump());
      return;
    }
    const item = this.subQueue.shift()!;
    this.lastPacedSendMs = this.o.clock.now();
    const kind = item.method === 'public/subscribe' ? 'subscribe' : 'unsubscribe';
    this.request(item.method, { channels: item.channels }, { kind, channels: item.channels });
    if (this.subQueue.length > 0) this.setTimer('pace', SUBSCRIBE_MIN_SPACING_MS, () => this.pump());
  }

  // ---------------------------------------------------------------- frames

  private onFrame(raw: unknown): void {
    // Liveness counts every frame, heartbeats included; data freshness does not (see `data`).
    this.lastFrameMs = this.o.clock.now();
    let listPending = false;
    for (const p of this.pending.values()) if (p.kind === 'instruments' || p.kind === 'summary') listPending = true;
    // A large frame is only plausible as the answer to a list request we are waiting for.
    const f = parseFrame(raw, listPending ? MAX_FRAME_BYTES_LIST : MAX_FRAME_BYTES_LIVE);
    if (!f.ok) return this.dropped(f.reason);
    const m = parseDeribitFrame(f.value);
    if (!m.ok) return this.dropped(m.reason);
    this.onMessage(m.value, f.value);
  }

  private data(): void {
    const now = this.o.clock.now();
    this.lastDataMs = now;
    this.backoff.noteValidData(now);
    this.status({ kind: 'data' });
  }

  private onMessage(m: DeribitMessage, frame: unknown): void {
    const sink = this.o.sink;
    const currency = this.o.currency;
    switch (m.kind) {
      case 'heartbeat':
        if (m.testRequest) this.request('public/test', {}, { kind: 'test' });
        return;
      case 'response':
        return this.onResponse(m.id, m.result, frame);
      case 'error':
        return this.onError(m.id, m.code, m.message);
      case 'markprice': {
        if (m.currency !== currency) return this.dropped('unknownChannel');
        for (const [reason, n] of Object.entries(m.dropped)) this.dropped(reason, n);
        if (m.updates.length === 0) return;
        if (sink.options(VENUE, m.updates) === false) return;
        return this.data();
      }
      case 'index': {
        if (m.currency !== currency) return this.dropped('unknownChannel');
        if (m.timestampMs < this.lastIndexTs) return this.dropped('stale');
        if (sink.index(VENUE, currency, m.price, m.timestampMs) === false) return;
        this.lastIndexTs = m.timestampMs;
        this.spot = m.price;
        this.data();
        if (this.spotAtPick === null || Math.abs(m.price / this.spotAtPick - 1) > FORWARD_REPICK_MOVE) this.pickForwards();
        return;
      }
      case 'optionTicker':
        return this.onOptionTicker(m.ticker);
      case 'perpTicker': {
        if (m.ticker.currency !== currency) return this.dropped('unknownChannel');
        if (this.perpTicker && m.ticker.timestampMs < this.perpTicker.timestampMs) return this.dropped('stale');
        const prev = this.perpTicker;
        this.perpTicker = m.ticker;
        if (this.emitPerp() === false) {
          this.perpTicker = prev; // refused: its stamp must not make later tickers look stale
          return;
        }
        return this.data();
      }
      case 'book': {
        if (m.channel !== this.bookChannel) return this.dropped('unknownChannel');
        const r = this.book.apply(m.book);
        if (r === 'gap') {
          this.dropped('bookGap');
          // Unsubscribe + subscribe that one channel: a fresh snapshot without a reconnect.
          this.enqueue('public/unsubscribe', [this.bookChannel]);
          this.enqueue('public/subscribe', [this.bookChannel]);
          return;
        }
        if (r === 'noSnapshot') return this.dropped('bookNoSnapshot');
        if (r === 'duplicate') return this.dropped('duplicate');
        if (this.emitPerp() === false) return;
        return this.data();
      }
      case 'instrumentState':
        return this.onInstrumentState(m.name, m.state, m.timestampMs);
    }
  }

  private onOptionTicker(t: DeribitOptionTicker): void {
    if (t.currency !== this.o.currency) return this.dropped('unknownChannel');
    if (t.expired || !t.update) {
      // The venue says it is over: forget it and move the forward to another option of the expiry.
      if (this.instruments.delete(t.name)) this.publishInstruments();
      this.pickForwards();
      return this.data();
    }
    if (this.o.sink.options(VENUE, [t.update]) === false) return;
    if (t.update.forward !== undefined) {
      this.o.sink.forwards(VENUE, t.currency, [{ expiryMs: t.expiryMs, forward: t.update.forward, timestampMs: t.timestampMs }]);
    }
    this.data();
  }

  private onInstrumentState(name: string, state: string, timestampMs: number): void {
    const p = parseOptionName(name);
    // Futures and other currencies share nothing with the option chain.
    if (!p || p.currency !== this.o.currency) return this.dropped('unknownInstrument');
    if (LIVE_STATES.has(state)) {
      if (this.instruments.has(name)) return this.data();
      if (expiredAt(p.expiryMs, this.venueNow())) return this.data();
      const inst: OptionInstrument = { venue: VENUE, name, currency: this.o.currency, strike: p.strike, expiryMs: p.expiryMs, isCall: p.isCall, multiplier: 1 };
      this.instruments.set(name, inst);
      this.o.sink.instruments(VENUE, this.o.currency, [inst], false);
      this.pickForwards();
    } else if (ENDED_STATES.has(state)) {
      if (this.instruments.delete(name)) {
        this.publishInstruments();
        this.pickForwards();
      }
    }
    void timestampMs;
    this.data();
  }

  private onResponse(id: number | null, result: unknown, frame: unknown): void {
    const p = id === null ? undefined : this.pending.get(id);
    if (!p) return; // an answer to a request of an old connection, or to nothing
    this.pending.delete(id!);
    switch (p.kind) {
      case 'hello': {
        // The venue's clock on this connection re-anchors the venue-time guard: a reconnect after a
        // gap of hours at replay speed is followed from its first frame.
        const usOut = isRecord(frame) ? frame.usOut : undefined;
        if (typeof usOut === 'number' && Number.isFinite(usOut) && usOut > 0) {
          this.status({ kind: 'serverTime', timestampMs: Math.floor(usOut / 1000) });
        }
        return;
      }
      case 'heartbeat':
      case 'test':
        return;
      case 'instruments': {
        const r = parseInstrumentsResult(result, this.o.currency);
        for (const [reason, n] of Object.entries(r.dropped)) this.dropped(reason, n);
        this.instruments.clear();
        const venueNow = this.venueNow();
        for (const inst of r.instruments) {
          if (expiredAt(inst.expiryMs, venueNow)) continue;
          this.instruments.set(inst.name, inst);
        }
        this.publishInstruments();
        this.pickForwards();
        return this.data();
      }
      case 'summary': {
        const r = parseBookSummaryResult(result);
        for (const [reason, n] of Object.entries(r.dropped)) this.dropped(reason, n);
        if (r.indexPrice !== null && r.newestTimestampMs !== null && r.newestTimestampMs > this.lastIndexTs
          && this.o.sink.index(VENUE, this.o.currency, r.indexPrice, r.newestTimestampMs) !== false) {
          this.lastIndexTs = r.newestTimestampMs;
          this.spot = r.indexPrice;
        }
        if (r.lines.length > 0) this.o.sink.options(VENUE, r.lines);
        // The first stamped answer of a connection: what expired during a reconnect gap goes now.
        this.pruneExpired();
        if (this.spotAtPick === null) this.pickForwards();
        return this.data();
      }
      case 'subscribe': {
        const got = new Set(Array.isArray(result) ? result.filter((c): c is string => typeof c === 'string') : []);
        const missing: string[] = [];
        for (const c of p.channels) {
          if (got.has(c)) this.acked.add(c);
          else missing.push(c);
        }
        for (const c of missing) this.onNotSubscribed(c);
        // A forward re-picked while its subscribe was in flight: take it back off.
        const orphans = p.channels.filter((c) => got.has(c) && !this.desired.has(c));
        this.enqueue('public/unsubscribe', orphans);
        this.status({ kind: 'subscribed', channels: this.acked.size });
        return;
      }
      case 'unsubscribe':
        for (const c of p.channels) this.acked.delete(c);
        return;
    }
  }

  /** The venue did not confirm a channel: usually an expired option; never resubscribe it blindly. */
  private onNotSubscribed(channel: string): void {
    this.dropped('notSubscribed');
    for (const [expiry, name] of this.forwardPick) {
      if (forwardChannel(name) !== channel) continue;
      this.forwardPick.delete(expiry);
      this.desired.delete(channel);
      if (this.instruments.delete(name)) this.publishInstruments();
      this.pickForwards();
      return;
    }
  }

  private onError(id: number | null, code: number | null, message: string): void {
    const p = id === null ? undefined : this.pending.get(id);
    if (id !== null) this.pending.delete(id);
    if (code === 10028) {
      // too_many_requests ends the session: wait for the credits to refill before dialling again.
      const wait = RATE_LIMIT_FLOOR_MS + Math.floor(Math.max(0, Math.min(0.999999, this.random())) * RATE_LIMIT_JITTER_MS);
      this.rateLimitDelayMs = wait;
      this.status({ kind: 'venueError', code, message, retryInMs: wait });
      this.onDisconnected(CLOSE_RATE_LIMIT, 'rate limited by venue (10028 too_many_requests)');
      return;
    }
    // Other errors are shown; lists retry on their next refresh, channels on the next connection.
    const what = p ? `${p.kind}: ` : '';
    this.status({ kind: 'venueError', code, message: what + message, retryInMs: null });
  }

  // ---------------------------------------------------------------- chain bookkeeping

  /** The host's venue time for this feed (FeedOptions.venueNow); null when unknown. */
  private venueNow(): number | null {
    return this.o.venueNow?.() ?? null;
  }

  private publishInstruments(): void {
    this.o.sink.instruments(VENUE, this.o.currency, [...this.instruments.values()], true);
  }

  /** Drops instruments whose expiry passed at venue time (the host also excludes them by valuation time). */
  private pruneExpired(): void {
    const now = this.venueNow();
    if (now === null) return;
    let removed = false;
    for (const [name, inst] of this.instruments) {
      if (expiredAt(inst.expiryMs, now)) {
        this.instruments.delete(name);
        removed = true;
      }
    }
    if (removed) {
      this.publishInstruments();
      this.pickForwards();
    }
  }

  /** Per expiry, the listed call with the strike nearest spot; (un)subscribes only what changed. */
  private pickForwards(): void {
    const spot = this.spot;
    if (spot === null) return;
    const best = new Map<number, OptionInstrument>();
    const venueNow = this.venueNow();
    for (const inst of this.instruments.values()) {
      if (!inst.isCall) continue;
      if (expiredAt(inst.expiryMs, venueNow)) continue;
      const cur = best.get(inst.expiryMs);
      if (!cur) {
        best.set(inst.expiryMs, inst);
        continue;
      }
      const d = Math.abs(inst.strike - spot);
      const dc = Math.abs(cur.strike - spot);
      if (d < dc || (d === dc && inst.strike < cur.strike)) best.set(inst.expiryMs, inst);
    }
    this.spotAtPick = spot;
    const add: string[] = [];
    const remove: string[] = [];
    for (const [expiry, name] of this.forwardPick) {
      const next = best.get(expiry);
      if (!next || next.name !== name) {
        this.forwardPick.delete(expiry);
        const ch = forwardChannel(name);
        this.desired.delete(ch);
        remove.push(ch);
      }
    }
    for (const [expiry, inst] of best) {
      if (this.forwardPick.get(expiry) === inst.name) continue;
      this.forwardPick.set(expiry, inst.name);
      const ch = forwardChannel(inst.name);
      this.desired.add(ch);
      add.push(ch);
    }
    const live = remove.filter((c) => this.acked.has(c));
    this.enqueue('public/unsubscribe', live);
    this.enqueue('public/subscribe', add);
  }

  /** Sends the perp quote; false when the sink refused it (its stamp failed the venue-time guard). */
  private emitPerp(): boolean | void {
    const t = this.perpTicker;
    if (!t) return;
    const top = this.book.top();
    return this.o.sink.perp(
      {
        venue: VENUE,
        instrument: t.instrument,
        timestampMs: Math.max(t.timestampMs, this.book.hasSnapshot ? this.book.timestampMs : 0),
        markPrice: t.markPrice,
        indexPrice: t.indexPrice,
        funding8h: t.funding8h,
        openInterestCoin: t.openInterestCoin,
        bestBid: t.bestBid ?? top.bestBid,
        bestAsk: t.bestAsk ?? top.bestAsk,
        depth: top.depth,
      },
      this.o.currency,
    );
  }

  /** For tests and diagnostics. */
  debugState(): { desired: string[]; acked: string[]; forwards: Record<string, string>; instruments: number; venueNowMs: number | null; backoffAttempts: number } {
    const forwards: Record<string, string> = {};
    for (const [e, n] of this.forwardPick) forwards[new Date(e).toISOString()] = n;
    return {
      desired: [...this.desired],
      acked: [...this.acked],
      forwards,
      instruments: this.instruments.size,
      venueNowMs: this.venueNow(),
      backoffAttempts: this.backoff.attempts,
    };
  }
}
