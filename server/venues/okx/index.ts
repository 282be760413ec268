/** OKX on the local server: its protocol, simulator, replay and REST side (see ./protocol.ts). */
import { TokenBucket } from '../client-socket.ts';
import { ReplayVenueSource } from '../../replay/venue-source.ts';
import type { VenueDef } from '../venue-def.ts';
import { OKX_LIVE_BASE, OKX_RELAY_PATHS, OKX_REST_PREFIX, OKX_SESSION, OKX_WS_PATH, OkxProtocol } from './protocol.ts';
import { OkxSim } from './sim.ts';
import { okxReplay, okxStamp } from './replay.ts';

export const OKX: VenueDef = {
  venue: 'okx',
  // OKX allows 64 KB of subscribe args per request
  hub: { session: OKX_SESSION, maxFrameBytes: 70 * 1024 },
  protocol: (hub, source) => new OkxProtocol(hub, source),
  sim: (hub, sim, o) => new OkxSim(hub, sim, o.okxBooks),
  replay: (hub, player, o) => new ReplayVenueSource(hub, player, okxReplay(o.okxBooks)),
  stampOf: okxStamp,
  capturePath: () => OKX_WS_PATH,
  // OKX public REST: 20 requests / 2 s per IP for instruments; we relay at most 5/s.
  rest: { prefix: OKX_REST_PREFIX, liveBase: OKX_LIVE_BASE, relayPaths: OKX_RELAY_PATHS, bucket: () => new TokenBucket(5, 5) },
};
