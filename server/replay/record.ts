/**
 * Records venue sessions to the replay format (recording.ts / README), several venues into one file:
 *
 * - Deribit: connects to the upstream (real Deribit by default), follows the client's channel plan for
 *   the given currencies and writes every frame of both directions.
 * - OKX, Bybit, Binance: runs each venue's real client (src/feeds/<venue>) for each currency against
 *   the venue (live, or a local gexdesk server with `upstreamBase`) through a tapped socket and REST
 *   fetch, so the recording holds exactly what the client asks for: its subscriptions, every frame it
 *   receives, and the REST answers of its instrument discovery (`dir:"rest"` lines, replayed as the
 *   pass-through's answers).
 *
 * Lines carry `venue`, the local `path` (the URL's path under `/<venue>`) and a connection number.
 * Frames that are not JSON objects (OKX's text ping/pong, binary) cannot be written: counted, skipped.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import WebSocket from 'ws';
import type { Clock, FeedOptions, FeedSink, SocketLike, VenueAdapter } from '../../src/feeds/adapter.ts';
import { defaultFetchJson, type FetchJson } from '../../src/feeds/rest-fetch.ts';
import { okxAdapter } from '../../src/feeds/okx/index.ts';
import { bybitAdapter } from '../../src/feeds/bybit/index.ts';
import { binanceAdapter } from '../../src/feeds/binance/index.ts';
import { localPath, localRestPath } from './recording.ts';
import { DERIBIT_WS_PATH } from '../venues/deribit/protocol.ts';
import type { VenueId } from '../../src/shared/venues.ts';

export interface RecordOptions {
  /** Deribit's websocket (default live; with `upstreamBase`, that server's Deribit path). */
  upstream?: string;
  /** Record every venue from a local gexdesk server at this ws:// base (its venue paths) instead of live. */
  upstreamBase?: string;
  /** Venues to record (default Deribit only). */
  venues?: VenueId[];
  file: string;
  currencies: ('BTC' | 'ETH')[];
  /** Stop after this many ms (default: until stop() / SIGINT). */
  durationMs?: number;
  heartbeatS?: number;
  summaryEveryMs?: number;
  instrumentsEveryMs?: number;
  log?: (line: string) => void;
}

export interface RecordCounts {
  framesIn: number;
  framesOut: number;
  connects: number;
  skipped: number;
  rest: number;
}

export interface Recording {
  done: Promise<RecordCounts>;
  stop(): void;
}

