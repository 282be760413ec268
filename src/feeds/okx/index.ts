/**
 * OKX venue adapter. Live: `wss://ws.okx.com:8443/ws/v5/public` plus REST instrument discovery at
 * https://www.okx.com (CORS from a browser origin unverified: use the local server's `/okx/rest`
 * pass-through when it refuses). Local: `ws://HOST/okx/ws/v5/public`, REST `http://HOST/okx/rest/...`.
 */
import type { VenueAdapter } from '../adapter.ts';
import { createOkxFeed, type OkxFeedOptions } from './client.ts';

export const okxAdapter: VenueAdapter = {
  id: 'okx',
  label: 'OKX',
  liveUrl: 'wss://ws.okx.com:8443/ws/v5/public',
  localPath: '/okx/ws/v5/public',
  createFeed: (options) => createOkxFeed(options as OkxFeedOptions),
};

export { createOkxFeed };
export type { OkxFeedOptions };
