/**
 * Instrument discovery over REST for venues that have no websocket instrument list (OKX, Bybit).
 *
 * Which venues need REST for live use: OKX (option instruments and swap contract size) and Bybit
 * (option symbols). Deribit and Binance do not. Whether okx.com / api.bybit.com answer browser origins
 * with CORS headers is UNVERIFIED (shared/feeds.md §0.3): in sim, replay and "live via the local
 * server" modes the client calls the same-origin pass-through `/<venue>/rest/...` instead, which the
 * local server serves (or relays, rate-limited) for exactly these public read-only calls.
 */
import { MAX_FRAME_BYTES_LIST } from './limits.ts';
import { parseFrame } from './frame-guard.ts';

/** Fetches a URL and returns its parsed JSON body; rejects on transport error, non-2xx or bad JSON. */
export type FetchJson = (url: string) => Promise<unknown>;

/** The browser/Node fetch, with the frame guard's size cap before JSON.parse. */
export const defaultFetchJson: FetchJson = async (url) => {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const parsed = parseFrame(text, MAX_FRAME_BYTES_LIST);
  if (!parsed.ok) throw new Error(`bad body: ${parsed.reason}`);
  return parsed.value;
};

/**
 * REST base for a venue given the websocket URL the feed was created with. Live websocket host: the
 * local server's live relay `<relayOrigin>/live/<venue>/rest` when the app came from one, else the
 * venue's own REST host. Any other host (sim, replay): its same-origin pass-through `<origin>/<venue>/rest`.
 */
export function restBaseFor(
  wsUrl: string, venue: string, liveWsHostSuffix: string, liveRestBase: string, relayOrigin?: string,
): string {
  let u: URL;
  try {
    u = new URL(wsUrl);
  } catch {
    return `/${venue}/rest`;
  }
  if (u.hostname === liveWsHostSuffix || u.hostname.endsWith(`.${liveWsHostSuffix}`)) {
    return relayOrigin ? `${relayOrigin.replace(/\/+$/, '')}/live/${venue}/rest` : liveRestBase;
  }
  const scheme = u.protocol === 'wss:' ? 'https:' : 'http:';
  return `${scheme}//${u.host}/${venue}/rest`;
}
