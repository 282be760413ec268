/**
 * OKX v5 public feed for one currency: one websocket (options, index and the USDT perpetual share it)
 * plus REST instrument discovery.
 *
 * Subscriptions (args of `{"op":"subscribe","args":[...]}`), per currency C:
 * - `opt-summary` {instFamily} for both option families, the coin-margined `C-USD` and the USD-margined
 *   `C-USD_UM` (summed side by side: options on the same index): mark IV (decimal) and forward per
 *   line -> options, forwards
 * - `index-tickers` {instId:"C-USD"}: the index -> sink.index; {instId:"C-USDT"}: the perp's index
 * - `open-interest` {instId} per listed option of either family: OI (oiCcy coin) -> options
 * - `mark-price`, `funding-rate`, `open-interest`, `books` {instId:"C-USDT-SWAP"} -> sink.perp
 * - `option-trades` {instType:"OPTION", instFamily} for both families: every public option trade,
 *   one per push (./trades.ts) -> sink.trades. "The first data you receive after subscribing may be
 *   cached from the previous trade": it is passed on like the rest, the tape counts a trade id once.
 *   Trade history: REST `option-trades?instFamily=` per family, the latest 100 only (tradeHistory).
 * Keepalive: text `ping` after 20 s without any inbound frame, `pong` expected within 10 s
 * (OKX: "N < 30 s"). Limits: 480 subscribe requests per connection per hour (budgeted and counted: the
 * status line shows how many the connection spent in the last hour), a request's args under 64 KB
 * (chunked at 60,000 characters), 3 connection requests/s per IP (reconnect floor 400 ms).
 * `event:notice` 64008 (service upgrade) reconnects at once.
 * Book (./book.ts): since 2026 OKX pushes no snapshot and `checksum: 0`; the snapshot comes from REST
 * `GET /api/v5/market/books` and the pushed updates chain onto it by seqId. A broken chain clears the
 * book and is repaired the same way, at a bounded rate: `books` is never resubscribed (each
 * resubscribe costs two requests of the hourly budget, and a loop of them starves later subscribes).
 */
import type { FeedOptions, TradeHistory, TradeHistoryPage, VenueFeed } from '../adapter.ts';
import type { Currency, OptionInstrument, OptionLineUpdate, PerpQuote } from '../../chain/model.ts';
import { parseFrame } from '../frame-guard.ts';
import { MAX_FRAME_BYTES_LIVE } from '../limits.ts';
import { depthWithinBands } from '../level-book.ts';
import { ManagedSocket, type FrameClass } from '../managed-socket.ts';
import {
  okxFamilies,
  okxPerpId,
  parseOkxBookSnapshot,
  parseOkxMessage,
  parseOkxOptionInstruments,
  parseOkxSwapSpec,
  type OkxMessage,
} from './parse.ts';
import { defaultFetchJson, restBaseFor, type FetchJson } from '../rest-fetch.ts';
import { InstrumentRefresher, type InstrumentLoad } from '../instrument-refresh.ts';
import { expiredAt } from '../venue-time.ts';
import { OkxBookSync, type BookVerdict } from './book.ts';
import { parseOkxOptionName } from './parse.ts';
import { parseOkxTrades, parseOkxTradesBody, type OkxTradeContext } from './trades.ts';
import { RequestPacer } from '../pacer.ts';
import { recentTradesPage } from '../recent-trades.ts';

export const OKX_PING_IDLE_MS = 20_000;
export const OKX_PONG_TIMEOUT_MS = 10_000;
export const OKX_SUBSCRIBE_PER_HOUR = 480;
export const OKX_MAX_REQUEST_CHARS = 60_000;
export const OKX_RECONNECT_FLOOR_MS = 400;
export const OKX_INSTRUMENTS_REFRESH_MS = 10 * 60_000;
/** A listing we have not fetched yet triggers a refresh, at most this often. */
export const OKX_UNKNOWN_REFRESH_MIN_MS = 60_000;
/** Levels asked of the REST book snapshot (OKX's maximum for `books`). */
export const OKX_BOOK_SNAPSHOT_LEVELS = 400;
/**
 * Book snapshot requests: at least this far apart, doubling with each request in a row that did not
 * give a book which then held for OKX_BOOK_STABLE_MS, up to the cap (OKX allows 40 per 2 s per IP; the
 * local relay 5 per second for all OKX calls).
 */
