/**
 * Bybit v5 public feed for one currency. Two kinds of socket:
 *
 * - option socket(s) at the feed URL (`.../v5/public/option`): `tickers.{symbol}` for every listed
 *   option of the currency (Bybit has no chain-wide option topic). Bybit allows at most 2,000 option
 *   args and 21,000 characters of args per connection, so the symbols are partitioned over as many
 *   option sockets as needed (BTC needs two or three); each socket resubscribes its own share.
 * - one linear socket, same URL with the last path segment `option` -> `linear`
 *   (`wss://stream.bybit.com/v5/public/linear`, locally `/bybit/v5/public/linear`), for the hedge-side
 *   perpetual `{C}USDT`: `tickers.{C}USDT` (snapshot + deltas) and `orderbook.200.{C}USDT`.
 * - `publicTrade.{C}` (one topic for every option of the coin) rides on an option socket like a ticker
 *   topic: the public option trades (./trades.ts) -> sink.trades. Trade history: REST
 *   `recent-trade?category=option&baseCoin={C}&limit=1000`, the latest 1,000 only (tradeHistory).
 *
 * Symbols come from REST `GET /v5/market/instruments-info?category=option&baseCoin={C}` (paginated),
 * refreshed every 10 min. Keepalive: `{"op":"ping"}` every 20 s on every socket, any frame within
 * 10 s counts as the answer. Forward = each ticker's `underlyingPrice` (a real per-expiry forward);
 * the index is the option tickers' `indexPrice`.
 */
import type { FeedOptions, TradeHistory, TradeHistoryPage, VenueFeed } from '../adapter.ts';
import type { Currency, OptionInstrument, PerpQuote } from '../../chain/model.ts';
import { parseFrame } from '../frame-guard.ts';
import { MAX_FRAME_BYTES_LIVE } from '../limits.ts';
import { LevelBook, depthWithinBands } from '../level-book.ts';
import { ManagedSocket, type FrameClass } from '../managed-socket.ts';
import { defaultFetchJson, restBaseFor, type FetchJson } from '../rest-fetch.ts';
import { InstrumentRefresher, type InstrumentLoad } from '../instrument-refresh.ts';
import { expiredAt } from '../venue-time.ts';
import { bybitPerpSymbol, parseBybitInstruments, parseBybitMessage, type BybitLinearTickerFields, type BybitMessage } from './parse.ts';
import { parseBybitTrades, parseBybitTradesBody } from './trades.ts';
import { RequestPacer } from '../pacer.ts';
import { recentTradesPage } from '../recent-trades.ts';

export const BYBIT_PING_MS = 20_000;
export const BYBIT_PONG_TIMEOUT_MS = 10_000;
export const BYBIT_OPTION_ARGS_PER_CONN = 2_000;
/** Bybit: 21,000 characters of args per public connection; keep a margin. */
export const BYBIT_ARGS_CHARS_PER_CONN = 20_000;
export const BYBIT_TOPICS_PER_REQUEST = 100;
export const BYBIT_SEND_SPACING_MS = 200;
export const BYBIT_INSTRUMENTS_REFRESH_MS = 10 * 60_000;
export const BYBIT_BOOK_DEPTH = 200;
const MAX_PAGES = 20;
/** Trades asked of `recent-trade` (Bybit's maximum for options: [1, 1000]). */
export const BYBIT_RECENT_TRADES_LIMIT = 1_000;
/** Trade history requests at least this far apart (the local relay allows 5 per second for every Bybit call). */
export const BYBIT_TRADE_HISTORY_SPACING_MS = 500;

export interface BybitFeedOptions extends FeedOptions {
  fetchJson?: FetchJson;
  /** Overrides the REST base derived from `url` (live -> https://api.bybit.com, else /bybit/rest). */
  restBase?: string;
  /** Overrides the linear socket URL derived from `url`. */
  linearUrl?: string;
  random?: () => number;
}

export function createBybitFeed(options: BybitFeedOptions): VenueFeed {
  return new BybitFeed(options);
}

/** The linear socket URL for an option socket URL: the last path segment becomes `linear`. */
export function bybitLinearUrl(optionUrl: string): string {
  return optionUrl.replace(/\/option(?=$|\?)/, '/linear');
}

