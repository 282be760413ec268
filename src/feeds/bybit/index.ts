/**
 * Bybit venue adapter. `liveUrl`/`localPath` name the OPTION socket; the client derives the linear
 * (perpetual) socket by replacing the last path segment `option` with `linear`, so the local server
 * must serve both `/bybit/v5/public/option` and `/bybit/v5/public/linear`. Option symbols come from
 * REST (https://api.bybit.com live, CORS from a browser origin unverified; `/bybit/rest/...` locally).
 */
import type { VenueAdapter } from '../adapter.ts';
import { createBybitFeed, type BybitFeedOptions } from './client.ts';

export const bybitAdapter: VenueAdapter = {
  id: 'bybit',
  label: 'Bybit',
  liveUrl: 'wss://stream.bybit.com/v5/public/option',
  localPath: '/bybit/v5/public/option',
  createFeed: (options) => createBybitFeed(options as BybitFeedOptions),
};

export { createBybitFeed };
export type { BybitFeedOptions };
