/**
 * What a venue folder gives the server (`venues/<venue>/index.ts`), and what the registry
 * (`./registry.ts`) builds from it in sim and in replay mode. Adding a venue on the server side is one
 * folder exporting one of these plus its line in the registry's table.
 */
import type { SimClock } from '../clock.ts';
import type { FaultState } from '../faults/state.ts';
import type { MarketSim } from '../sim/market.ts';
import type { ReplayPlayer } from '../replay/player.ts';
import type { VenueId } from '../../src/shared/venues.ts';
import type { SessionLimits, TokenBucket } from './client-socket.ts';
import type { VenueHub, VenueHubOptions, VenueProtocol, VenueSource } from './hub.ts';
import type { OkxBooksMode } from './okx/protocol.ts';
import type { RelayOptions } from '../relay/source.ts';

export interface VenuesOptions {
  /** Sim mode: the venues speak their protocols over the simulated market. */
  sim?: { sim: MarketSim; clock: SimClock };
  /** Replay mode: the venues the recording holds speak their protocols over it. */
  replay?: ReplayPlayer;
  /** Live relay mode: every venue's protocol over one upstream connection set per venue (server/relay/). */
  relay?: RelayOptions;
  faults: FaultState;
  /** Overrides of every venue's session rules and send buffers (tests). */
  limits?: Partial<SessionLimits>;
  /** Where a hub logs a caught error (once per cause). */
  log?: (line: string) => void;
  /** Injected fetch for the live relay (tests). */
  fetchImpl?: typeof fetch;
  /** OKX `books` as the venue serves them now (default in sim) or before 2026; replay: by the recording unless set. */
  okxBooks?: OkxBooksMode;
}

/** A venue's REST side: the pass-through prefix and what of the live venue the relay may ask. */
export interface VenueRest {
  /** `/<venue>/rest`: the local pass-through (sim or replay answers), and under `/live` the relay. */
  prefix: string;
  /** The venue's own REST host. */
  liveBase: string;
  /** Relayed paths and their allowed query keys. */
  relayPaths: ReadonlyMap<string, readonly string[]>;
  /** A fresh relay budget (requests/s, burst), under the venue's own public limit. */
  bucket(): TokenBucket;
}

/** One venue's wiring. Methods (not arrow properties): a def typed with its own source is a VenueDef. */
export interface VenueDef<S extends VenueSource = VenueSource> {
  venue: VenueId;
  /** The venue's rules for a session (request budget, channel cap), keepalive and largest inbound frame. */
  hub: Pick<VenueHubOptions, 'session' | 'idleCloseMs' | 'pingEveryMs' | 'maxFrameBytes'>;
  protocol(hub: VenueHub, source: S): VenueProtocol;
  /** The simulator as the venue's source. */
  sim(hub: VenueHub, sim: MarketSim, o: VenuesOptions): S;
  /** The recording's frames of this venue as its source. */
  replay(hub: VenueHub, player: ReplayPlayer, o: VenuesOptions): S;
  /** The venue time (ms) an inbound frame carries, or null: a replay runs on it, capture import orders by it. */
  stampOf(frame: Record<string, unknown>): number | null;
  /**
   * The local path a captured push (which names no path) was served on, or null when this server does
   * not serve it; absent: the venue's captures are recordings already (Deribit's), nothing to import.
   */
  capturePath?(frame: Record<string, unknown>): string | null;
  /** The REST pass-through; absent: the venue needs none (Deribit answers everything over its socket). */
  rest?: VenueRest;
}