function subscribeMessages(topics: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < topics.length; i += BYBIT_TOPICS_PER_REQUEST) {
    out.push(JSON.stringify({ req_id: `sub${i}`, op: 'subscribe', args: topics.slice(i, i + BYBIT_TOPICS_PER_REQUEST) }));
  }
  return out;
}

interface OptionConn {
  socket: ManagedSocket;
  topics: Set<string>;
  chars: number;
}

class BybitFeed implements VenueFeed {
  private readonly o: BybitFeedOptions;
  private readonly c: Currency;
  private readonly perpSymbol: string;
  private readonly fetchJson: FetchJson;
  private readonly restBase: string;
  private readonly random: () => number;
  private readonly refresher: InstrumentRefresher;
  private readonly linear: ManagedSocket;
  private readonly optionConns: OptionConn[] = [];
  private running = false;
  private instruments = new Map<string, OptionInstrument>();
  private lastIndexTs = 0;
  /**
   * The forward last sent per expiry. Every option ticker carries its expiry's forward, ~60 symbols an
   * expiry, each every 100 ms: the line's own update carries it anyway, so the expiry-wide forward (which
   * the store writes to every line of the expiry) goes out only when it moves.
   */
  private readonly expiryForward = new Map<number, number>();
  private readonly book = new LevelBook();
  private bookReady = false;
  private perp: { fields: BybitLinearTickerFields; ts: number } = { fields: {}, ts: 0 };
  private oiHalvedShown = false;
  private readonly historyPacer: RequestPacer;
  readonly tradeHistory: TradeHistory;

  constructor(options: BybitFeedOptions) {
    this.o = options;
    this.c = options.currency;
    this.perpSymbol = bybitPerpSymbol(this.c);
    this.fetchJson = options.fetchJson ?? defaultFetchJson;
    this.restBase = options.restBase ?? restBaseFor(options.url, 'bybit', 'bybit.com', 'https://api.bybit.com', options.restRelayOrigin);
    this.random = options.random ?? Math.random;
    this.refresher = new InstrumentRefresher({
      venue: 'bybit', clock: options.clock, sink: options.sink, random: this.random, refreshMs: BYBIT_INSTRUMENTS_REFRESH_MS,
      load: (current) => this.loadInstruments(current),
      onList: (list) => this.onInstruments(list),
    });
    this.historyPacer = new RequestPacer(options.clock, BYBIT_TRADE_HISTORY_SPACING_MS);
    this.tradeHistory = {
      reach: 'recent',
      note: 'Bybit publishes only its latest 1,000 option trades per coin: older trades of the window come only from the live channel',
      fetchPage: (req) => this.fetchTradePage(req),
    };
    this.linear = this.makeSocket('linear', options.linearUrl ?? bybitLinearUrl(options.url), () =>
      subscribeMessages([`tickers.${this.perpSymbol}`, `orderbook.${BYBIT_BOOK_DEPTH}.${this.perpSymbol}`]),
    );
  }