export const OKX_BOOK_SNAPSHOT_MIN_SPACING_MS = 1_000;
export const OKX_BOOK_SNAPSHOT_MAX_SPACING_MS = 60_000;
export const OKX_BOOK_STABLE_MS = 30_000;
/**
 * Trade history requests at least this far apart: OKX allows 20 per 2 s per IP for option-trades; the
 * local relay 5 per second for every OKX call (instruments and book snapshots share it).
 */
export const OKX_TRADE_HISTORY_SPACING_MS = 500;

export interface OkxFeedOptions extends FeedOptions {
  /** Injected REST client (tests, or a relay). Defaults to fetch. */
  fetchJson?: FetchJson;
  /** Overrides the REST base derived from `url` (live host -> https://www.okx.com, else /okx/rest). */
  restBase?: string;
  /** Uniform [0, 1) for backoff jitter; injected for deterministic tests. */
  random?: () => number;
}

type Arg = Record<string, string>;

export function createOkxFeed(options: OkxFeedOptions): VenueFeed {
  return new OkxFeed(options);
}

class OkxFeed implements VenueFeed {
  private readonly o: OkxFeedOptions;
  private readonly c: Currency;
  private readonly perpId: string;
  private readonly fetchJson: FetchJson;
  private readonly restBase: string;
  private readonly socket: ManagedSocket;
  private readonly refresher: InstrumentRefresher;
  private running = false;
  /** Bumped on stop so a REST answer arriving afterwards is ignored. */
  private runId = 0;
  private instruments = new Map<string, OptionInstrument>();
  private multipliers = new Map<string, number>();
  private instrumentsLoaded = false;
  private lastUnknownRefresh = -Infinity;
  private mismatchReported = new Set<string>();
  private refusedReported = new Set<string>();
  private coinPerContract: number | null = null;
  /**
   * OI units per traded contract, by family: set when OKX's open-interest pushes show a contract of
   * another size than the listing's ctVal x ctMult (the OI lines are then oiCcy / multiplier, and a
   * trade's `sz` in venue contracts must follow them).
   */
  private readonly oiUnitsPerContract = new Map<string, number>();
  private readonly tradeContext: OkxTradeContext = { oiUnitsPerContract: (family) => this.oiUnitsPerContract.get(family) ?? 1 };
  private readonly historyPacer: RequestPacer;
  readonly tradeHistory: TradeHistory;
  private readonly books = new OkxBookSync();
  /** Bumped on every connection and on stop: a snapshot answer for an older book is ignored. */
  private bookGen = 0;
  private snapshot = { inFlight: false, timer: null as unknown, lastAt: -Infinity, streak: 0, readySince: null as number | null };
  private perp: { mark: number | null; index: number | null; funding8h: number | null; oiCoin: number | null; ts: number } = {
    mark: null,
    index: null,
    funding8h: null,
    oiCoin: null,
    ts: 0,
  };

