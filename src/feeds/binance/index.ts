/**
 * Binance venue adapter. `liveUrl`/`localPath` name the `/market` combined-stream socket (options and
 * the perpetual's mark price); the client derives the `/public` socket for the perpetual's depth by
 * replacing `/market/` with `/public/`, so the local server must serve `/binance/market/stream` and
 * `/binance/public/stream`. No REST is required (exchangeInfo is optional: `/binance/rest/...`).
 */
import type { VenueAdapter } from '../adapter.ts';
import { createBinanceFeed, type BinanceFeedOptions } from './client.ts';

export const binanceAdapter: VenueAdapter = {
  id: 'binance',
  label: 'Binance',
  liveUrl: 'wss://fstream.binance.com/market/stream',
  localPath: '/binance/market/stream',
  forwardsFromIndex: true,
  createFeed: (options) => createBinanceFeed(options as BinanceFeedOptions),
};

export { createBinanceFeed };
export type { BinanceFeedOptions };