  private makeSocket(label: string, url: string, messages: () => string[]): ManagedSocket {
    return new ManagedSocket({
      venue: 'bybit',
      label: `bybit ${label}`,
      url,
      clock: this.o.clock,
      socketFactory: this.o.socketFactory,
      sink: this.o.sink,
      random: this.random,
      ping: { mode: 'interval', periodMs: BYBIT_PING_MS, pongTimeoutMs: BYBIT_PONG_TIMEOUT_MS, message: () => '{"req_id":"ping","op":"ping"}' },
      subscribeMessages: messages,
      sendSpacingMs: BYBIT_SEND_SPACING_MS,
      onText: (t) => this.onText(t),
      onOpen: label === 'linear' ? () => this.resetPerp() : undefined,
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.linear.start();
    for (const c of this.optionConns) c.socket.start();
    this.refresher.start();
  }

  stop(): void {
    this.running = false;
    this.linear.stop();
    for (const c of this.optionConns) c.socket.stop();
    this.refresher.stop();
  }

  /** Number of option sockets (diagnostics and tests). */
  get optionSocketCount(): number {
    return this.optionConns.length;
  }

  // ---- instruments and the option-topic partition ----------------------------------------------------

  /** One paged instruments load (InstrumentRefresher runs it at start and every 10 min). */
  private async loadInstruments(current: () => boolean): Promise<InstrumentLoad> {
    const list: OptionInstrument[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = `${this.restBase}/v5/market/instruments-info?category=option&baseCoin=${this.c}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const body = await this.fetchJson(url);
      if (!current()) return null;
      const r = parseBybitInstruments(body, this.c);
      if (r.error !== null) return { error: r.error };
      for (const reason of r.drops) this.o.sink.status('bybit', { kind: 'dropped', reason });
      list.push(...r.list);
      cursor = r.nextCursor;
      if (cursor === null) break;
    }
    return { list };
  }

  private onInstruments(list: OptionInstrument[]): void {
    this.instruments = new Map(list.map((i) => [i.name, i]));
    this.o.sink.instruments('bybit', this.c, list, true);
    this.repartition();
  }

  /** Drops expired/delisted topics from the desired sets and places new ones where there is room. */
  private repartition(): void {
    // Venue time, not the wall clock: a replay of 2023 subscribes its 2023 listings.
    const venueNow = this.o.venueNow?.() ?? null;
    const wanted = new Set<string>([`publicTrade.${this.c}`]);
    for (const i of this.instruments.values()) if (!expiredAt(i.expiryMs, venueNow)) wanted.add(`tickers.${i.name}`);
    const placed = new Set<string>();
    for (const conn of this.optionConns) {
      for (const t of conn.topics) {
        if (!wanted.has(t)) {
          conn.topics.delete(t);
          conn.chars -= t.length + 3;
        } else placed.add(t);
      }
    }
    const fresh = new Map<OptionConn, string[]>();
    for (const t of wanted) {
      if (placed.has(t)) continue;
      let conn = this.optionConns.find((c) => c.topics.size < BYBIT_OPTION_ARGS_PER_CONN && c.chars + t.length + 3 <= BYBIT_ARGS_CHARS_PER_CONN);
      if (!conn) {
        const topics = new Set<string>();
        const created: OptionConn = {
          topics,
          chars: 2,
          socket: this.makeSocket(`option#${this.optionConns.length + 1}`, this.o.url, () => subscribeMessages([...topics])),
        };
        this.optionConns.push(created);
        conn = created;
      }
      conn.topics.add(t);
      conn.chars += t.length + 3;
      const list = fresh.get(conn) ?? [];
      list.push(t);
      fresh.set(conn, list);
    }
    for (const [conn, topics] of fresh) {
      // An open socket gets just the new topics; a socket not yet open sends its whole set on open.
      if (conn.socket.isOpen) for (const m of subscribeMessages(topics)) conn.socket.send(m);
      else if (this.running) conn.socket.start();
    }
  }

  /**
   * The latest option trades of the coin inside [startMs, endMs], oldest first: one paced request.
   * Rejects on a failed request or a Bybit error answer (the caller retries).
   */
  private fetchTradePage(req: { startMs: number; endMs: number; signal?: AbortSignal }): Promise<TradeHistoryPage> {
    const request = {
      what: 'recent-trade',
      url: `${this.restBase}/v5/market/recent-trade?category=option&baseCoin=${this.c}&limit=${BYBIT_RECENT_TRADES_LIMIT}`,
      parse: (body: unknown, dropped: Record<string, number>) => parseBybitTradesBody(body, this.c, dropped),
    };
    return recentTradesPage([request], { pacer: this.historyPacer, fetchJson: this.fetchJson }, req);
  }

  // ---- frames --------------------------------------------------------------------------------------

  private onText(text: string): FrameClass {
    const parsed = parseFrame(text, MAX_FRAME_BYTES_LIVE);
    if (!parsed.ok) {
      this.o.sink.status('bybit', { kind: 'dropped', reason: parsed.reason });
      return 'other';
    }
    return this.apply(parseBybitMessage(parsed.value));
  }

