/**
 * The venues of the local server, one line each (the ids and their order are src/shared/venues.ts's):
 * one hub per venue on the shared simulator (sim mode), on a recording (replay mode, the venues it
 * holds) or on the live venues through one upstream connection set each (relay mode, ../relay/), the
 * websocket paths they answer, and the REST pass-through (`/<venue>/rest/...`): answered
 * by the simulator or the recording, otherwise (and always under `/live/...`) a rate-limited relay of
 * exactly the allow-listed public read-only calls to the venue's own REST host (for live use from a
 * browser whose origin the venue refuses).
 */
import { VENUE_IDS, type VenueId } from '../../src/shared/venues.ts';
import { relayGet, type RestAnswer } from '../http/rest-relay.ts';
import type { TokenBucket } from './client-socket.ts';
import { VenueHub, type VenueProtocol, type VenueSource } from './hub.ts';
import type { VenueDef, VenueRest, VenuesOptions } from './venue-def.ts';
import type { StampOf } from '../replay/venue-clock.ts';
import { RELAY_SOFT_GRACE_MS, RelaySource, UpstreamClock, type RelayVenueInfo } from '../relay/source.ts';
import { DERIBIT } from './deribit/index.ts';
import { OKX } from './okx/index.ts';
import { BYBIT } from './bybit/index.ts';
import { BINANCE } from './binance/index.ts';

export type { VenuesOptions } from './venue-def.ts';

/** Every venue's wiring, one line each: a venue in src/shared/venues.ts without its line here does not compile. */
const TABLE: Record<VenueId, VenueDef> = {
  deribit: DERIBIT,
  okx: OKX,
  bybit: BYBIT,
  binance: BINANCE,
};
// looked up as a Map: a plain object would answer `constructor` or `__proto__` with its prototype's members
const VENUE_DEFS: ReadonlyMap<VenueId, VenueDef> = new Map(VENUE_IDS.map((id) => [id, TABLE[id]]));

/** A venue's definition (capture import reads its paths and stamps). */
export function venueDef(id: VenueId): VenueDef {
  const def = VENUE_DEFS.get(id);
  if (!def) throw new Error(`not a venue: ${String(id).slice(0, 20)}`);
  return def;
}

/** The venue time a recorded frame carries, per venue: the replay player runs on it. */
export const venueStamp: StampOf = (venue, frame) => venueDef(venue).stampOf(frame);

export interface Venues {
  /** Venue names served over websocket (sim mode, or the venues of a replayed recording), in display order. */
  names: VenueId[];
  hubs: Map<VenueId, VenueHub>;
  protocols: Map<VenueId, VenueProtocol>;
  hubForPath(pathname: string): VenueHub | undefined;
  /** Whether `rest` answers this path (`/<venue>/rest/...` or `/live/<venue>/rest/...`). */
  isRestPath(pathname: string): boolean;
  /** Answers `/<venue>/rest/...`, or undefined when the path is not a venue REST path. */
  rest(pathname: string, query: URLSearchParams): Promise<RestAnswer> | undefined;
  /** Relay mode: each venue's upstream (connections, state per currency, requests, frames relayed); null otherwise. */
  relay(): Partial<Record<VenueId, RelayVenueInfo>> | null;
  /** Expiries the venue sources still list (a replay's, from the instruments the recording names), ascending. */
  listedExpiries(): number[];
  start(): void;
  stop(): void;
}

/** Path prefix of the live REST relay used by a page in live mode. */
export const LIVE_RELAY_PREFIX = '/live';

interface RestSide extends VenueRest {
  /** This server's relay budget. */
  budget: TokenBucket;
  /** The local answer (simulator or recording); absent: relay only. */
  local?: VenueSource;
}

export function createVenues(o: VenuesOptions): Venues {
  const hubs = new Map<VenueId, VenueHub>();
  const protocols = new Map<VenueId, VenueProtocol>();
  const byPath = new Map<string, VenueHub>();
  const rests: RestSide[] = [];
  for (const [id, def] of VENUE_DEFS) {
    let hub: VenueHub | undefined;
    let source: VenueSource | undefined;
    const base = { venue: id, faults: o.faults, limits: o.limits, log: o.log, ...def.hub };
    if (o.sim) {
      const sim = o.sim.sim;
      hub = new VenueHub({ ...base, clock: o.sim.clock, now: () => sim.timeMs });
      source = def.sim(hub, sim, o);
    } else if (o.replay?.venues().includes(id)) {
      const player = o.replay;
      hub = new VenueHub({ ...base, clock: player.clock, now: () => player.clock.now() });
      source = def.replay(hub, player, o);
    } else if (o.relay && (o.relay.venues?.includes(id) ?? true)) {
      const clock = new UpstreamClock();
      hub = new VenueHub({ ...base, clock, now: () => clock.now(), limits: { softGraceMs: RELAY_SOFT_GRACE_MS, ...o.limits } });
      source = new RelaySource(hub, def, clock, { fetchImpl: o.fetchImpl, log: o.log, ...o.relay });
    }
    if (hub && source) {
      const p = def.protocol(hub, source);
      hub.protocol = p;
      hubs.set(id, hub);
      protocols.set(id, p);
      for (const path of p.paths) byPath.set(path, hub);
    }
    if (def.rest) rests.push({ ...def.rest, budget: def.rest.bucket(), local: source });
  }

  // `/live/<venue>/rest/...` is the live app's relay: always the real venue, never the simulator, so a
  // live page served by a sim server can never mix simulated instruments into live figures.
  const restSide = (pathname: string): RestSide | undefined => {
    const p = pathname.startsWith(LIVE_RELAY_PREFIX + '/') ? pathname.slice(LIVE_RELAY_PREFIX.length) : pathname;
    return rests.find((r) => p.startsWith(`${r.prefix}/`));
  };

  return {
    names: [...hubs.keys()],
    hubs,
    protocols,
    hubForPath: (p) => byPath.get(p),
    isRestPath: (p) => restSide(p) !== undefined,
    rest(pathname, query) {
      const live = pathname.startsWith(LIVE_RELAY_PREFIX + '/');
      const p = live ? pathname.slice(LIVE_RELAY_PREFIX.length) : pathname;
      const side = restSide(pathname);
      if (!side) return undefined;
      const path = p.slice(side.prefix.length);
      if (side.local?.rest && !live) return Promise.resolve(side.local.rest(path, query));
      const keys = side.relayPaths.get(path);
      if (!keys) return Promise.resolve({ status: 404, body: { error: 'not a relayed path' } });
      return relayGet(side.liveBase, path, query, keys, side.budget, o.fetchImpl);
    },
    relay() {
      if (!o.relay) return null;
      return Object.fromEntries([...protocols].flatMap(([id, p]) => (p.source instanceof RelaySource ? [[id, p.source.info()]] : [])));
    },
    listedExpiries() {
      const all = new Set([...protocols.values()].flatMap((p) => p.source.listedExpiries?.() ?? []));
      return [...all].sort((a, b) => a - b);
    },
    start() {
      for (const h of hubs.values()) h.start();
    },
    stop() {
      for (const h of hubs.values()) h.stop();
    },
  };
}
