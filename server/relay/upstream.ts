/**
 * One venue's upstream for the relay: the venue's own client (src/feeds/<venue>, the code the page's
 * worker runs) for each currency the relay's screens need, on sockets the relay taps. The client keeps
 * the connection as it does in a page (hello, heartbeats, pings, paced subscribes, reconnect with
 * backoff, Deribit's 10028, OKX's hourly budget) and subscribes what the app subscribes; the relay
 * sees every frame it receives, before the client parses it, and forwards the pushed ones to its
 * screens. A currency no screen holds is stopped a grace period after the last one left.
 *
 * Requests: the client's own REST reads go through the relay's answer cache (`fetchJson`), so a screen
 * asking the same within the cache's time costs nothing upstream; Deribit's public methods asked by a
 * screen and missing from the cache are sent on the client's socket under an id of the relay's own
 * (`relay-N`), and the reply is taken off before the client sees it. The client's own Deribit replies
 * are seen on the way and cached too.
 */
import WebSocket from 'ws';
import type { FeedEvent } from '../../src/feeds/adapter.ts';
import type { FetchJson } from '../../src/feeds/rest-fetch.ts';
import { venueAdapters } from '../../src/feeds/registry.ts';
import type { Currency } from '../../src/chain/model.ts';
import type { VenueId } from '../../src/shared/venues.ts';
import { localPath } from '../replay/recording.ts';
import { startTappedClient, tappedSocket, type TappedSocket } from '../venues/tapped-client.ts';

export const CURRENCIES: readonly Currency[] = ['BTC', 'ETH'];

/** The currency a channel name, arg or request names (every venue spells the coin in its names), or null. */
export function currencyOf(text: string): Currency | null {
  const m = /btc|eth/i.exec(text);
  return m ? (m[0].toUpperCase() as Currency) : null;
}

/** A Deribit reply as the relay keeps it: the result already as JSON text (encoded once), or the error. */
export type RpcAnswer = { resultRaw: string } | { error: { code: number; message: string; data?: unknown } };

/** An upstream currency's connection as screens are told it. */
export interface UpstreamState {
  state: 'connecting' | 'open' | 'reconnecting' | 'error' | 'stopped';
  /** Wall ms of the newest data frame, null before the first. */
  lastDataAt: number | null;
  /** Why the last connection ended or the venue refused, if it did. */
  reason: string | null;
  since: number;
}

export interface UpstreamOptions {
  venue: VenueId;
  /** The venue's websocket URL (live, or a local server's path under `--upstream-base`). */
  url: string;
  /** How long a currency stays subscribed after its last screen left, ms. */
  graceMs: number;
  /** The clients' REST reads (the relay's answer cache in front of the upstream). */
  fetchJson: FetchJson;
  /** Deribit's heartbeat interval, seconds (the client's default otherwise). */
  heartbeatS?: number;
  /** Other options for the clients (tests: shorter refresh periods). */
  feedOptions?: Record<string, unknown>;
  /** A pushed or replied frame as received upstream: its text (as it goes to screens) and its parse. */
  onFrame(currency: Currency, path: string, text: string, frame: Record<string, unknown>): void;
  /** A reply the client itself got to one of its Deribit requests. */
  onClientAnswer?(method: string, params: unknown, answer: RpcAnswer): void;
  /** A currency's client stopped: what the relay kept of it is old now. */
  onStop?(currency: Currency): void;
  log?(line: string): void;
}

/** Where a relay's frames come from: the venue (VenueUpstream) or, on an edge, NATS (./nats-edge.ts). */
export interface Upstream {
  readonly counts: { connects: number; sent: number; received: number };
  start(c: Currency, held?: boolean): void;
  hold(held: ReadonlySet<Currency>, now?: number): void;
  stop(): void;
  rpc(c: Currency, method: string, params: unknown): Promise<RpcAnswer>;
  health(): Partial<Record<Currency, UpstreamState>>;
  openSockets(): number;
}

/**
 * The grace rule of every upstream: a running currency no screen holds is marked, and stopped once
 * `graceMs` has passed since the mark (a screen reloading within it finds it warm).
 */
