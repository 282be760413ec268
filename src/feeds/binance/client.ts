/**
 * Binance feed for one currency: European options and the USD-M perpetual `{C}USDT`, three sockets on
 * fstream.binance.com, combined-stream form (`/stream`, frames `{"stream","data"}`), live SUBSCRIBE:
 *
 * - options, at the feed URL (`.../market/stream`): `{c}usdt@optionMarkPrice` (whole chain, 1 s),
 *   `!optionSymbol` (listings with their unit), `{c}usdt@optionOpenInterest@{YYMMDD}` per expiry seen.
 * - perp mark, same `/market` path: `{c}usdt@markPrice@1s` (mark, index, funding). A separate socket
 *   because mixing options and USD-M streams on one connection is unverified.
 * - perp depth, `/public` path (`/market/` -> `/public/`): `{c}usdt@depth20@100ms` (USD-M routes book
 *   streams to /public and markPrice to /market; a wrong path stays silent, shared/feeds.md §4.3).
 * - option trades, `/public` path: `{c}usdt@optionTrade`, every public option trade of the coin
 *   (./trades.ts) -> sink.trades. A socket of its own: options and USD-M streams stay apart, and a quiet
 *   tape (minutes without an ETH option trade) is not silence: it is kept alive by a LIST_SUBSCRIPTIONS
 *   request after 20 s without a frame, whose answer must come within 10 s.
 *   Trade history: REST `GET /eapi/v1/blockTrades` (the latest 500 block trades of every symbol) and
 *   `GET /eapi/v1/trades?symbol=` per listed symbol, the latest 500 order-book trades each (tradeHistory).
 *
 * Websocket-only: instruments come from the optionMarkPrice symbols (strike/expiry/type parse from the
 * name); the contract unit comes from `!optionSymbol` or an optional exchangeInfo REST call, else 1
 * (every BTC/ETH example has unit 1; unverified live), and that assumption stays beside the venue's
 * figures (a FeedEvent `assumption`, with how many symbols it covers) until units arrive for them.
 * Keepalive: the server's ping frames are answered by the browser (and by `ws` in Node), invisible
 * here, so liveness is data age: 30 s without a frame reconnects. Every connection is renewed
 * proactively at 23 h 50 min (Binance closes at 24 h). Limits: <= 10 incoming messages/s per
 * connection (SUBSCRIBE spaced 250 ms), <= 200 streams per options connection.
 * No forward: Binance prices on the index (r = 0), so no ForwardUpdate is sent. No perp OI stream
 * exists (REST only): PerpQuote.openInterestCoin stays null.
 */
import type { FeedOptions, TradeHistory, TradeHistoryPage, VenueFeed } from '../adapter.ts';
import type { Currency, OptionInstrument, OptionLineUpdate, PerpQuote } from '../../chain/model.ts';
import { parseFrame } from '../frame-guard.ts';
import { MAX_FRAME_BYTES_LIVE } from '../limits.ts';
import { LevelBook, depthWithinBands } from '../level-book.ts';
import { ManagedSocket, type FrameClass, type ManagedSocketOptions } from '../managed-socket.ts';
import { defaultFetchJson, restBaseFor, type FetchJson } from '../rest-fetch.ts';
import { expiredAt } from '../venue-time.ts';
import { binanceInstrument, binanceUnderlying, parseBinanceExchangeInfo, parseBinanceMessage, parseBinanceOptionName, type BinanceMessage } from './parse.ts';
import { parseBinanceBlockTradesBody, parseBinanceTrade, parseBinanceTradesBody } from './trades.ts';
import { RequestPacer } from '../pacer.ts';
import { recentTradesPage, type RecentTradesRequest } from '../recent-trades.ts';

