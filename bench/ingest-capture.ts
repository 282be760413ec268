/**
 * What the ingest benchmark replays: every frame each venue's real client received from the local
 * simulator at the venues' real rates (Deribit tickers and books every 100 ms, OKX opt-summary and OI,
 * Bybit option tickers every 100 ms per symbol, Binance mark price and depth), captured through tapped
 * sockets with their arrival times, plus the REST answers and Deribit's RPC results the clients got.
 *
 * The bench plays it back through the EngineHost on scripted sockets (`ScriptedSocket`): the k-th socket
 * a venue's client opens gets what the k-th one got here, Deribit's requests are answered from the
 * recorded results, and REST from the recorded answers. Nothing else is simulated.
 */
import WebSocket from 'ws';
import type { Clock, FeedSink, SocketLike } from '../src/feeds/adapter.ts';
import { defaultFetchJson, type FetchJson } from '../src/feeds/rest-fetch.ts';
import { availableAdapters } from '../src/feeds/registry.ts';
import type { Currency, VenueId } from '../src/chain/model.ts';
import { EngineHost } from '../src/worker/host.ts';
import { SELECTION_DEFAULTS, type FromWorker } from '../src/worker/protocol.ts';

export interface CapturedFrame {
  /** Arrival, ms after the capture started. */
  t: number;
  venue: VenueId;
  /** Which of the venue's sockets (in the order its client opened them). */
  socket: number;
  text: string;
}

export interface Capture {
  currency: Currency;
  spanMs: number;
  frames: CapturedFrame[];
  /** REST answers by `venue path?query` (path below `/<venue>/rest`), the first of each. */
  rest: Record<string, unknown>;
  /** Deribit's RPC answers by method, the first of each: the result and the envelope's venue time. */
  deribit: Record<string, { result: unknown; usOut?: number }>;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

const quietSink: FeedSink = {
  instruments: () => undefined,
  options: () => undefined,
  forwards: () => undefined,
  index: () => undefined,
  perp: () => undefined,
  trades: () => undefined,
  status: () => undefined,
};

/** `venue path?query` of a REST URL below the venue's `/<venue>/rest` prefix. */
export function restKey(venue: VenueId, url: string): string {
  const u = new URL(url, 'http://local');
  const at = u.pathname.indexOf(`/${venue}/rest`);
  return `${venue} ${at >= 0 ? u.pathname.slice(at + venue.length + 6) : u.pathname}${u.search}`;
}

/** Runs every venue's client for `currency` against the server at `wsBase` for `ms`, capturing what they get. */
export async function capture(wsBase: string, currency: Currency, ms: number): Promise<Capture> {
  const t0 = performance.now();
  const frames: CapturedFrame[] = [];
  const rest: Record<string, unknown> = {};
  const deribit: Capture['deribit'] = {};
  const opened = new Map<VenueId, number>();
  const feeds = availableAdapters().map((adapter) => {
    const venue = adapter.id;
    const pending = new Map<number, string>();
    const socketFactory = (url: string): SocketLike => {
      const socket = opened.get(venue) ?? 0;
      opened.set(venue, socket + 1);
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      // registered before the client's handler: the frame is captured as it arrives
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const text = data.toString();
        if (venue !== 'deribit') {
          frames.push({ t: performance.now() - t0, venue, socket, text });
          return;
        }
        if (text.includes('"method":"subscription"')) {
          frames.push({ t: performance.now() - t0, venue, socket, text });
          return;
        }
        const m = JSON.parse(text) as { id?: number; result?: unknown; usOut?: number };
        const method = m.id === undefined ? undefined : pending.get(m.id);
        if (method && 'result' in m && !(method in deribit)) deribit[method] = { result: m.result, usOut: m.usOut };
      });
      if (venue === 'deribit') {
        const send = ws.send.bind(ws);
        ws.send = ((data: string, ...more: unknown[]) => {
          const m = JSON.parse(data) as { id?: number; method?: string };
          if (m.id !== undefined && m.method) pending.set(m.id, m.method);
          (send as (...a: unknown[]) => void)(data, ...more);
        }) as typeof ws.send;
      }
      return ws as unknown as SocketLike;
    };
    const fetchJson: FetchJson = async (url) => {
      const body = await defaultFetchJson(url);
      const key = restKey(venue, url);
      if (!(key in rest)) rest[key] = body;
      return body;
    };
    const feed = adapter.createFeed({
      url: wsBase + adapter.localPath, currency, clock: realClock, socketFactory, sink: quietSink,
      ...({ fetchJson } as object),
    });
    feed.start();
    return feed;
  });
  await new Promise((r) => setTimeout(r, ms));
  for (const f of feeds) f.stop();
  return { currency, spanMs: ms, frames, rest, deribit };
}