export const DERIBIT_LIVE_URL = 'wss://www.deribit.com/ws/api/v2';
const ADAPTERS: Partial<Record<VenueId, VenueAdapter>> = { okx: okxAdapter, bybit: bybitAdapter, binance: binanceAdapter };

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function record(opts: RecordOptions): Recording {
  const log = opts.log ?? (() => undefined);
  const out: WriteStream = createWriteStream(opts.file, { flags: 'w' });
  const counts: RecordCounts = { framesIn: 0, framesOut: 0, connects: 0, skipped: 0, rest: 0 };
  const venues = opts.venues ?? ['deribit'];
  const base = opts.upstreamBase?.replace(/\/+$/, '');
  const upstream = opts.upstream ?? (base ? base + DERIBIT_WS_PATH : DERIBIT_LIVE_URL);
  const deribitPath = localPath('deribit', upstream);
  let stopping = false;
  let ws: WebSocket | undefined;
  let wake: (() => void) | undefined;
  let connSeq = 0;
  const stopWaiters: (() => void)[] = [];
  const stopTimer = opts.durationMs !== undefined ? setTimeout(() => stop(), opts.durationMs) : undefined;

  function stop(): void {
    if (stopping) return;
    stopping = true;
    if (stopTimer) clearTimeout(stopTimer);
    ws?.close(1000, 'recording finished');
    for (const f of feeds) f.stop();
    wake?.();
    for (const w of stopWaiters) w();
  }

  // A REST answer or frame that lands after the recording ended (a request in flight at stop) is not
  // written: the file is closed.
  const write = (line: string) => {
    if (!out.writableEnded) out.write(line + '\n');
  };
  /** A frame line; `frameText` is already JSON (spliced in rather than re-serialised). */
  const frameLine = (venue: VenueId, path: string, conn: number, dir: 'in' | 'out', frameText: string) =>
    write(`{"venue":"${venue}","path":${JSON.stringify(path)},"conn":${conn},"dir":"${dir}","ts":${Date.now()},"frame":${frameText}}`);

  /** A `ws` socket whose frames are written to the recording, as the feeds' SocketLike. */
  const tappedSocket = (venue: VenueId) => (url: string): SocketLike => {
    const conn = ++connSeq;
    const path = localPath(venue, url);
    counts.connects++;
    write(JSON.stringify({ event: 'connect', venue, path, conn, url, ts: Date.now() }));
    const sock = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, handshakeTimeout: 10_000 });
    // registered before the client's onmessage, so a frame is written before the client acts on it
    sock.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      if (text !== null && isJsonObject(text)) {
        frameLine(venue, path, conn, 'in', text);
        counts.framesIn++;
      } else counts.skipped++;
    });
    sock.on('error', (e) => log(`record: ${venue} socket error: ${e.message}`));
    const send = sock.send.bind(sock);
    sock.send = ((data: string, ...rest: unknown[]) => {
      if (isJsonObject(data)) {
        frameLine(venue, path, conn, 'out', data);
        counts.framesOut++;
      } else counts.skipped++;
      (send as (...a: unknown[]) => void)(data, ...rest);
    }) as typeof sock.send;
    return sock as unknown as SocketLike;
  };

  /** The feeds' REST client, writing each answer as a `dir:"rest"` line. */
  const tappedFetch = (venue: VenueId): FetchJson => async (url) => {
    const body = await defaultFetchJson(url);
    const { path, query } = localRestPath(venue, url);
    write(JSON.stringify({ venue, path, query, dir: 'rest', ts: Date.now(), status: 200, body }));
    counts.rest++;
    return body;
  };

  /** A sink that keeps only the feed's venue time (its newest stamp), which the client prunes expiries by. */
  const sink = (venue: VenueId, time: { ms: number | null }): FeedSink => {
    const seen = (ts: number) => {
      if (Number.isFinite(ts) && (time.ms === null || ts > time.ms)) time.ms = ts;
    };
    return {
      instruments: () => undefined,
      options: (_v, u) => {
        for (const x of u) seen(x.timestampMs);
      },
      forwards: (_v, _c, u) => {
        for (const x of u) seen(x.timestampMs);
      },
      index: (_v, _c, _p, ts) => seen(ts),
      perp: () => undefined,
      status: (_v, e) => {
        if (e.kind === 'venueError' || e.kind === 'closed') log(`record: ${venue}: ${e.kind} ${'message' in e ? e.message : `${e.code} ${e.reason}`}`);
      },
    };
  };

  const feeds: { stop(): void }[] = [];
  for (const venue of venues) {
    const adapter = ADAPTERS[venue];
    if (!adapter) continue;
    for (const currency of opts.currencies) {
      const time = { ms: null as number | null };
      const options: FeedOptions & { fetchJson: FetchJson; venueNow: () => number | null } = {
        url: base ? base + adapter.localPath : adapter.liveUrl,
        currency,
        clock: realClock,
        socketFactory: tappedSocket(venue),
        sink: sink(venue, time),
        fetchJson: tappedFetch(venue),
        venueNow: () => time.ms,
      };
      const feed = adapter.createFeed(options);
      feeds.push(feed);
      feed.start();
      log(`record: ${venue} ${currency} from ${options.url}`);
    }
  }

  async function session(): Promise<'closed' | 'rateLimited'> {
    counts.connects++;
    const conn = ++connSeq;
    const sock = new WebSocket(upstream, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, handshakeTimeout: 10_000 });
    ws = sock;
    write(JSON.stringify({ event: 'connect', venue: 'deribit', path: deribitPath, conn, url: upstream, ts: Date.now() }));
    const pending = new Map<number, Pending>();
    let nextId = 1;
    let rateLimited = false;
    const timers: ReturnType<typeof setInterval>[] = [];

    const send = (method: string, params: Record<string, unknown>): Promise<unknown> => {
      const id = nextId++;
      const frame = { jsonrpc: '2.0', id, method, params };
      frameLine('deribit', deribitPath, conn, 'out', JSON.stringify(frame));
      counts.framesOut++;
      sock.send(JSON.stringify(frame));
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        setTimeout(() => {
          if (pending.delete(id)) reject(new Error(`${method}: no answer in 30 s`));
        }, 30_000).unref();
      });
    };

    const closed = new Promise<void>((resolve) => {
      sock.on('close', () => {
        for (const t of timers) clearInterval(t);
        for (const p of pending.values()) p.reject(new Error('connection closed'));
        pending.clear();
        resolve();
      });
      sock.on('error', (e) => log(`record: socket error: ${e.message}`));
    });

    sock.on('message', (data, isBinary) => {
      if (isBinary) {
        counts.skipped++;
        return;
      }
      const text = data.toString();
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(text);
        if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new Error('not an object');
      } catch {
        counts.skipped++; // cannot be represented in the format: counted, not written
        return;
      }
      // the raw text is already JSON: splice it in instead of re-serialising a large frame
      frameLine('deribit', deribitPath, conn, 'in', text);
      counts.framesIn++;
      if (msg.method === 'heartbeat' && (msg.params as Record<string, unknown> | undefined)?.type === 'test_request') {
        void send('public/test', {}).catch(() => undefined);
        return;
      }
      if (typeof msg.id === 'number' && pending.has(msg.id)) {
        const p = pending.get(msg.id)!;
        pending.delete(msg.id);
        if (msg.error) {
          const err = msg.error as { code?: number; message?: string };
          if (err.code === 10028) rateLimited = true;
          p.reject(new Error(`${err.code}: ${err.message}`));
        } else p.resolve(msg.result);
      }
    });

    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('open', () => resolve());
        sock.once('error', reject);
        sock.once('close', () => reject(new Error('closed before open')));
      });
    } catch (e) {
      log(`record: cannot connect to ${upstream}: ${(e as Error).message}`);
      return 'closed';
    }
    log(`record: connected to ${upstream}`);
    const subscribed = new Set<string>();
    const subscribeSpaced = async (channels: string[]) => {
      const fresh = channels.filter((c) => !subscribed.has(c));
      // batches of 100, <= 3 calls per second (Deribit subscribe credits)
      for (let i = 0; i < fresh.length; i += 100) {
        const batch = fresh.slice(i, i + 100);
        const res = (await send('public/subscribe', { channels: batch })) as string[];
        for (const c of Array.isArray(res) ? res : []) subscribed.add(c);
        await sleep(400);
      }
    };
    const refreshInstruments = async () => {
      for (const c of opts.currencies) {
        const idx = `${c.toLowerCase()}_usd`;
        const ip = (await send('public/get_index_price', { index_name: idx })) as { index_price?: number };
        const list = (await send('public/get_instruments', { currency: c, kind: 'option', expired: false })) as Record<string, unknown>[];
        const spot = Number(ip?.index_price);
        const best = new Map<number, { name: string; d: number }>();
        for (const r of Array.isArray(list) ? list : []) {
          if (r.option_type !== 'call') continue;
          const e = Number(r.expiration_timestamp);
          const d = Math.abs(Number(r.strike) - spot);
          const b = best.get(e);
          if (!b || d < b.d) best.set(e, { name: String(r.instrument_name), d });
        }
        const chans = [
          `instrument.state.option.${c}`,
          `markprice.options.${idx}`,
          `deribit_price_index.${idx}`,
          `ticker.${c}-PERPETUAL.100ms`,
          `book.${c}-PERPETUAL.100ms`,
          ...[...best.values()].map((b) => `ticker.${b.name}.100ms`),
        ];
        await subscribeSpaced(chans);
      }
    };
    const summaries = async () => {
      for (const c of opts.currencies) await send('public/get_book_summary_by_currency', { currency: c, kind: 'option' });
    };
    try {
      await send('public/hello', { client_name: 'gexdesk-recorder', client_version: '0.1.0' });
      await send('public/set_heartbeat', { interval: opts.heartbeatS ?? 30 });
      await refreshInstruments();
      await summaries();
      timers.push(setInterval(() => void summaries().catch(() => undefined), opts.summaryEveryMs ?? 30_000));
      timers.push(setInterval(() => void refreshInstruments().catch(() => undefined), opts.instrumentsEveryMs ?? 600_000));
    } catch (e) {
      log(`record: setup failed: ${(e as Error).message}`);
      sock.close();
    }
    await closed;
    return rateLimited ? 'rateLimited' : 'closed';
  }

  const deribitLoop = async (): Promise<void> => {
    let attempt = 0;
    while (!stopping) {
      const started = Date.now();
      const r = await session();
      if (stopping) break;
      if (Date.now() - started > 30_000) attempt = 0;
      attempt++;
      // full jitter backoff; 10028 ends the session on Deribit and asks for >= 10 s
      const delay = (r === 'rateLimited' ? 10_000 : 0) + Math.random() * Math.min(30_000, 1000 * 2 ** attempt);
      log(`record: disconnected; reconnecting in ${(delay / 1000).toFixed(1)} s`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, delay);
      });
    }
  };

  const stopped = new Promise<void>((resolve) => stopWaiters.push(resolve));
  const done = (async () => {
    await Promise.all([venues.includes('deribit') ? deribitLoop() : Promise.resolve(), stopped]);
    await new Promise<void>((r) => out.end(() => r()));
    return counts;
  })();

  return { done, stop };
}

function isJsonObject(text: string): boolean {
  const t = text.trimStart();
  if (!t.startsWith('{')) return false;
  try {
    const v: unknown = JSON.parse(t);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
