/**
 * The venues, once. Every layer reads this list: the page's venue picker and links, the feeds'
 * registry, the server's venue names, fault scopes, recordings and CSP hosts. Adding a venue is one
 * line here plus its folder under src/feeds/ and server/ (README "Adding a venue").
 */
export const VENUES = [
  { id: 'deribit', label: 'Deribit', liveHosts: ['wss://www.deribit.com'] },
  { id: 'okx', label: 'OKX', liveHosts: ['wss://ws.okx.com:8443', 'https://www.okx.com'] },
  { id: 'bybit', label: 'Bybit', liveHosts: ['wss://stream.bybit.com', 'https://api.bybit.com'] },
  { id: 'binance', label: 'Binance', liveHosts: ['wss://fstream.binance.com', 'wss://nbstream.binance.com', 'https://eapi.binance.com'] },
] as const satisfies readonly { id: string; label: string; liveHosts: readonly string[] }[];

export type VenueId = (typeof VENUES)[number]['id'];

/** Venue ids in display order. */
export const VENUE_IDS: readonly VenueId[] = VENUES.map((v) => v.id);

/** Whether a string from outside (a link, a request) names a venue. */
export function isVenueId(x: unknown): x is VenueId {
  return typeof x === 'string' && (VENUE_IDS as readonly string[]).includes(x);
}

/** A venue's label for people ("OKX"). */
export function venueLabel(id: VenueId): string {
  return VENUES.find((v) => v.id === id)?.label ?? id;
}