export function releaseUnheld(running: ReadonlyMap<Currency, { unheldSince: number | null }>, held: ReadonlySet<Currency>, now: number, graceMs: number, stop: (c: Currency) => void): void {
  for (const [c, r] of [...running]) {
    if (held.has(c)) r.unheldSince = null;
    else if (r.unheldSince === null) r.unheldSince = now;
    else if (now - r.unheldSince >= graceMs) stop(c);
  }
}

const RPC_TIMEOUT_MS = 10_000;

interface Running {
  feed: { stop(): void };
  state: UpstreamState;
  /** The client's sockets (Bybit and Binance run two; a new one on every reconnect), until closed. */
  sockets: Set<TappedSocket>;
  /** The client's own requests awaiting a reply: id -> method and params. */
  asked: Map<unknown, { method: string; params: unknown }>;
  openWaiters: (() => void)[];
  /** Wall ms since which no screen holds this currency, or null while one does. */
  unheldSince: number | null;
}

export class VenueUpstream implements Upstream {
  private readonly running = new Map<Currency, Running>();
  private readonly pending = new Map<string, { resolve: (a: RpcAnswer) => void; timer: ReturnType<typeof setTimeout> }>();
  private nextRpc = 1;
  /** Sockets opened upstream, in all; requests sent upstream (subscribes, methods, pings: every frame). */
  readonly counts = { connects: 0, sent: 0, received: 0 };

  constructor(private readonly o: UpstreamOptions) {}

  /** Currencies whose client runs. */
  currencies(): Currency[] {
    return [...this.running.keys()];
  }

  /** Sockets open upstream now. */
  openSockets(): number {
    let n = 0;
    for (const r of this.running.values()) for (const s of r.sockets) if (s.readyState === WebSocket.OPEN) n++;
    return n;
  }

  health(): Partial<Record<Currency, UpstreamState>> {
    return Object.fromEntries([...this.running].map(([c, r]) => [c, { ...r.state }]));
  }

  /**
   * The currencies screens hold now: a client starts for each one not running; a running one no screen
   * holds stops `graceMs` after the last one left (a screen reloading within it finds it warm).
   */
  hold(held: ReadonlySet<Currency>, now = Date.now()): void {
    for (const c of held) this.start(c, true);
    releaseUnheld(this.running, held, now, this.o.graceMs, (c) => this.stopCurrency(c));
  }

  /**
   * Starts the currency's client (if it is not running). `held`: a screen subscribed to it (held until
   * `hold` finds no screen); otherwise (a request) it is kept for a grace period from now at least.
   */
  start(c: Currency, held = false): void {
    const have = this.running.get(c);
    if (have) {
      if (held) have.unheldSince = null;
      else if (have.unheldSince !== null) have.unheldSince = Date.now();
      return;
    }
    const adapter = venueAdapters[this.o.venue];
    if (!adapter) return;
    const r: Running = {
      feed: { stop: () => undefined },
      state: { state: 'connecting', lastDataAt: null, reason: null, since: Date.now() },
      sockets: new Set(),
      asked: new Map(),
      openWaiters: [],
      unheldSince: held ? null : Date.now(),
    };
    this.running.set(c, r);
    r.feed = startTappedClient(adapter, {
      currency: c,
      url: this.o.url,
      socketFactory: (url) => this.tap(c, r, url),
      fetchJson: this.o.fetchJson,
      status: (e) => this.status(r, e),
      heartbeatS: this.o.heartbeatS,
      feedOptions: this.o.feedOptions,
    });
    this.o.log?.(`relay: ${this.o.venue} ${c} upstream from ${this.o.url}`);
  }

  private stopCurrency(c: Currency): void {
    const r = this.running.get(c);
    if (!r) return;
    this.running.delete(c);
    r.feed.stop();
    this.o.onStop?.(c);
    this.o.log?.(`relay: ${this.o.venue} ${c} upstream stopped (no screen for ${this.o.graceMs} ms)`);
  }

