/** Binance on the local server: its protocol, simulator, replay and REST side (see ./protocol.ts). */
import { TokenBucket } from '../client-socket.ts';
import { ReplayVenueSource } from '../../replay/venue-source.ts';
import type { VenueDef } from '../venue-def.ts';
import { BINANCE_LIVE_BASE, BINANCE_PING_MS, BINANCE_RELAY_PATHS, BINANCE_REST_PREFIX, BINANCE_SESSION, BinanceProtocol } from './protocol.ts';
import { BinanceSim } from './sim.ts';
import { BINANCE_REPLAY, binanceCapturePath, binanceStamp } from './replay.ts';

export const BINANCE: VenueDef = {
  venue: 'binance',
  hub: { session: BINANCE_SESSION, pingEveryMs: BINANCE_PING_MS, maxFrameBytes: 70 * 1024 },
  protocol: (hub, source) => new BinanceProtocol(hub, source),
  sim: (hub, sim) => new BinanceSim(hub, sim),
  replay: (hub, player) => new ReplayVenueSource(hub, player, BINANCE_REPLAY),
  stampOf: binanceStamp,
  capturePath: binanceCapturePath,
  // Binance eapi: weight 1 for exchangeInfo, 400 weight/min per IP; we relay at most 1/s.
  rest: { prefix: BINANCE_REST_PREFIX, liveBase: BINANCE_LIVE_BASE, relayPaths: BINANCE_RELAY_PATHS, bucket: () => new TokenBucket(2, 1) },
};