  constructor(options: OkxFeedOptions) {
    this.o = options;
    this.c = options.currency;
    this.perpId = okxPerpId(this.c);
    this.fetchJson = options.fetchJson ?? defaultFetchJson;
    this.restBase = options.restBase ?? restBaseFor(options.url, 'okx', 'okx.com', 'https://www.okx.com', options.restRelayOrigin);
    const random = options.random ?? Math.random;
    this.historyPacer = new RequestPacer(options.clock, OKX_TRADE_HISTORY_SPACING_MS);
    this.tradeHistory = {
      reach: 'recent',
      note: 'OKX publishes only its latest 100 option trades per family: older trades of the window come only from the live channel',
      fetchPage: (req) => this.fetchTradePage(req),
    };
    this.refresher = new InstrumentRefresher({
      venue: 'okx', clock: options.clock, sink: options.sink, random, refreshMs: OKX_INSTRUMENTS_REFRESH_MS,
      load: (current) => this.loadInstruments(current),
      onList: (list) => this.onInstruments(list),
    });
    this.socket = new ManagedSocket({
      venue: 'okx',
      label: 'okx',
      url: options.url,
      clock: options.clock,
      socketFactory: options.socketFactory,
      sink: options.sink,
      random,
      ping: { mode: 'idle', periodMs: OKX_PING_IDLE_MS, pongTimeoutMs: OKX_PONG_TIMEOUT_MS, message: () => 'ping' },
      minReconnectMs: OKX_RECONNECT_FLOOR_MS,
      subscribeMessages: () => this.subscribeMessages(),
      sendSpacingMs: 100,
      hourlyBudget: OKX_SUBSCRIBE_PER_HOUR,
      onText: (t) => this.onText(t),
      onOpen: () => this.resetBook(),
      onDisconnect: () => this.resetBook(),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.runId++;
    this.socket.start();
    this.refresher.start();
    void this.loadSwapSpec(this.runId);
  }

  stop(): void {
    this.running = false;
    this.runId++;
    this.socket.stop();
    this.refresher.stop();
    this.resetBook();
  }

  /** Subscribe requests the current connection spent in the last hour, against OKX's budget. */
  requestStats(): { subscribesLastHour: number; subscribeBudgetPerHour: number } {
    return { subscribesLastHour: this.socket.sentLastHour, subscribeBudgetPerHour: OKX_SUBSCRIBE_PER_HOUR };
  }

  // ---- subscriptions ------------------------------------------------------------------------------

  private baseArgs(): Arg[] {
    return [
      ...okxFamilies(this.c).map((instFamily) => ({ channel: 'opt-summary', instFamily })),
      { channel: 'index-tickers', instId: `${this.c}-USD` },
      { channel: 'index-tickers', instId: `${this.c}-USDT` },
      { channel: 'mark-price', instId: this.perpId },
      { channel: 'funding-rate', instId: this.perpId },
      { channel: 'open-interest', instId: this.perpId },
      { channel: 'books', instId: this.perpId },
      ...okxFamilies(this.c).map((instFamily) => ({ channel: 'option-trades', instType: 'OPTION', instFamily })),
    ];
  }

  private optionOiArgs(names: Iterable<string>): Arg[] {
    // Venue time, not the wall clock: a replay of 2023 subscribes its 2023 listings.
    const venueNow = this.o.venueNow?.() ?? null;
    const out: Arg[] = [];
    for (const n of names) {
      const i = this.instruments.get(n);
      // Never (re)subscribe an expired instrument: the venue answers with an error.
      if (i && !expiredAt(i.expiryMs, venueNow)) out.push({ channel: 'open-interest', instId: n });
    }
    return out;
  }

  private subscribeMessages(): string[] {
    return chunkRequests('subscribe', [...this.baseArgs(), ...this.optionOiArgs(this.instruments.keys())]);
  }

  // ---- REST ----------------------------------------------------------------------------------------

  /**
   * One instruments load of every family (InstrumentRefresher runs it at start, every 10 min and on
   * demand). A family OKX answers with an error code (not listed for this coin, or refused this time)
   * keeps the lines it had and is named once; a failed request or a malformed body fails the whole
   * load (retried), and so does OKX refusing every family.
   */
  private async loadInstruments(current: () => boolean): Promise<InstrumentLoad> {
    const list: OptionInstrument[] = [];
    const refused: string[] = [];
    const families = okxFamilies(this.c);
    for (const family of families) {
      const body = await this.fetchJson(`${this.restBase}/api/v5/public/instruments?instType=OPTION&instFamily=${family}`);
      if (!current()) return null;
      const r = parseOkxOptionInstruments(body, this.c, family);
      if (r.error !== null && !r.refused) return { error: `${family}: ${r.error}` };
      if (r.error !== null) {
        refused.push(`${family}: ${r.error}`);
        for (const i of this.instruments.values()) if (i.family === family) list.push(i);
        continue;
      }
      for (const reason of r.drops) this.o.sink.status('okx', { kind: 'dropped', reason });
      list.push(...r.list);
    }
    if (refused.length === families.length) return { error: refused.join('; ') };
    for (const text of refused) {
      if (this.refusedReported.has(text)) continue;
      this.refusedReported.add(text);
      this.o.sink.status('okx', { kind: 'venueError', code: null, message: `option family left out: ${text}`, retryInMs: null });
    }
    return { list };
  }

  private onInstruments(list: OptionInstrument[]): void {
    const added: string[] = [];
    const next = new Map<string, OptionInstrument>();
    for (const i of list) {
      next.set(i.name, i);
      if (!this.instruments.has(i.name)) added.push(i.name);
    }
    this.instruments = next;
    this.multipliers = new Map(list.map((i) => [i.name, i.multiplier]));
    this.instrumentsLoaded = true;
    this.o.sink.instruments('okx', this.c, list, true);
    // New listings between reconnects: subscribe their OI on the live socket (a reconnect sends all).
    if (this.socket.isOpen && added.length > 0) {
      for (const m of chunkRequests('subscribe', this.optionOiArgs(added))) this.socket.send(m);
    }
  }

  /**
   * The latest option trades of each family this feed charts (those with listed lines; all before the
   * listing arrives) inside [startMs, endMs], oldest first, one paced request per family. Rejects on a
   * failed request or an OKX error answer (the caller retries).
   */
  private fetchTradePage(req: { startMs: number; endMs: number; signal?: AbortSignal }): Promise<TradeHistoryPage> {
    const listed = new Set([...this.instruments.values()].map((i) => i.family));
    const requests = okxFamilies(this.c)
      .filter((f) => listed.size === 0 || listed.has(f))
      .map((family) => ({
        what: `${family} option-trades`,
        url: `${this.restBase}/api/v5/public/option-trades?instFamily=${family}`,
        parse: (body: unknown, dropped: Record<string, number>) => parseOkxTradesBody(body, this.c, dropped, this.tradeContext),
      }));
    return recentTradesPage(requests, { pacer: this.historyPacer, fetchJson: this.fetchJson }, req);
  }

  private async loadSwapSpec(runId: number): Promise<void> {
    const url = `${this.restBase}/api/v5/public/instruments?instType=SWAP&instId=${this.perpId}`;
    try {
      const body = await this.fetchJson(url);
      if (runId !== this.runId) return;
      const spec = parseOkxSwapSpec(body, this.perpId, this.c);
      if (spec) this.coinPerContract = spec.coinPerContract;
      else this.o.sink.status('okx', { kind: 'venueError', code: null, message: `${this.perpId}: no linear contract size; perp depth omitted`, retryInMs: null });
    } catch (e) {
      if (runId !== this.runId) return;
      this.o.sink.status('okx', { kind: 'venueError', code: null, message: `${this.perpId} spec request failed: ${String(e).slice(0, 120)}`, retryInMs: null });
    }
  }

  // ---- frames --------------------------------------------------------------------------------------

  private onText(text: string): FrameClass {
    if (text === 'pong') return 'heartbeat';
    const parsed = parseFrame(text, MAX_FRAME_BYTES_LIVE);
    if (!parsed.ok) {
      this.o.sink.status('okx', { kind: 'dropped', reason: parsed.reason });
      return 'other';
    }
    return this.apply(parseOkxMessage(parsed.value, { multipliers: this.multipliers }));
  }

  private apply(m: OkxMessage): FrameClass {
    const sink = this.o.sink;
    switch (m.kind) {
      case 'subscribed':
        sink.status('okx', { kind: 'subscribed', channels: 1 });
        return 'other';
      case 'error':
        // e.g. 60018 "doesn't exist" for an instrument that just expired: shown, not fatal.
        sink.status('okx', { kind: 'venueError', code: m.code, message: m.message, retryInMs: null });
        return 'other';
      case 'notice':
        if (m.code === 64008) {
          sink.status('okx', { kind: 'venueError', code: m.code, message: `service upgrade: reconnecting now (${m.message})`, retryInMs: OKX_RECONNECT_FLOOR_MS });
          this.socket.restart('okx 64008 service upgrade', OKX_RECONNECT_FLOOR_MS);
        }
        return 'other';
      case 'ignored':
        return 'other';
      case 'dropped':
        sink.status('okx', { kind: 'dropped', reason: m.reason });
        return 'other';
      case 'options':
        return this.applyOptions(m);
      case 'index':
        if (m.instId === `${this.c}-USD`) return sink.index('okx', this.c, m.price, m.timestampMs) === false ? 'other' : 'data';
        if (m.instId === `${this.c}-USDT`) return this.updatePerp({ index: m.price }, m.timestampMs);
        return this.drop('unknownInstrument');
      case 'perpMark':
        if (m.instId !== this.perpId) return this.drop('unknownInstrument');
        return this.updatePerp({ mark: m.markPrice }, m.timestampMs);
      case 'perpFunding':
        if (m.instId !== this.perpId) return this.drop('unknownInstrument');
        return this.updatePerp({ funding8h: m.funding8h }, m.timestampMs);
      case 'perpOi':
        if (m.instId !== this.perpId) return this.drop('unknownInstrument');
        return this.updatePerp({ oiCoin: m.oiCoin }, m.timestampMs);
      case 'book':
        return this.applyBook(m);
      case 'trades':
        return this.applyTrades(m);
    }
  }

  private applyTrades(m: Extract<OkxMessage, { kind: 'trades' }>): FrameClass {
    if (m.currency !== this.c) return this.drop('unknownInstrument');
    const dropped: Record<string, number> = {};
    const trades = parseOkxTrades(m.rows, this.c, dropped, this.tradeContext);
    for (const [reason, count] of Object.entries(dropped)) this.o.sink.status('okx', { kind: 'dropped', reason, count });
    // A trade the host refused (stamped ahead of venue time) is not data.
    return trades.length > 0 && this.o.sink.trades('okx', this.c, trades) !== false ? 'data' : 'other';
  }

  private drop(reason: 'unknownInstrument' | 'bookGap' | 'duplicate'): FrameClass {
    this.o.sink.status('okx', { kind: 'dropped', reason });
    return 'other';
  }

  private applyOptions(m: Extract<OkxMessage, { kind: 'options' }>): FrameClass {
    const sink = this.o.sink;
    if (m.currency !== this.c) return this.drop('unknownInstrument');
    for (const reason of m.drops) sink.status('okx', { kind: 'dropped', reason });
    for (const { name, coinPerContract } of m.multiplierMismatch) {
      const family = parseOkxOptionName(name)?.family;
      const multiplier = this.multipliers.get(name);
      // The family's trades follow its OI lines: sz venue contracts = sz x coinPerContract / multiplier of them.
      if (family !== undefined && multiplier !== undefined && coinPerContract !== null) this.oiUnitsPerContract.set(family, coinPerContract / multiplier);
      if (this.mismatchReported.has(name)) continue;
      this.mismatchReported.add(name);
      sink.status('okx', { kind: 'venueError', code: null, message: `${name}: oiCcy/oi disagrees with ctVal x ctMult; OI taken from oiCcy`, retryInMs: null });
    }
    // Lines are only meaningful for listed instruments; before the list arrives, forwards still count.
    const known: OptionLineUpdate[] = [];
    let unknown = 0;
    for (const u of m.updates) {
      if (this.instruments.has(u.name)) known.push(u);
      else unknown++;
    }
    if (unknown > 0 && this.instrumentsLoaded) {
      for (let i = 0; i < unknown; i++) sink.status('okx', { kind: 'dropped', reason: 'unknownInstrument' });
      const now = this.o.clock.now();
      if (now - this.lastUnknownRefresh >= OKX_UNKNOWN_REFRESH_MIN_MS) {
        this.lastUnknownRefresh = now;
        this.refresher.refreshNow();
      }
    }
    // A refused stamp (venue-time guard) is not data.
    const tookLines = known.length > 0 && sink.options('okx', known) !== false;
    const tookForwards = m.forwards.length > 0 && sink.forwards('okx', this.c, m.forwards) !== false;
    return tookLines || tookForwards ? 'data' : 'other';
  }

  // ---- perpetual -----------------------------------------------------------------------------------

  private resetBook(): void {
    this.books.reset();
    this.bookGen++;
    const t = this.snapshot.timer;
    if (t !== null) this.o.clock.clearTimeout(t);
    this.snapshot.timer = null;
    this.snapshot.inFlight = false;
    this.snapshot.readySince = null;
  }

  private applyBook(m: Extract<OkxMessage, { kind: 'book' }>): FrameClass {
    if (m.instId !== this.perpId) return this.drop('unknownInstrument');
    const verdict = this.books.onPush(m);
    if (verdict === 'waiting' && !this.books.isReady) this.requestSnapshot();
    return this.afterBook(verdict, m.timestampMs);
  }

  private afterBook(verdict: BookVerdict, ts: number): FrameClass {
    switch (verdict) {
      case 'applied':
        if (this.snapshot.readySince === null) this.snapshot.readySince = this.o.clock.now();
        return this.updatePerp({}, ts);
      case 'waiting':
        return 'other';
      case 'duplicate':
        return this.drop('duplicate');
      case 'broken':
      case 'unjoined': {
        // A book that held for a while resets the snapshot spacing; one that keeps breaking keeps it growing.
        const sn = this.snapshot;
        if (sn.readySince !== null && this.o.clock.now() - sn.readySince >= OKX_BOOK_STABLE_MS) sn.streak = 0;
        sn.readySince = null;
        // The depth shown so far goes with the book: the quote carries none until a snapshot joins.
        this.drop('bookGap');
        this.updatePerp({}, ts);
        this.requestSnapshot();
        return 'other';
      }
    }
  }

  /** Fetches a book snapshot soon, at most at the bounded rate (see OKX_BOOK_SNAPSHOT_MIN_SPACING_MS). */
  private requestSnapshot(): void {
    const sn = this.snapshot;
    if (!this.running || sn.inFlight || sn.timer !== null || this.books.isReady) return;
    const now = this.o.clock.now();
    const spacing = Math.min(OKX_BOOK_SNAPSHOT_MAX_SPACING_MS, OKX_BOOK_SNAPSHOT_MIN_SPACING_MS * 2 ** Math.min(sn.streak, 16));
    const gen = this.bookGen;
    sn.timer = this.o.clock.setTimeout(() => {
      sn.timer = null;
      if (gen === this.bookGen) void this.fetchSnapshot(gen);
    }, Math.max(0, sn.lastAt + spacing - now));
  }

  private async fetchSnapshot(gen: number): Promise<void> {
    const sn = this.snapshot;
    sn.lastAt = this.o.clock.now();
    sn.streak++;
    sn.inFlight = true;
    let body: unknown;
    try {
      body = await this.fetchJson(`${this.restBase}/api/v5/market/books?instId=${this.perpId}&sz=${OKX_BOOK_SNAPSHOT_LEVELS}`);
    } catch (e) {
      if (gen !== this.bookGen) return;
      sn.inFlight = false;
      this.o.sink.status('okx', { kind: 'venueError', code: null, message: `${this.perpId} book snapshot request failed: ${String(e).slice(0, 120)}`, retryInMs: null });
      this.requestSnapshot();
      return;
    }
    if (gen !== this.bookGen) return;
    sn.inFlight = false;
    const r = parseOkxBookSnapshot(body);
    if ('error' in r) {
      this.o.sink.status('okx', { kind: 'venueError', code: null, message: `${this.perpId} book snapshot: ${r.error}`, retryInMs: null });
      this.requestSnapshot();
      return;
    }
    this.afterBook(this.books.onSnapshot(r.snapshot), r.snapshot.timestampMs);
  }

  /** Merges one perp field and sends the quote; 'other' when the sink refused its stamp. */
  private updatePerp(patch: Partial<Pick<OkxFeed['perp'], 'mark' | 'index' | 'funding8h' | 'oiCoin'>>, ts: number): FrameClass {
    Object.assign(this.perp, patch);
    const p = this.perp;
    if (p.mark === null || p.index === null) return 'data';
    const stamp = Math.max(p.ts, ts);
    const bids = this.books.isReady ? this.books.book.bids() : [];
    const asks = this.books.isReady ? this.books.book.asks() : [];
    const { depth } = this.coinPerContract !== null ? depthWithinBands(bids, asks, this.coinPerContract) : { depth: [] };
    const quote: PerpQuote = {
      venue: 'okx',
      instrument: this.perpId,
      timestampMs: stamp,
      markPrice: p.mark,
      indexPrice: p.index,
      funding8h: p.funding8h,
      openInterestCoin: p.oiCoin,
      bestBid: bids.length > 0 ? bids[0].price : null,
      bestAsk: asks.length > 0 ? asks[0].price : null,
      depth,
    };
    // Only a quote the sink took moves the stamp: a refused one (stamped far ahead) must not make
    // every later quote carry its stamp.
    if (this.o.sink.perp(quote, this.c) === false) return 'other';
    p.ts = stamp;
    return 'data';
  }
}

/** `{"op":...,"args":[...]}` requests, each under OKX's 64 KB args cap. */
export function chunkRequests(op: 'subscribe' | 'unsubscribe', args: readonly Arg[]): string[] {
  const out: string[] = [];
  let batch: string[] = [];
  let size = 0;
  for (const a of args) {
    const s = JSON.stringify(a);
    if (batch.length > 0 && size + s.length + 1 > OKX_MAX_REQUEST_CHARS) {
      out.push(`{"op":"${op}","args":[${batch.join(',')}]}`);
      batch = [];
      size = 0;
    }
    batch.push(s);
    size += s.length + 1;
  }
  if (batch.length > 0) out.push(`{"op":"${op}","args":[${batch.join(',')}]}`);
  return out;
}
