/**
 * Records venue sessions to the replay format (recording.ts / README), several venues into one file,
 * every venue the same way: each venue's real client (src/feeds/<venue>) runs for each currency
 * against the venue (live, or a local gexdesk server with `upstreamBase`) through a tapped socket and
 * REST fetch, so the recording holds exactly what the app's client asks for and gets: its
 * subscriptions and requests, every frame it receives (Deribit's replies and heartbeats included),
 * and the REST answers of its instrument discovery (`dir:"rest"` lines, replayed as the
 * pass-through's answers). Reconnects, backoff and rate limits (Deribit's 10028) are the client's.
 *
 * Lines carry `venue`, the local `path` (the URL's path under `/<venue>`) and a connection number.
 * Frames that are not JSON objects (OKX's text ping/pong, binary) cannot be written: counted, skipped.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import WebSocket from 'ws';
import type { Clock, FeedOptions, FeedSink, SocketLike } from '../../src/feeds/adapter.ts';
import { defaultFetchJson, type FetchJson } from '../../src/feeds/rest-fetch.ts';
import { venueAdapters } from '../../src/feeds/registry.ts';
import type { VenueId } from '../../src/shared/venues.ts';
import { localPath, localRestPath } from './recording.ts';

export interface RecordOptions {
  /** Record every venue from a local gexdesk server at this ws:// base (its venue paths) instead of live. */
  upstreamBase?: string;
  /** A venue's websocket URL, instead of its live one or its path under `upstreamBase` (`--upstream` is Deribit's). */
  urls?: Partial<Record<VenueId, string>>;
  /** Venues to record (default Deribit only). */
  venues?: VenueId[];
  file: string;
  currencies: ('BTC' | 'ETH')[];
  /** Stop after this many ms (default: until stop() / SIGINT). */
  durationMs?: number;
  /** Deribit's heartbeat interval, seconds (the client's default otherwise; the simulator takes >= 1). */
  heartbeatS?: number;
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

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export function record(opts: RecordOptions): Recording {
  const log = opts.log ?? (() => undefined);
  const out: WriteStream = createWriteStream(opts.file, { flags: 'w' });
  const counts: RecordCounts = { framesIn: 0, framesOut: 0, connects: 0, skipped: 0, rest: 0 };
  const venues = opts.venues ?? ['deribit'];
  const base = opts.upstreamBase?.replace(/\/+$/, '');
  const stopWaiters: (() => void)[] = [];
  let connSeq = 0;
  let stopping = false;
  const stopTimer = opts.durationMs !== undefined ? setTimeout(() => stop(), opts.durationMs) : undefined;

  function stop(): void {
    if (stopping) return;
    stopping = true;
    if (stopTimer) clearTimeout(stopTimer);
    for (const f of feeds) f.stop();
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
      trades: () => undefined,
      status: (_v, e) => {
        if (e.kind === 'venueError' || e.kind === 'closed') log(`record: ${venue}: ${e.kind} ${'message' in e ? e.message : `${e.code} ${e.reason}`}`);
      },
    };
  };

  const feeds: { stop(): void }[] = [];
  for (const venue of venues) {
    const adapter = venueAdapters[venue];
    if (!adapter) {
      log(`record: ${venue}: no client to record with`);
      continue;
    }
    for (const currency of opts.currencies) {
      const time = { ms: null as number | null };
      const options: FeedOptions & { fetchJson: FetchJson; venueNow: () => number | null; heartbeatSec?: number } = {
        url: opts.urls?.[venue] ?? (base ? base + adapter.localPath : adapter.liveUrl),
        currency,
        clock: realClock,
        socketFactory: tappedSocket(venue),
        sink: sink(venue, time),
        fetchJson: tappedFetch(venue),
        venueNow: () => time.ms,
        heartbeatSec: opts.heartbeatS,
      };
      const feed = adapter.createFeed(options);
      feeds.push(feed);
      feed.start();
      log(`record: ${venue} ${currency} from ${options.url}`);
    }
  }

  const stopped = new Promise<void>((resolve) => stopWaiters.push(resolve));
  const done = (async () => {
    await stopped;
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