  private apply(m: BybitMessage): FrameClass {
    const sink = this.o.sink;
    switch (m.kind) {
      case 'pong':
        return 'heartbeat';
      case 'subscribed':
        sink.status('bybit', { kind: 'subscribed', channels: m.success.length });
        if (m.failed.length > 0) {
          sink.status('bybit', { kind: 'venueError', code: null, message: `${m.failed.length} topics refused, e.g. ${m.failed[0]}`, retryInMs: null });
        }
        return 'other';
      case 'error':
        sink.status('bybit', { kind: 'venueError', code: null, message: m.message, retryInMs: null });
        return 'other';
      case 'ignored':
        return 'other';
      case 'dropped':
        sink.status('bybit', { kind: 'dropped', reason: m.reason });
        return 'other';
      case 'option': {
        if (m.currency !== this.c || !this.instruments.has(m.update.name)) {
          sink.status('bybit', { kind: 'dropped', reason: 'unknownInstrument' });
          return 'other';
        }
        // A refused stamp (venue-time guard) is not data and must not hold the index back.
        if (sink.options('bybit', [m.update]) === false) return 'other';
        const f = m.forward;
        if (f && this.expiryForward.get(f.expiryMs) !== f.forward && sink.forwards('bybit', this.c, [f]) !== false) this.expiryForward.set(f.expiryMs, f.forward);
        if (m.indexPrice !== null && m.timestampMs > this.lastIndexTs && sink.index('bybit', this.c, m.indexPrice, m.timestampMs) !== false) {
          this.lastIndexTs = m.timestampMs;
        }
        return 'data';
      }
      case 'linearTicker':
        if (m.symbol !== this.perpSymbol) return this.unknown();
        if (m.snapshot) this.perp.fields = {};
        Object.assign(this.perp.fields, m.fields);
        return this.emitPerp(m.timestampMs);
      case 'trades': {
        if (m.currency !== this.c) return this.unknown();
        const dropped: Record<string, number> = {};
        const trades = parseBybitTrades(m.rows, this.c, dropped);
        for (const [reason, count] of Object.entries(dropped)) sink.status('bybit', { kind: 'dropped', reason, count });
        // A trade the host refused (stamped ahead of venue time) is not data.
        return trades.length > 0 && sink.trades('bybit', this.c, trades) !== false ? 'data' : 'other';
      }
      case 'book':
        if (m.symbol !== this.perpSymbol) return this.unknown();
        if (m.snapshot) {
          this.book.clear();
          this.bookReady = true;
        } else if (!this.bookReady) {
          sink.status('bybit', { kind: 'dropped', reason: 'bookNoSnapshot' });
          return 'other';
        }
        for (const [p, s] of m.bids) this.book.apply('bid', p, s);
        for (const [p, s] of m.asks) this.book.apply('ask', p, s);
        return this.emitPerp(m.timestampMs);
    }
  }

  private unknown(): FrameClass {
    this.o.sink.status('bybit', { kind: 'dropped', reason: 'unknownInstrument' });
    return 'other';
  }

  private resetPerp(): void {
    this.book.clear();
    this.bookReady = false;
    this.perp = { fields: {}, ts: 0 };
  }

  /**
   * One side of the perpetual's open interest, as the other venues count it: `singleOpenInterest`, else
   * Bybit's both-sides `openInterest` halved (a market's two sides are equal), which is then said beside
   * the figures.
   */
  private perpOi(): number | null {
    const f = this.perp.fields;
    const halved = f.openInterestCoin === undefined && f.openInterestBothSides !== undefined;
    if (halved !== this.oiHalvedShown) {
      this.oiHalvedShown = halved;
      this.o.sink.status('bybit', { kind: 'assumption', key: 'perpOi', message: halved ? `${this.perpSymbol} open interest: both sides halved (no singleOpenInterest)` : null });
    }
    return f.openInterestCoin ?? (f.openInterestBothSides !== undefined ? f.openInterestBothSides / 2 : null);
  }

  /** Sends the perp quote; 'other' when the sink refused its stamp (which then does not stick). */
  private emitPerp(ts: number): FrameClass {
    const f = this.perp.fields;
    if (f.markPrice === undefined || f.indexPrice === undefined) return 'data';
    const stamp = Math.max(this.perp.ts, ts);
    const bids = this.bookReady ? this.book.bids() : [];
    const asks = this.bookReady ? this.book.asks() : [];
    // USDT perpetual sizes are in coin.
    const { depth } = depthWithinBands(bids, asks, 1);
    const quote: PerpQuote = {
      venue: 'bybit',
      instrument: this.perpSymbol,
      timestampMs: stamp,
      markPrice: f.markPrice,
      indexPrice: f.indexPrice,
      funding8h: f.funding8h ?? null,
      openInterestCoin: this.perpOi(),
      bestBid: bids.length > 0 ? bids[0].price : (f.bid1 ?? null),
      bestAsk: asks.length > 0 ? asks[0].price : (f.ask1 ?? null),
      depth,
    };
    if (this.o.sink.perp(quote, this.c) === false) return 'other';
    this.perp.ts = stamp;
    return 'data';
  }
}
