/**
 * Venue id -> adapter. Adding a venue = its folder under src/feeds/ plus one line here. A venue whose
 * adapter is not written yet stays `undefined`, and the host reports it as unavailable.
 */
import type { VenueId } from '../chain/model.ts';
import type { VenueAdapter } from './adapter.ts';
import { deribitAdapter } from './deribit/index.ts';
import { okxAdapter } from './okx/index.ts';
import { bybitAdapter } from './bybit/index.ts';
import { binanceAdapter } from './binance/index.ts';

export const venueAdapters: Record<VenueId, VenueAdapter | undefined> = {
  deribit: deribitAdapter,
  okx: okxAdapter,
  bybit: bybitAdapter,
  binance: binanceAdapter,
};

/** The adapters that exist, in display order. */
export function availableAdapters(): VenueAdapter[] {
  return Object.values(venueAdapters).filter((a): a is VenueAdapter => a !== undefined);
}

/** `ws://127.0.0.1:8787` + adapter -> the venue's local URL; live -> the venue's own URL. */
export function feedUrl(adapter: VenueAdapter, localBase: string | null): string {
  return localBase === null ? adapter.liveUrl : localBase.replace(/\/+$/, '') + adapter.localPath;
}
