/**
 * A venue's own client (src/feeds/<venue>, the code the page's worker runs) run inside the server on
 * sockets the server taps, as the recorder (replay/record.ts) and the live relay (relay/upstream.ts)
 * both do: the client keeps the connection as it does in a page (hello, heartbeats, paced subscribes,
 * reconnects with backoff, the venue's limits) while the caller sees every frame it sends and receives,
 * before the client acts on it. What the caller does with the frames (write them to a recording, forward
 * them to screens, take its own replies off) stays with the caller.
 */
import WebSocket from 'ws';
import type { Clock, FeedEvent, FeedOptions, FeedSink, SocketLike, VenueAdapter, VenueFeed } from '../../src/feeds/adapter.ts';
import type { FetchJson } from '../../src/feeds/rest-fetch.ts';
import type { Currency } from '../../src/chain/model.ts';

const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** What the caller sees of one tapped socket. */
export interface FrameTap {
  /** A frame the client sends, before it goes. */
  sent(data: string): void;
  /**
   * A frame received, before the client sees it (`text` null: a binary frame, which the client drops as
   * malformed). True takes it: the client never sees it.
   */
  received(text: string | null): boolean;
  opened?(): void;
  closed?(): void;
  error?(e: Error): void;
}

export interface TappedSocket extends SocketLike {
  /** Sends a frame of the caller's own past the tap (the relay's request on the client's connection). */
  sendUntapped(data: string): void;
}

/** A `ws` socket to `url` as the client's SocketLike, every frame through `tap` first. */
export function tappedSocket(url: string, tap: FrameTap): TappedSocket {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, handshakeTimeout: 10_000 });
  const sock: TappedSocket = {
    get readyState() {
      return ws.readyState;
    },
    send: (data: string) => {
      tap.sent(data);
      ws.send(data);
    },
    sendUntapped: (data: string) => ws.send(data),
    close: (code?: number, reason?: string) => ws.close(code, reason),
    onopen: null,
    onclose: null,
    onerror: null,
    onmessage: null,
  };
  ws.on('open', () => {
    sock.onopen?.({});
    tap.opened?.();
  });
  ws.on('close', (code, reason) => {
    tap.closed?.();
    sock.onclose?.({ code, reason: reason.toString() });
  });
  // always a listener: `ws` emits 'error' when a connecting socket is closed, and an unheard one would crash the process
  ws.on('error', (e) => {
    tap.error?.(e);
    sock.onerror?.(e);
  });
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (tap.received(text)) return;
    sock.onmessage?.({ data: text ?? data });
  });
  return sock;
}

export interface TappedClientOptions {
  currency: Currency;
  /** The venue's websocket URL (live, or a local server's path). */
  url: string;
  /** The client's sockets (a new one on every reconnect; Bybit and Binance run two), tapped by the caller. */
  socketFactory: (url: string) => SocketLike;
  /** The client's REST reads (instrument discovery). */
  fetchJson: FetchJson;
  /** The client's connection events: all the caller hears of it besides the frames. */
  status(e: FeedEvent): void;
  /** Deribit's heartbeat interval, seconds (the client's default otherwise). */
  heartbeatS?: number;
  /** Other options for the client (tests: shorter refresh periods). */
  feedOptions?: Record<string, unknown>;
}

/**
 * Starts the venue's client for one currency. Its parsed data goes nowhere (the caller has the frames);
 * the sink keeps only the venue time (the newest stamp seen), which the client prunes expiries by, as
 * the page's host gives it: a session of a past market subscribes its own listings.
 */
export function startTappedClient(adapter: VenueAdapter, o: TappedClientOptions): VenueFeed {
  let venueMs: number | null = null;
  const seen = (ts: number) => {
    if (Number.isFinite(ts) && (venueMs === null || ts > venueMs)) venueMs = ts;
  };
  const sink: FeedSink = {
    instruments: () => undefined,
    options: (_v, u) => {
      for (const x of u) seen(x.timestampMs);
    },
    forwards: (_v, _c, u) => {
      for (const x of u) seen(x.timestampMs);
    },
    index: (_v, _c, _p, ts) => seen(ts),
    perp: () => undefined,
    trades: () => undefined,
    status: (_v, e) => o.status(e),
  };
  const options: FeedOptions & Record<string, unknown> = {
    ...o.feedOptions,
    url: o.url,
    currency: o.currency,
    clock: wallClock,
    socketFactory: o.socketFactory,
    sink,
    fetchJson: o.fetchJson,
    venueNow: () => venueMs,
    ...(o.heartbeatS !== undefined ? { heartbeatSec: o.heartbeatS } : {}),
  };
  const feed = adapter.createFeed(options);
  feed.start();
  return feed;
}