export const BINANCE_SILENCE_MS = 30_000;
export const BINANCE_MAX_LIFETIME_MS = 23 * 3_600_000 + 50 * 60_000;
export const BINANCE_SEND_SPACING_MS = 250;
export const BINANCE_MAX_STREAMS_OPTIONS = 200;
export const BINANCE_STREAMS_PER_REQUEST = 50;
/** The trade socket: a keepalive request after this long without a frame, answered within the next. */
export const BINANCE_TRADES_IDLE_MS = 20_000;
export const BINANCE_TRADES_PONG_TIMEOUT_MS = 10_000;
/** The request id of those keepalives (subscribe requests count from 1). */
const KEEPALIVE_ID = 0;
/** Trades asked of `/eapi/v1/trades` per symbol (Binance's maximum). */
export const BINANCE_RECENT_TRADES_LIMIT = 500;
/**
 * Trade history requests at least this far apart: weight 5 each against Binance's 400 a minute per IP
 * (about 270 a minute at this pace, leaving room for the rest), and the local relay's 1 a second.
 */
export const BINANCE_TRADE_HISTORY_SPACING_MS = 1_100;

export interface BinanceFeedOptions extends FeedOptions {
  /** Optional REST client used once for exchangeInfo units; defaults to fetch. */
  fetchJson?: FetchJson;
  restBase?: string;
  /** Overrides the `/public` depth socket URL derived from `url`. */
  publicUrl?: string;
  random?: () => number;
}

export function createBinanceFeed(options: BinanceFeedOptions): VenueFeed {
  return new BinanceFeed(options);
}

export function binancePublicUrl(marketUrl: string): string {
  return marketUrl.replace('/market/', '/public/');
}

class BinanceFeed implements VenueFeed {
  private readonly o: BinanceFeedOptions;
  private readonly c: Currency;
  private readonly und: string;
  private readonly perpSymbol: string;
  private readonly fetchJson: FetchJson;
  private readonly restBase: string;
  private readonly optionsSocket: ManagedSocket;
  private readonly markSocket: ManagedSocket;
  private readonly depthSocket: ManagedSocket;
  private readonly tradesSocket: ManagedSocket;
  private readonly historyPacer: RequestPacer;
  readonly tradeHistory: TradeHistory;
  private running = false;
  private runId = 0;
  private reqId = 0;
  private instruments = new Map<string, OptionInstrument>();
  private units = new Map<string, number>();
  private expiryCodes = new Set<string>();
  /** Listed symbols whose contract unit is assumed 1 (none from exchangeInfo or `!optionSymbol`). */
  private readonly assumedUnits = new Set<string>();
  private assumedShown = 0;
  private unitsFromRest = false;
  private readonly book = new LevelBook();
  private perp: { mark: number | null; index: number | null; funding8h: number | null; ts: number; bookTs: number } = { mark: null, index: null, funding8h: null, ts: 0, bookTs: 0 };

