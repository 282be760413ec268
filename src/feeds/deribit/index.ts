/** The Deribit venue adapter: one websocket per currency carries options, index and perpetual. */
import type { VenueAdapter } from '../adapter.ts';
import { createDeribitFeed } from './client.ts';

export const deribitAdapter: VenueAdapter = {
  id: 'deribit',
  label: 'Deribit',
  liveUrl: 'wss://www.deribit.com/ws/api/v2',
  localPath: '/deribit/ws/api/v2',
  createFeed: (options) => createDeribitFeed(options),
};

export { createDeribitFeed, type DeribitFeedOptions } from './client.ts';
