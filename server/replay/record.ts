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
import type { SocketLike } from '../../src/feeds/adapter.ts';
import { defaultFetchJson, type FetchJson } from '../../src/feeds/rest-fetch.ts';
import { venueAdapters } from '../../src/feeds/registry.ts';
import type { VenueId } from '../../src/shared/venues.ts';
import { startTappedClient, tappedSocket } from '../venues/tapped-client.ts';
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

  /** A socket whose frames, both ways, are written to the recording (a frame before the client acts on it). */
  const recordedSocket = (venue: VenueId) => (url: string): SocketLike => {
    const conn = ++connSeq;
    const path = localPath(venue, url);
    counts.connects++;
    write(JSON.stringify({ event: 'connect', venue, path, conn, url, ts: Date.now() }));
    const frame = (dir: 'in' | 'out', text: string | null) => {
      if (text !== null && isJsonObject(text)) {
        frameLine(venue, path, conn, dir, text);
        if (dir === 'in') counts.framesIn++;
        else counts.framesOut++;
      } else counts.skipped++;
    };
    return tappedSocket(url, {
      sent: (data) => frame('out', data),
      received: (text) => {
        frame('in', text);
        return false;
      },
      error: (e) => log(`record: ${venue} socket error: ${e.message}`),
    });
  };

  /** The feeds' REST client, writing each answer as a `dir:"rest"` line. */
  const tappedFetch = (venue: VenueId): FetchJson => async (url) => {
    const body = await defaultFetchJson(url);
    const { path, query } = localRestPath(venue, url);
    write(JSON.stringify({ venue, path, query, dir: 'rest', ts: Date.now(), status: 200, body }));
    counts.rest++;
    return body;
  };

  const feeds: { stop(): void }[] = [];
  for (const venue of venues) {
    const adapter = venueAdapters[venue];
    if (!adapter) {
      log(`record: ${venue}: no client to record with`);
      continue;
    }
    const url = opts.urls?.[venue] ?? (base ? base + adapter.localPath : adapter.liveUrl);
    for (const currency of opts.currencies) {
      feeds.push(startTappedClient(adapter, {
        currency,
        url,
        socketFactory: recordedSocket(venue),
        fetchJson: tappedFetch(venue),
        status: (e) => {
          if (e.kind === 'venueError' || e.kind === 'closed') log(`record: ${venue}: ${e.kind} ${'message' in e ? e.message : `${e.code} ${e.reason}`}`);
        },
        heartbeatS: opts.heartbeatS,
      }));
      log(`record: ${venue} ${currency} from ${url}`);
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
