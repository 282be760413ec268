/** Bybit on the local server: its protocol, simulator, replay and REST side (see ./protocol.ts). */
import { TokenBucket } from '../client-socket.ts';
import { ReplayVenueSource } from '../../replay/venue-source.ts';
import type { VenueDef } from '../venue-def.ts';
import { BYBIT_IDLE_CLOSE_MS, BYBIT_LIVE_BASE, BYBIT_RELAY_PATHS, BYBIT_REST_PREFIX, BYBIT_SESSION, BybitProtocol } from './protocol.ts';
import { BybitSim } from './sim.ts';
import { BYBIT_REPLAY, bybitCapturePath, bybitStamp } from './replay.ts';

export const BYBIT: VenueDef = {
  venue: 'bybit',
  hub: { session: BYBIT_SESSION, idleCloseMs: BYBIT_IDLE_CLOSE_MS, maxFrameBytes: 70 * 1024 },
  protocol: (hub, source) => new BybitProtocol(hub, source),
  sim: (hub, sim) => new BybitSim(hub, sim),
  replay: (hub, player) => new ReplayVenueSource(hub, player, BYBIT_REPLAY),
  stampOf: bybitStamp,
  capturePath: bybitCapturePath,
  // Bybit market endpoints: 600 requests / 5 s per IP; we relay at most 5/s.
  rest: { prefix: BYBIT_REST_PREFIX, liveBase: BYBIT_LIVE_BASE, relayPaths: BYBIT_RELAY_PATHS, bucket: () => new TokenBucket(5, 5) },
};
