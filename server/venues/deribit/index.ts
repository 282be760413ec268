/** Deribit on the local server: its JSON-RPC protocol, simulator and replay (see ./protocol.ts); no REST side: every public method is on the socket. */
import type { VenueDef } from '../venue-def.ts';
import { DERIBIT_SESSION, DeribitProtocol, type DeribitSource } from './protocol.ts';
import { DeribitSim } from './sim.ts';
import { DeribitReplay, deribitStamp } from './replay.ts';

export const DERIBIT: VenueDef<DeribitSource> = {
  venue: 'deribit',
  // Deribit's requests are small: 16 KiB is a subscribe of ~250 channels
  hub: { session: DERIBIT_SESSION, maxFrameBytes: 16 * 1024 },
  protocol: (hub, source) => new DeribitProtocol(hub, source),
  sim: (hub, sim) => new DeribitSim(hub, sim),
  replay: (hub, player) => new DeribitReplay(hub, player),
  stampOf: deribitStamp,
};
