/**
 * The non-Deribit venues of the local server: one hub per venue on the shared simulator (sim mode) or
 * on a recording (replay mode, the venues it holds), the websocket paths they answer, and the REST
 * pass-through (`/<venue>/rest/...`): answered by the simulator or the recording, otherwise (and always
 * under `/live/...`) a rate-limited relay of exactly the allow-listed public read-only calls to the
 * venue's own REST host (for live use from a browser whose origin the venue refuses).
 */
import type { SimClock } from '../clock.ts';
import type { FaultState } from '../faults/state.ts';
import type { MarketSim } from '../sim/market.ts';
import { TokenBucket, type SessionLimits } from './client-socket.ts';
import { VenueHub, type VenueHubOptions, type VenueName, type VenueProtocol, type VenueSource } from './hub.ts';
import { relayGet, type RestAnswer } from '../http/rest-relay.ts';
import { OKX_LIVE_BASE, OKX_RELAY_PATHS, OKX_REST_PREFIX, OKX_SESSION, OkxProtocol, type OkxBooksMode } from './okx/protocol.ts';
import { OkxSim } from './okx/sim.ts';
import { BINANCE_LIVE_BASE, BINANCE_PING_MS, BINANCE_RELAY_PATHS, BINANCE_REST_PREFIX, BINANCE_SESSION, BinanceProtocol } from './binance/protocol.ts';
import { BinanceSim } from './binance/sim.ts';
import { BYBIT_IDLE_CLOSE_MS, BYBIT_LIVE_BASE, BYBIT_RELAY_PATHS, BYBIT_REST_PREFIX, BYBIT_SESSION, BybitProtocol } from './bybit/protocol.ts';
import { BybitSim } from './bybit/sim.ts';
import { okxReplay } from './okx/replay.ts';
import { BYBIT_REPLAY } from './bybit/replay.ts';
import { BINANCE_REPLAY } from './binance/replay.ts';
import { ReplayVenueSource, type ReplaySpec } from '../replay/venue-source.ts';
import type { ReplayPlayer } from '../replay/player.ts';

interface RestSide {
  prefix: string;
  liveBase: string;
  relayPaths: ReadonlyMap<string, readonly string[]>;
  /** Relay budget (requests/s, burst), under the venue's own public limit. */
  bucket: TokenBucket;
  /** The local answer (simulator or recording); absent: relay only. */
  local?: VenueSource;
}

/** One venue's wiring: its protocol, hub rules and REST side. */
interface VenueDef {
  venue: VenueName;
  protocol: (hub: VenueHub, source: VenueSource) => VenueProtocol;
  sim: (hub: VenueHub, sim: MarketSim, o: VenuesOptions) => VenueSource;
  replay: (o: VenuesOptions) => ReplaySpec;
  hub: Pick<VenueHubOptions, 'session' | 'idleCloseMs' | 'pingEveryMs'>;
  rest: Omit<RestSide, 'local' | 'bucket'>;
  /** Relay budget per server (requests/s, burst). */
  bucket: () => TokenBucket;
}

const VENUE_DEFS: VenueDef[] = [
  // OKX public REST: 20 requests / 2 s per IP for instruments; we relay at most 5/s.
  { venue: 'okx', protocol: (h, src) => new OkxProtocol(h, src), sim: (h, sim, o) => new OkxSim(h, sim, o.okxBooks), replay: (o) => okxReplay(o.okxBooks), hub: { session: OKX_SESSION }, rest: { prefix: OKX_REST_PREFIX, liveBase: OKX_LIVE_BASE, relayPaths: OKX_RELAY_PATHS }, bucket: () => new TokenBucket(5, 5) },
  // Bybit market endpoints: 600 requests / 5 s per IP; we relay at most 5/s.
  { venue: 'bybit', protocol: (h, src) => new BybitProtocol(h, src), sim: (h, sim) => new BybitSim(h, sim), replay: () => BYBIT_REPLAY, hub: { session: BYBIT_SESSION, idleCloseMs: BYBIT_IDLE_CLOSE_MS }, rest: { prefix: BYBIT_REST_PREFIX, liveBase: BYBIT_LIVE_BASE, relayPaths: BYBIT_RELAY_PATHS }, bucket: () => new TokenBucket(5, 5) },
  // Binance eapi: weight 1 for exchangeInfo, 400 weight/min per IP; we relay at most 1/s.
  { venue: 'binance', protocol: (h, src) => new BinanceProtocol(h, src), sim: (h, sim) => new BinanceSim(h, sim), replay: () => BINANCE_REPLAY, hub: { session: BINANCE_SESSION, pingEveryMs: BINANCE_PING_MS }, rest: { prefix: BINANCE_REST_PREFIX, liveBase: BINANCE_LIVE_BASE, relayPaths: BINANCE_RELAY_PATHS }, bucket: () => new TokenBucket(2, 1) },
];

