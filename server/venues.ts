/**
 * The non-Deribit venues of the local server: one hub per venue on the shared simulator, the
 * websocket paths they answer, and the REST pass-through (`/<venue>/rest/...`): simulated answers in
 * sim mode, otherwise a rate-limited relay of exactly the allow-listed public read-only calls to the
 * venue's own REST host (for live use from a browser whose origin the venue refuses).
 */
import type { SimClock } from './clock.ts';
import type { FaultState } from './faults.ts';
import type { MarketSim } from './sim/market.ts';
import { TokenBucket, VenueHub, relayGet, type RestAnswer, type VenueLimits, type VenueName, type VenueProtocol } from './venue-hub.ts';
import { OKX_LIVE_BASE, OKX_RELAY_PATHS, OKX_REST_PREFIX, OkxProtocol } from './okx/protocol.ts';
import { BINANCE_LIVE_BASE, BINANCE_PING_MS, BINANCE_RELAY_PATHS, BINANCE_REST_PREFIX, BinanceProtocol } from './binance/protocol.ts';
import { BYBIT_IDLE_CLOSE_MS, BYBIT_LIVE_BASE, BYBIT_RELAY_PATHS, BYBIT_REST_PREFIX, BybitProtocol } from './bybit/protocol.ts';

interface RestSide {
  prefix: string;
  liveBase: string;
  relayPaths: Record<string, readonly string[]>;
  /** Relay budget (requests/s, burst), under the venue's own public limit. */
  bucket: TokenBucket;
  sim?: (path: string, q: URLSearchParams) => RestAnswer;
}

export interface Venues {
  /** Venue names served over websocket (sim mode), in display order. */
  names: VenueName[];
  hubs: Map<VenueName, VenueHub>;
  protocols: Map<VenueName, VenueProtocol>;
  hubForPath(pathname: string): VenueHub | undefined;
  /** Answers `/<venue>/rest/...`, or undefined when the path is not a venue REST path. */
  rest(pathname: string, query: URLSearchParams): Promise<RestAnswer> | undefined;
  start(): void;
  stop(): void;
}

export interface VenuesOptions {
  /** Present in sim mode: the venues speak their protocols over it. Absent: REST relay only. */
  sim?: { sim: MarketSim; clock: SimClock };
  faults: FaultState;
  limits?: Partial<VenueLimits>;
  /** Injected fetch for the live relay (tests). */
  fetchImpl?: typeof fetch;
}

/** Path prefix of the live REST relay used by a page in live mode. */
export const LIVE_RELAY_PREFIX = '/live';

export function createVenues(o: VenuesOptions): Venues {
  const hubs = new Map<VenueName, VenueHub>();
  const protocols = new Map<VenueName, VenueProtocol>();
  const byPath = new Map<string, VenueHub>();
  const rests: RestSide[] = [];
  const add = <P extends VenueProtocol>(hub: VenueHub, make: (h: VenueHub) => P): P => {
    const p = make(hub);
    hub.protocol = p;
    hubs.set(hub.venue, hub);
    protocols.set(hub.venue, p);
    for (const path of p.paths) byPath.set(path, hub);
    return p;
  };

  let okx: OkxProtocol | undefined;
  let bybit: BybitProtocol | undefined;
  let binance: BinanceProtocol | undefined;
  if (o.sim) {
    const base = { sim: o.sim.sim, clock: o.sim.clock, faults: o.faults, limits: o.limits };
    okx = add(new VenueHub({ ...base, venue: 'okx' }), (h) => new OkxProtocol(h));
    bybit = add(new VenueHub({ ...base, venue: 'bybit', idleCloseMs: BYBIT_IDLE_CLOSE_MS }), (h) => new BybitProtocol(h));
    binance = add(new VenueHub({ ...base, venue: 'binance', pingEveryMs: BINANCE_PING_MS }), (h) => new BinanceProtocol(h));
  }
  // OKX public REST: 20 requests / 2 s per IP for instruments; we relay at most 5/s.
  rests.push({ prefix: OKX_REST_PREFIX, liveBase: OKX_LIVE_BASE, relayPaths: OKX_RELAY_PATHS, bucket: new TokenBucket(5, 5), sim: okx ? (p, q) => okx.rest(p, q) : undefined });
  // Bybit market endpoints: 600 requests / 5 s per IP; we relay at most 5/s.
  rests.push({ prefix: BYBIT_REST_PREFIX, liveBase: BYBIT_LIVE_BASE, relayPaths: BYBIT_RELAY_PATHS, bucket: new TokenBucket(5, 5), sim: bybit ? (p, q) => bybit.rest(p, q) : undefined });
  // Binance eapi: weight 1 for exchangeInfo, 400 weight/min per IP; we relay at most 1/s.
  rests.push({ prefix: BINANCE_REST_PREFIX, liveBase: BINANCE_LIVE_BASE, relayPaths: BINANCE_RELAY_PATHS, bucket: new TokenBucket(2, 1), sim: binance ? (p) => binance.rest(p) : undefined });

  return {
    names: [...hubs.keys()],
    hubs,
    protocols,
    hubForPath: (p) => byPath.get(p),
    rest(pathname, query) {
      // `/live/<venue>/rest/...` is the live app's relay: always the real venue, never the simulator,
      // so a live page served by a sim server can never mix simulated instruments into live figures.
      const live = pathname.startsWith(LIVE_RELAY_PREFIX + '/');
      const p = live ? pathname.slice(LIVE_RELAY_PREFIX.length) : pathname;
      const side = rests.find((r) => p.startsWith(`${r.prefix}/`));
      if (!side) return undefined;
      const path = p.slice(side.prefix.length);
      if (side.sim && !live) return Promise.resolve(side.sim(path, query));
      const keys = side.relayPaths[path];
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
