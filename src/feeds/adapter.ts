/**
 * What every venue folder provides. The worker's host talks only to this interface; adding a venue is
 * one folder implementing it plus one line in registry.ts.
 */
import type { Currency, ForwardUpdate, OptionInstrument, OptionLineUpdate, PerpQuote, TapeTrade, VenueId } from '../chain/model.ts';

/** A minimal WebSocket shape, satisfied by the browser's WebSocket and by `ws` in Node. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export type { Clock } from '../shared/clock.ts';
import type { Clock } from '../shared/clock.ts';

/**
 * Everything a feed tells the host. Called synchronously from the socket handler.
 * The stamped calls (options, forwards, index, perp) may return `false`: the sink refused the frame
 * because its venue timestamp failed the venue-time guard (src/feeds/venue-time.ts) and counted the
 * drop. The client must then not let that frame advance its own per-channel newest timestamp (or one
 * corrupt stamp would block the channel). `void`/`true`: taken.
 */
export interface FeedSink {
  instruments(venue: VenueId, currency: Currency, list: OptionInstrument[], complete: boolean): void;
  options(venue: VenueId, updates: OptionLineUpdate[]): boolean | void;
  forwards(venue: VenueId, currency: Currency, updates: ForwardUpdate[]): boolean | void;
  index(venue: VenueId, currency: Currency, price: number, timestampMs: number): boolean | void;
  perp(quote: PerpQuote, currency: Currency): boolean | void;
  /**
   * Public option trades of `currency` from the venue's live trade channel, parsed (src/feeds/<venue>/trades.ts).
   * The host checks each trade's time against venue time (a trade ahead of the venue clock is dropped
   * and counted as the ticker frames are) and adds the rest to the tape. May return false like the stamped calls.
   */
  trades(venue: VenueId, currency: Currency, trades: TapeTrade[]): boolean | void;
  /** Transport/venue state change or error; the host turns these into FeedHealth. */
  status(venue: VenueId, event: FeedEvent): void;
}

export type FeedEvent =
  | { kind: 'connecting' }
  | { kind: 'open' } // a new connection: venue time re-anchors on it
  /** The venue's clock read on the current connection (Deribit `usOut` of the hello reply), ms. */
  | { kind: 'serverTime'; timestampMs: number }
  | { kind: 'subscribed'; channels: number }
  | { kind: 'data' } // a valid data frame arrived (heartbeats do not count)
  /** `count` frames or rows dropped for `reason` (1 when absent): a parser's per-row counts arrive as one event. */
  | { kind: 'dropped'; reason: string; count?: number }
  | { kind: 'closed'; code: number; reason: string; retryInMs: number }
  | { kind: 'venueError'; code: number | null; message: string; retryInMs: number | null }
  /**
   * Something the figures rest on that the venue did not say (e.g. Binance contract units assumed 1):
   * kept on screen beside the venue until the feed withdraws it (`message` null). One per `key`.
   */
  | { kind: 'assumption'; key: string; message: string | null };

export interface FeedOptions {
  url: string;
  currency: Currency;
  clock: Clock;
  socketFactory: SocketFactory;
  sink: FeedSink;
  /**
   * Origin of the local server that served the app (e.g. http://127.0.0.1:8787), when there is one.
   * Venues that need REST for instrument discovery use its pass-through: `/<venue>/rest` for sim and
   * replay, `/live/<venue>/rest` (relayed to the real venue) in live mode, because the venues' CORS
   * behaviour is unverified and the page's CSP allows connections to its own origin.
   */
  restRelayOrigin?: string;
  /**
   * Venue time of this feed: the newest venue timestamp the host has accepted from its frames (one
   * guard for every venue, src/feeds/venue-time.ts), null before the first. Clients stop listing and
   * subscribing instruments that expired by it (never by the wall clock, so a replay of 2021 works).
   * Absent (a client without a host): nothing is dropped by time; the host removes expired lines anyway.
   */
  venueNow?: () => number | null;
}

export interface VenueFeed {
  start(): void;
  stop(): void;
  /** Venues with a per-connection request budget: requests the current connection spent in the last hour. */
  requestStats?(): { subscribesLastHour: number; subscribeBudgetPerHour: number };
  /** The venue's public trade history as this feed can reach it; absent when it has none. */
  tradeHistory?: TradeHistory;
}

export interface TradeHistoryPage {
  /** Oldest first. */
  trades: TapeTrade[];
  /** The venue said there is more in [startMs, endMs] after the last trade (Deribit `has_more`). */
  hasMore: boolean;
  /** Rows dropped by reason while parsing the page. */
  dropped: Record<string, number>;
}

export interface TradeHistory {
  /**
   * 'window': any [start, end] the venue keeps (Deribit); 'recent': only the venue's latest trades,
   * whatever start is asked (OKX/Bybit/Binance); `note` says how far that reaches, in words the page shows.
   */
  reach: 'window' | 'recent';
  note: string;
  /**
   * One page of trades with time in [startMs, endMs], paced inside the venue's limits (the feed owns the
   * pacing and the credits). Rejects on failure (the caller retries with backoff and shows it).
   * For 'recent' venues, may take several requests (one per instrument for Binance) and returns them as one page.
   */
  fetchPage(req: { startMs: number; endMs: number; signal?: AbortSignal }): Promise<TradeHistoryPage>;
}

export interface VenueAdapter {
  id: VenueId;
  label: string;
  /** The venue's public websocket URL for live use. */
  liveUrl: string;
  /** Path under the local server for sim/replay, e.g. /deribit/ws/api/v2. */
  localPath: string;
  /**
   * True when the venue publishes no forward (Binance prices on the index): the host then uses the
   * venue's index as every expiry's forward, as the design prescribes, and says so on screen.
   */
  forwardsFromIndex?: boolean;
  createFeed(options: FeedOptions): VenueFeed;
}