  constructor(options: BinanceFeedOptions) {
    this.o = options;
    this.c = options.currency;
    this.und = binanceUnderlying(this.c);
    this.perpSymbol = `${this.c}USDT`;
    this.fetchJson = options.fetchJson ?? defaultFetchJson;
    this.restBase = options.restBase ?? restBaseFor(options.url, 'binance', 'binance.com', 'https://eapi.binance.com', options.restRelayOrigin);
    const publicUrl = options.publicUrl ?? binancePublicUrl(options.url);
    this.optionsSocket = this.makeSocket('options', options.url, () => this.optionStreams());
    this.markSocket = this.makeSocket('perp mark', options.url, () => [`${this.und}@markPrice@1s`]);
    this.depthSocket = this.makeSocket('perp depth', publicUrl, () => [`${this.und}@depth20@100ms`]);
    this.tradesSocket = this.makeSocket('option trades', publicUrl, () => [`${this.und}@optionTrade`], {
      ping: { mode: 'idle', periodMs: BINANCE_TRADES_IDLE_MS, pongTimeoutMs: BINANCE_TRADES_PONG_TIMEOUT_MS, message: () => JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: KEEPALIVE_ID }) },
      silenceMs: undefined,
    });
    this.historyPacer = new RequestPacer(options.clock, BINANCE_TRADE_HISTORY_SPACING_MS);
    this.tradeHistory = {
      reach: 'recent',
      note: 'Binance publishes only the latest 500 trades of each option and its latest 500 block trades: older trades of the window come only from the live channel (one request per listed option, about a minute for every 50)',
      fetchPage: (req) => this.fetchTradePage(req),
    };
  }

  private makeSocket(label: string, url: string, streams: () => string[], keepalive?: Pick<ManagedSocketOptions, 'ping' | 'silenceMs'>): ManagedSocket {
    return new ManagedSocket({
      venue: 'binance',
      label: `binance ${label}`,
      url,
      clock: this.o.clock,
      socketFactory: this.o.socketFactory,
      sink: this.o.sink,
      random: this.o.random ?? Math.random,
      ping: null,
      silenceMs: BINANCE_SILENCE_MS,
      maxLifetimeMs: BINANCE_MAX_LIFETIME_MS,
      subscribeMessages: () => this.subscribeMessages(streams()),
      sendSpacingMs: BINANCE_SEND_SPACING_MS,
      onText: (t) => this.onText(t),
      onOpen: label === 'perp depth' ? () => this.book.clear() : undefined,
      ...keepalive,
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.runId++;
    this.optionsSocket.start();
    this.markSocket.start();
    this.depthSocket.start();
    this.tradesSocket.start();
    void this.loadUnits(this.runId);
  }

  stop(): void {
    this.running = false;
    this.runId++;
    this.optionsSocket.stop();
    this.markSocket.stop();
    this.depthSocket.stop();
    this.tradesSocket.stop();
  }

  /** Venue time, not the wall clock: a replay of 2025 lists and subscribes its 2025 expiries. */
  private venueNow(): number | null {
    return this.o.venueNow?.() ?? null;
  }

  private optionStreams(): string[] {
    const venueNow = this.venueNow();
    const streams = [`${this.und}@optionMarkPrice`, '!optionSymbol'];
    for (const code of this.expiryCodes) {
      const expiry = parseBinanceOptionName(`${this.c}-${code}-1-C`)?.expiryMs ?? 0;
      if (!expiredAt(expiry, venueNow)) streams.push(`${this.und}@optionOpenInterest@${code}`);
    }
    return streams.slice(0, BINANCE_MAX_STREAMS_OPTIONS);
  }

  private subscribeMessages(streams: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < streams.length; i += BINANCE_STREAMS_PER_REQUEST) {
      out.push(JSON.stringify({ method: 'SUBSCRIBE', params: streams.slice(i, i + BINANCE_STREAMS_PER_REQUEST), id: ++this.reqId }));
    }
    return out;
  }

  /**
   * The latest block trades, then the latest trades of every listed, unexpired option, inside
   * [startMs, endMs], oldest first, as one page: one paced request each. Rejects before any symbol is
   * listed, on a failed request or on a Binance error answer (the caller retries).
   */
  private async fetchTradePage(req: { startMs: number; endMs: number; signal?: AbortSignal }): Promise<TradeHistoryPage> {
    const venueNow = this.venueNow();
    const symbols = [...this.instruments.values()].filter((i) => !expiredAt(i.expiryMs, venueNow)).map((i) => i.name);
    if (symbols.length === 0) throw new Error('no option listed yet');
    const c = this.c;
    const requests: RecentTradesRequest[] = [
      { what: 'blockTrades', url: `${this.restBase}/eapi/v1/blockTrades?limit=${BINANCE_RECENT_TRADES_LIMIT}`, parse: (body, dropped) => parseBinanceBlockTradesBody(body, c, dropped) },
      ...symbols.map((symbol) => ({
        what: `${symbol} trades`,
        url: `${this.restBase}/eapi/v1/trades?symbol=${symbol}&limit=${BINANCE_RECENT_TRADES_LIMIT}`,
        parse: (body: unknown, dropped: Record<string, number>) => parseBinanceTradesBody(body, c, dropped),
      })),
    ];
    return recentTradesPage(requests, { pacer: this.historyPacer, fetchJson: this.fetchJson }, req);
  }

  private async loadUnits(runId: number): Promise<void> {
    try {
      const body = await this.fetchJson(`${this.restBase}/eapi/v1/exchangeInfo`);
      if (runId !== this.runId) return;
      const r = parseBinanceExchangeInfo(body, this.c);
      if (r.error !== null) throw new Error(r.error);
      for (const reason of r.drops) this.o.sink.status('binance', { kind: 'dropped', reason });
      for (const [s, u] of r.units) {
        this.units.set(s, u);
        this.assumedUnits.delete(s);
      }
      this.unitsFromRest = true;
      this.showAssumption();
      let changed = false;
      for (const [s, i] of this.instruments) {
        const u = this.units.get(s);
        if (u !== undefined && u !== i.multiplier) {
          this.instruments.set(s, { ...i, multiplier: u });
          changed = true;
        }
      }
      if (changed) this.emitInstruments();
    } catch (e) {
      if (runId !== this.runId) return;
      this.o.sink.status('binance', { kind: 'venueError', code: null, message: `exchangeInfo unavailable (${String(e).slice(0, 80)}); contract unit taken from listings, else assumed 1`, retryInMs: null });
    }
  }

  private emitInstruments(): void {
    const venueNow = this.venueNow();
    const list = [...this.instruments.values()].filter((i) => !expiredAt(i.expiryMs, venueNow));
    this.o.sink.instruments('binance', this.c, list, true);
  }

  // ---- frames --------------------------------------------------------------------------------------

  private onText(text: string): FrameClass {
    const parsed = parseFrame(text, MAX_FRAME_BYTES_LIVE);
    if (!parsed.ok) {
      this.o.sink.status('binance', { kind: 'dropped', reason: parsed.reason });
      return 'other';
    }
    return this.apply(parseBinanceMessage(parsed.value));
  }

  private apply(m: BinanceMessage): FrameClass {
    const sink = this.o.sink;
    switch (m.kind) {
      case 'result':
        if (m.id === KEEPALIVE_ID) return 'heartbeat';
        sink.status('binance', { kind: 'subscribed', channels: 1 });
        return 'other';
      case 'error':
        sink.status('binance', { kind: 'venueError', code: m.code, message: m.message, retryInMs: null });
        return 'other';
      case 'ignored':
        return 'other';
      case 'dropped':
        sink.status('binance', { kind: 'dropped', reason: m.reason });
        return 'other';
      case 'marks':
        return this.applyMarks(m);
      case 'openInterest': {
        for (const reason of m.drops) sink.status('binance', { kind: 'dropped', reason });
        const known = m.updates.filter((u) => this.instruments.has(u.name));
        for (let i = known.length; i < m.updates.length; i++) sink.status('binance', { kind: 'dropped', reason: 'unknownInstrument' });
        return known.length > 0 && sink.options('binance', known) !== false ? 'data' : 'other';
      }
      case 'newSymbol': {
        if (m.name.currency !== this.c) return 'other';
        this.units.set(m.symbol, m.unit);
        if (this.assumedUnits.delete(m.symbol)) this.showAssumption();
        const prev = this.instruments.get(m.symbol);
        if (!prev || prev.multiplier !== m.unit) {
          this.instruments.set(m.symbol, binanceInstrument(m.name, m.symbol, m.unit));
          this.emitInstruments();
          this.noteExpiry(m.name.expiryCode);
        }
        return 'data';
      }
      case 'perpMark':
        if (m.symbol !== this.perpSymbol) return this.unknown();
        this.perp.mark = m.markPrice;
        this.perp.index = m.indexPrice;
        this.perp.funding8h = m.funding8h;
        return this.emitPerp(m.timestampMs);
      case 'trade': {
        const t = parseBinanceTrade(m.event, this.c);
        if (typeof t === 'string') {
          sink.status('binance', { kind: 'dropped', reason: t });
          return 'other';
        }
        // A trade the host refused (stamped ahead of venue time) is not data.
        return sink.trades('binance', this.c, [t]) !== false ? 'data' : 'other';
      }
      case 'depth':
        if (m.symbol !== this.perpSymbol) return this.unknown();
        // Partial-depth pushes are whole top-N snapshots.
        this.book.clear();
        for (const [p, s] of m.bids) this.book.apply('bid', p, s);
        for (const [p, s] of m.asks) this.book.apply('ask', p, s);
        this.perp.bookTs = m.timestampMs;
        return this.emitPerp(m.timestampMs);
    }
  }

  /** Keeps the unit assumption on screen while any listed symbol rests on it, with how many do. */
  private showAssumption(): void {
    const n = this.assumedUnits.size;
    if (n === this.assumedShown) return;
    this.assumedShown = n;
    const why = this.unitsFromRest ? 'not in exchangeInfo' : 'exchangeInfo unavailable';
    this.o.sink.status('binance', { kind: 'assumption', key: 'contractUnit', message: n > 0 ? `contract unit assumed 1 ${this.c} for ${n} symbol${n === 1 ? '' : 's'} (${why})` : null });
  }

  private unknown(): FrameClass {
    this.o.sink.status('binance', { kind: 'dropped', reason: 'unknownInstrument' });
    return 'other';
  }

  private noteExpiry(code: string): void {
    if (this.expiryCodes.has(code)) return;
    this.expiryCodes.add(code);
    if (this.optionsSocket.isOpen && this.expiryCodes.size + 2 <= BINANCE_MAX_STREAMS_OPTIONS) {
      for (const msg of this.subscribeMessages([`${this.und}@optionOpenInterest@${code}`])) this.optionsSocket.send(msg);
    }
  }

  private applyMarks(m: Extract<BinanceMessage, { kind: 'marks' }>): FrameClass {
    const sink = this.o.sink;
    for (const reason of m.drops) sink.status('binance', { kind: 'dropped', reason });
    const updates: OptionLineUpdate[] = [];
    let added = false;
    for (const r of m.rows) {
      if (r.name.currency !== this.c) {
        sink.status('binance', { kind: 'dropped', reason: 'unknownInstrument' });
        continue;
      }
      if (!this.instruments.has(r.update.name)) {
        const unit = this.units.get(r.update.name);
        if (unit === undefined) this.assumedUnits.add(r.update.name);
        this.instruments.set(r.update.name, binanceInstrument(r.name, r.update.name, unit ?? 1));
        added = true;
      }
      this.noteExpiry(r.name.expiryCode);
      updates.push(r.update);
    }
    if (added) {
      this.showAssumption();
      this.emitInstruments();
    }
    // A refused stamp (venue-time guard) is not data.
    const tookLines = updates.length > 0 && sink.options('binance', updates) !== false;
    const tookIndex = m.index !== null && sink.index('binance', this.c, m.index.price, m.index.timestampMs) !== false;
    return tookLines || tookIndex ? 'data' : 'other';
  }

  /** Sends the perp quote; 'other' when the sink refused its stamp (which then does not stick). */
  private emitPerp(ts: number): FrameClass {
    const p = this.perp;
    if (p.mark === null || p.index === null) return 'data';
    const stamp = Math.max(p.ts, ts);
    const bids = this.book.bids();
    const asks = this.book.asks();
    // Top 20 levels rarely reach 0.5 % on BTC: depthWithinBands reports only bands the book spans.
    const { depth } = depthWithinBands(bids, asks, 1);
    const quote: PerpQuote = {
      venue: 'binance',
      instrument: this.perpSymbol,
      timestampMs: stamp,
      markPrice: p.mark,
      indexPrice: p.index,
      funding8h: p.funding8h,
      openInterestCoin: null,
      bestBid: bids.length > 0 ? bids[0].price : null,
      bestAsk: asks.length > 0 ? asks[0].price : null,
      depth,
    };
    if (this.o.sink.perp(quote, this.c) === false) return 'other';
    p.ts = stamp;
    return 'data';
  }
}