  stop(): void {
    for (const c of [...this.running.keys()]) this.stopCurrency(c);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ error: { code: -32603, message: 'relay stopping' } });
      this.pending.delete(id);
    }
  }

  /**
   * A Deribit public method sent upstream on the currency's connection (started if need be), answered
   * with its reply; an error when no connection opens or no reply comes within 10 s.
   */
  async rpc(c: Currency, method: string, params: unknown): Promise<RpcAnswer> {
    this.start(c);
    const r = this.running.get(c)!;
    // Deribit runs one socket a currency
    const open = () => [...r.sockets].find((s) => s.readyState === WebSocket.OPEN);
    const isOpen = () => open() !== undefined;
    if (!isOpen()) {
      const opened = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), RPC_TIMEOUT_MS);
        r.openWaiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!opened || !isOpen()) return { error: { code: -32603, message: 'venue not reachable from the relay' } };
    }
    const id = `relay-${this.nextRpc++}`;
    const socket = open()!;
    return new Promise<RpcAnswer>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ error: { code: -32603, message: 'no answer from the venue in time' } });
      }, RPC_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      this.counts.sent++;
      socket.sendUntapped(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** The client's FeedEvents as the currency's upstream state. */
  private status(r: Running, e: FeedEvent): void {
    const set = (state: UpstreamState['state'], reason: string | null) => {
      if (r.state.state !== state) r.state = { ...r.state, state, since: Date.now() };
      r.state.reason = reason;
    };
    if (e.kind === 'data') r.state.lastDataAt = Date.now();
    else if (e.kind === 'connecting') set(r.state.state === 'open' || r.state.state === 'error' ? 'reconnecting' : r.state.state, r.state.reason);
    else if (e.kind === 'open') set('open', null);
    else if (e.kind === 'closed') set('reconnecting', e.reason || `closed ${e.code}`);
    else if (e.kind === 'venueError') {
      set('error', e.message);
      this.o.log?.(`relay: ${this.o.venue}: venue error ${e.code ?? ''} ${e.message}`);
    }
  }

  /** A socket of the client's, every frame seen by the relay first. */
  private tap(c: Currency, r: Running, url: string): TappedSocket {
    const path = localPath(this.o.venue, url);
    const sock = tappedSocket(url, {
      sent: (data) => {
        this.counts.sent++;
        this.noteAsked(r, data);
      },
      received: (text) => {
        this.counts.received++;
        return text !== null && this.inbound(c, r, path, text);
      },
      opened: () => {
        for (const w of r.openWaiters.splice(0)) w();
      },
      closed: () => r.sockets.delete(sock),
    });
    this.counts.connects++;
    r.sockets.add(sock);
    return sock;
  }

  /** An inbound frame: a reply to the relay's own request is taken (true); anything else goes on to the client. */
  private inbound(c: Currency, r: Running, path: string, text: string): boolean {
    if (text.charCodeAt(0) !== 123 /* { */) return false; // OKX's text pong
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return false; // the client counts it
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return false;
    const f = frame as Record<string, unknown>;
    const id = f.id;
    if (typeof id === 'string' && id.startsWith('relay-')) {
      const p = this.pending.get(id);
      if (p) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.resolve(answerOf(f));
      }
      return true;
    }
    if (id !== undefined && r.asked.has(id)) {
      const q = r.asked.get(id)!;
      r.asked.delete(id);
      this.o.onClientAnswer?.(q.method, q.params, answerOf(f));
    }
    this.o.onFrame(c, path, text, f);
    return false;
  }

  /** Remembers the client's own JSON-RPC requests (Deribit), so their replies can be cached. */
  private noteAsked(r: Running, data: string): void {
    if (this.o.onClientAnswer === undefined || data.charCodeAt(0) !== 123) return;
    try {
      const m = JSON.parse(data) as { id?: unknown; method?: unknown; params?: unknown };
      if (m.id !== undefined && typeof m.method === 'string') {
        if (r.asked.size > 1_000) r.asked.clear(); // replies that never came
        r.asked.set(m.id, { method: m.method, params: m.params ?? {} });
      }
    } catch {
      // not a request
    }
  }
}

function answerOf(f: Record<string, unknown>): RpcAnswer {
  if ('result' in f) return { resultRaw: JSON.stringify(f.result) };
  const e = f.error as { code?: unknown; message?: unknown; data?: unknown } | undefined;
  return { error: { code: typeof e?.code === 'number' ? e.code : -32603, message: typeof e?.message === 'string' ? e.message : 'error', ...(e?.data !== undefined ? { data: e.data } : {}) } };
}