/**
 * A venue socket played from a capture: opens when asked, answers Deribit's JSON-RPC requests from the
 * recorded results (subscribe: the channels asked for), ignores other venues' requests (their acks are
 * in the capture), and takes captured frames through `deliver`.
 */
export class ScriptedSocket implements SocketLike {
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  onmessage: SocketLike['onmessage'] = null;

  constructor(
    readonly venue: VenueId,
    readonly index: number,
    private readonly deribit: Capture['deribit'],
  ) {}

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  send(data: string): void {
    if (this.venue !== 'deribit') return;
    const m = JSON.parse(data) as { id: number; method: string; params?: { channels?: string[] } };
    const known = Object.hasOwn(this.deribit, m.method) ? this.deribit[m.method] : undefined;
    const result = m.method === 'public/subscribe' ? (m.params?.channels ?? []) : known ? known.result : 'ok';
    const usOut = known?.usOut;
    const reply = JSON.stringify({ jsonrpc: '2.0', id: m.id, result, ...(usOut ? { usIn: usOut, usOut, usDiff: 0 } : {}), testnet: false });
    setTimeout(() => this.deliver(reply), 0);
  }

  deliver(text: string): void {
    if (this.readyState === 1) this.onmessage?.({ data: text });
  }

  close(): void {
    this.readyState = 3;
  }
}

/** The venue of a local URL (`ws://host/okx/...`, `http://host/bybit/rest/...`). */
function venueOf(url: string): VenueId {
  const m = /\/(deribit|okx|bybit|binance)\//.exec(url);
  if (!m) throw new Error(`no venue in ${url}`);
  return m[1] as VenueId;
}

export interface PlayedHost {
  host: EngineHost;
  /** Hands one captured frame to the socket it arrived on; false while that socket is not open yet. */
  deliver(f: CapturedFrame): boolean;
}

/**
 * An EngineHost showing `venues` for the capture's currency, its feeds on scripted sockets (opened at
 * once) and REST answered from the capture.
 */
export function playedHost(cap: Capture, venues: VenueId[], clock: Clock, post: (msg: FromWorker) => void): PlayedHost {
  const sockets = new Map<string, ScriptedSocket>();
  const opened = new Map<VenueId, number>();
  const socketFactory = (url: string): SocketLike => {
    const venue = venueOf(url);
    const k = opened.get(venue) ?? 0;
    opened.set(venue, k + 1);
    const s = new ScriptedSocket(venue, k, cap.deribit);
    sockets.set(`${venue}#${k}`, s);
    setTimeout(() => s.open(), 0);
    return s;
  };
  const fetchJson: FetchJson = async (url) => {
    const key = restKey(venueOf(url), url);
    if (!Object.hasOwn(cap.rest, key)) throw new Error(`not captured: ${key}`);
    return cap.rest[key];
  };
  const host = new EngineHost({ clock, socketFactory, localBase: 'ws://127.0.0.1:1', feedOptions: { fetchJson }, post });
  host.handle({ type: 'select', selection: { source: 'sim', venues, currency: cap.currency, expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS } });
  return {
    host,
    deliver(f) {
      const s = sockets.get(`${f.venue}#${f.socket}`);
      if (!s || s.readyState !== 1) return false;
      s.deliver(f.text);
      return true;
    },
  };
}
