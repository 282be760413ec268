/**
 * The recording format shared by the recorder (record.ts) and the replayer (player.ts,
 * venue-source.ts). One JSON object per line:
 *
 *   {"venue":"okx","path":"/okx/ws/v5/public","conn":2,"dir":"in","ts":1741003200123,"frame":{...}}
 *   {"venue":"okx","path":"/okx/rest/api/v5/public/instruments","query":"instType=OPTION&instFamily=BTC-USD",
 *    "dir":"rest","ts":1741003200050,"status":200,"body":{...}}
 *   {"event":"connect","venue":"okx","path":"/okx/ws/v5/public","conn":2,"url":"wss://...","ts":...}
 *
 * `venue` and `path` say where the frame travelled, as the local server serves it (the live URL's path
 * under `/<venue>`); `dir` `in` = received from the venue, `out` = sent to it, `rest` = a REST answer the
 * client asked for; `ts` = receive/send time in epoch ms (seconds are accepted: the 2021 capture).
 * Lines without `venue` are Deribit's at `/deribit/ws/api/v2` (the first format, and the 2021 capture's
 * `server->client`/`client->server` spelling). `{"event":...}` lines are metadata. Bad lines are counted
 * by reason and skipped, never thrown.
 */

import { isVenueId, type VenueId } from '../../src/shared/venues.ts';
import { DERIBIT_WS_PATH } from '../venues/deribit/protocol.ts';

export interface RecordedFrame {
  venue: VenueId;
  path: string;
  conn?: number;
  dir: 'in' | 'out';
  ts: number; // ms
  frame: Record<string, unknown>;
}

export interface RecordedRest {
  venue: VenueId;
  /** Local path including the `/<venue>/rest` prefix. */
  path: string;
  /** The query string the client sent (without `?`). */
  query: string;
  ts: number;
  status: number;
  body: unknown;
}

export interface VenueReport {
  frames: number;
  rest: number;
  delivered: number;
}

export interface ReplayReport {
  lines: number;
  frames: number;
  notifications: number;
  responses: number;
  metaLines: number;
  badLines: number;
  badReasons: Record<string, number>;
  spanMs: number;
  loop: boolean;
  loops: number;
  delivered: number;
  /** Per venue: recorded inbound frames, REST answers, data frames delivered so far. */
  venues: Partial<Record<VenueId, VenueReport>>;
  /** Venue clock minus recorder clock (ms) the replay applies to recorded times; 0 = recorded times as they are (player.ts venueClockOffset). */
  clockOffsetMs?: number;
}

export function emptyReport(): ReplayReport {
  return { lines: 0, frames: 0, notifications: 0, responses: 0, metaLines: 0, badLines: 0, badReasons: {}, spanMs: 0, loop: true, loops: 0, delivered: 0, venues: {} };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse recording text; never throws. */
export function parseRecording(text: string): { frames: RecordedFrame[]; rest: RecordedRest[]; report: ReplayReport } {
  const report = emptyReport();
  const bad = (r: string) => {
    report.badLines++;
    report.badReasons[r] = (report.badReasons[r] ?? 0) + 1;
  };
  const venueReport = (v: VenueId) => (report.venues[v] ??= { frames: 0, rest: 0, delivered: 0 });
  const frames: RecordedFrame[] = [];
  const rest: RecordedRest[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    report.lines++;
    if (line.length > 64 * 1024 * 1024) {
      bad('line too long');
      continue;
    }
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      bad('invalid JSON');
      continue;
    }
    if (!isObject(o)) {
      bad('not an object');
      continue;
    }
    if (o.event !== undefined && o.frame === undefined) {
      report.metaLines++;
      continue;
    }
    let venue: VenueId = 'deribit';
    if (o.venue !== undefined) {
      if (!isVenueId(o.venue)) {
        bad('unknown venue');
        continue;
      }
      venue = o.venue;
    }
    if (typeof o.ts !== 'number' || !Number.isFinite(o.ts) || o.ts <= 0) {
      bad('bad ts');
      continue;
    }
    // seconds (the 2021 capture) vs milliseconds (our recorder)
    const ts = o.ts < 1e11 ? o.ts * 1000 : o.ts;
    if (o.dir === 'rest') {
      if (typeof o.path !== 'string' || !o.path.startsWith(`/${venue}/rest/`) || (o.query !== undefined && typeof o.query !== 'string') || o.body === undefined) {
        bad('bad rest line');
        continue;
      }
      rest.push({ venue, path: o.path, query: (o.query as string | undefined) ?? '', ts, status: typeof o.status === 'number' ? o.status : 200, body: o.body });
      venueReport(venue).rest++;
      continue;
    }
    const dir = o.dir === 'in' || o.dir === 'server->client' ? 'in' : o.dir === 'out' || o.dir === 'client->server' ? 'out' : undefined;
    if (!dir) {
      bad('bad dir');
      continue;
    }
    const path = o.path === undefined && venue === 'deribit' ? DERIBIT_WS_PATH : o.path;
    if (typeof path !== 'string' || !path.startsWith(`/${venue}/`) || path.length > 200) {
      bad('bad path');
      continue;
    }
    if (!isObject(o.frame)) {
      bad('bad frame');
      continue;
    }
    frames.push({ venue, path, conn: typeof o.conn === 'number' ? o.conn : undefined, dir, ts, frame: o.frame });
    if (dir === 'in') venueReport(venue).frames++;
  }
  report.frames = frames.length;
  return { frames, rest, report };
}

/** The local server path of a venue URL: its path under `/<venue>` (already there for a local URL). */
export function localPath(venue: VenueId, url: string): string {
  let p: string;
  try {
    p = new URL(url).pathname;
  } catch {
    p = url.split('?')[0];
  }
  return p.startsWith(`/${venue}/`) ? p : `/${venue}${p}`;
}

/** The local REST path of a venue REST URL (`/<venue>/rest/...`) and its query string. */
export function localRestPath(venue: VenueId, url: string): { path: string; query: string } {
  const u = new URL(url, 'http://local');
  const p = u.pathname;
  return { path: p.startsWith(`/${venue}/rest/`) ? p : `/${venue}/rest${p}`, query: u.search.replace(/^\?/, '') };
}

/** Query strings compared regardless of parameter order. */
export function canonicalQuery(q: URLSearchParams | string): string {
  const p = new URLSearchParams(q);
  p.sort();
  return p.toString();
}

/**
 * Venue time fields moved by `by` ms (replay loops): numbers and digit strings under these keys, in
 * objects and arrays down to a small depth (frames put their timestamps near the top).
 */
export function shiftTimes<T>(value: T, fields: ReadonlySet<string>, by: number, depth = 0): T {
  if (by === 0 || typeof value !== 'object' || value === null || depth > 4) return value;
  if (Array.isArray(value)) {
    // arrays of scalars (book levels) hold no timestamps
    if (value.length > 0 && (typeof value[0] !== 'object' || value[0] === null)) return value;
    return value.map((v: unknown) => shiftTimes(v, fields, by, depth + 1)) as T;
  }
  const o: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, v] of Object.entries(o)) {
    if (fields.has(k)) {
      if (typeof v === 'number') o[k] = v + by;
      else if (typeof v === 'string' && /^\d{10,16}$/.test(v)) o[k] = String(Number(v) + by);
    } else if (typeof v === 'object' && v !== null) o[k] = shiftTimes(v, fields, by, depth + 1);
  }
  return o as T;
}