export interface Venues {
  /** Venue names served over websocket (sim mode, or the venues of a replayed recording), in display order. */
  names: VenueName[];
  hubs: Map<VenueName, VenueHub>;
  protocols: Map<VenueName, VenueProtocol>;
  hubForPath(pathname: string): VenueHub | undefined;
  /** Whether `rest` answers this path (`/<venue>/rest/...` or `/live/<venue>/rest/...`). */
  isRestPath(pathname: string): boolean;
  /** Answers `/<venue>/rest/...`, or undefined when the path is not a venue REST path. */
  rest(pathname: string, query: URLSearchParams): Promise<RestAnswer> | undefined;
  start(): void;
  stop(): void;
}

export interface VenuesOptions {
  /** Sim mode: the venues speak their protocols over the simulated market. */
  sim?: { sim: MarketSim; clock: SimClock };
  /** Replay mode: the venues the recording holds speak their protocols over it. */
  replay?: ReplayPlayer;
  faults: FaultState;
  limits?: Partial<SessionLimits>;
  /** Where a hub logs a caught error (once per cause). */
  log?: (line: string) => void;
  /** Injected fetch for the live relay (tests). */
  fetchImpl?: typeof fetch;
  /** OKX `books` as the venue serves them now (default in sim) or before 2026; replay: by the recording unless set. */
  okxBooks?: OkxBooksMode;
}

/** Path prefix of the live REST relay used by a page in live mode. */
export const LIVE_RELAY_PREFIX = '/live';

export function createVenues(o: VenuesOptions): Venues {
  const hubs = new Map<VenueName, VenueHub>();
  const protocols = new Map<VenueName, VenueProtocol>();
  const byPath = new Map<string, VenueHub>();
  const rests: RestSide[] = [];
  for (const def of VENUE_DEFS) {
    let hub: VenueHub | undefined;
    let source: VenueSource | undefined;
    const base = { venue: def.venue, faults: o.faults, limits: o.limits, log: o.log, ...def.hub };
    if (o.sim) {
      const sim = o.sim.sim;
      hub = new VenueHub({ ...base, clock: o.sim.clock, now: () => sim.timeMs });
      source = def.sim(hub, sim, o);
    } else if (o.replay?.venues().includes(def.venue)) {
      const player = o.replay;
      hub = new VenueHub({ ...base, clock: player.clock, now: () => player.clock.now() });
      source = new ReplayVenueSource(hub, player, def.replay(o));
    }
    if (hub && source) {
      const p = def.protocol(hub, source);
      hub.protocol = p;
      hubs.set(def.venue, hub);
      protocols.set(def.venue, p);
      for (const path of p.paths) byPath.set(path, hub);
    }
    rests.push({ ...def.rest, bucket: def.bucket(), local: source });
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
      if (side.local && !live) return Promise.resolve(side.local.rest(path, query));
      const keys = side.relayPaths.get(path);
      if (!keys) return Promise.resolve({ status: 404, body: { error: 'not a relayed path' } });
      return relayGet(side.liveBase, path, query, keys, side.bucket, o.fetchImpl);
    },
    start() {
      for (const h of hubs.values()) h.start();
    },
    stop() {
      for (const h of hubs.values()) h.stop();
    },
  };
}
