/**
 * The desk relay's health as a screen shows it (`source=relay`): the relay's `/__gexdesk/info`, read
 * from the page's own origin. A screen must tell "the relay is up but a venue is down" (the relay
 * answers and names the venue) from "the relay is down" (it does not answer): the feeds alone cannot,
 * since through a relay a silent venue and a stalled relay both look like a quiet socket.
 */
import { isVenueId, type VenueId } from '../shared/venues.ts';

/** One venue currency the relay holds upstream. */
export interface RelayUpstream {
  venue: VenueId;
  currency: string;
  /** `connecting`, `open`, `reconnecting`, `error`, or `silent` (open, no data for 10 s). */
  state: string;
  reason: string | null;
}

export interface ServerInfo {
  /** What the server serves (`live` for a relay), null when it did not say. */
  source: string | null;
  /** A relay's upstreams (empty: none held yet); null when the server is no relay. */
  relay: RelayUpstream[] | null;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const text = (x: unknown, max = 120): string | null => (typeof x === 'string' ? x.slice(0, max) : null);

/** Reads `/__gexdesk/info` as far as a screen needs it; anything malformed is left out, never thrown. */
export function parseServerInfo(x: unknown): ServerInfo {
  if (!isObj(x)) return { source: null, relay: null };
  const source = text(x.source, 20);
  if (!isObj(x.relay)) return { source, relay: null };
  const out: RelayUpstream[] = [];
  for (const [venue, v] of Object.entries(x.relay)) {
    if (!isVenueId(venue) || !isObj(v) || !isObj(v.upstream)) continue;
    for (const [currency, u] of Object.entries(v.upstream)) {
      if (!isObj(u) || !/^[A-Z]{2,6}$/.test(currency)) continue;
      const state = u.silent === true ? 'silent' : text(u.state, 20);
      if (state === null) continue;
      out.push({ venue, currency, state, reason: text(u.reason) });
    }
  }
  return { source, relay: out };
}

/** The server's info from `origin` (the page's own by default); rejects when it does not answer within `timeoutMs`. */
export async function fetchServerInfo(origin = '', timeoutMs = 2_000): Promise<ServerInfo> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(`${origin}/__gexdesk/info`, { signal: ctl.signal, headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return parseServerInfo(await res.json());
  } finally {
    clearTimeout(timer);
  }
}

/** One line for the status bar: which held venues are not open, or that all are. */
export function relaySummary(ups: readonly RelayUpstream[]): { ok: boolean; text: string } {
  const bad = ups.filter((u) => u.state !== 'open');
  if (ups.length === 0) return { ok: true, text: 'relay up · no venue held yet' };
  if (bad.length === 0) return { ok: true, text: `relay up · ${ups.map((u) => `${u.venue} ${u.currency}`).join(', ')} open` };
  return { ok: false, text: `relay up · ${bad.map((u) => `${u.venue} ${u.currency} ${u.state}${u.reason ? ` (${u.reason})` : ''}`).join(', ')}` };
}
