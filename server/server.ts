/**
 * The local venue server, its public entry (`startServer`): one HTTP server that serves the built app,
 * every venue's own protocol on its own paths (venues/registry.ts: simulator or replay behind them),
 * /__gexdesk/info and the /__sim/* switches (http/control.ts).
 * Security (issues 6 and 11): loopback by default, a Host allow-list on every request and upgrade (DNS
 * rebinding), small inbound frames, connection caps, Origin check on upgrades and on control POSTs,
 * Origin / Sec-Fetch-Site check on the venue REST paths (http/access.ts), bounded per-client send
 * buffers and request budgets (venues/client-socket.ts), a strict CSP on every response (http/headers.ts).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SimClock } from './clock.ts';
import { FaultState } from './faults/state.ts';
import { MarketSim } from './sim/market.ts';
import type { TradeKnobs } from './sim/trade-book.ts';
import { ReplayPlayer } from './replay/player.ts';
import { createAccess } from './http/access.ts';
import { createControl } from './http/control.ts';
import { hostOf, json, securityHeaders } from './http/headers.ts';
import { serveStatic } from './http/static.ts';
import type { SessionLimits } from './venues/client-socket.ts';
import type { VenueHub } from './venues/hub.ts';
import type { SessionStats } from './venues/session.ts';
import { createVenues, venueStamp, type Venues } from './venues/registry.ts';
import type { RelayOptions } from './relay/source.ts';
import { NatsBus, type NatsOptions } from './relay/nats.ts';

export const DEFAULT_MAX_CONNECTIONS_PER_IP = 32;

export interface ServerOptions {
  /** `live`: the relay of the live venues (or of `relay.upstreamBase`, another local server). */
  source: 'sim' | 'replay' | 'live';
  /** The live relay's options (source=live). */
  relay?: RelayOptions;
  /** Live relay past one machine (server/relay/nats.ts): the NATS server and this process's part. */
  nats?: NatsOptions;
  seed?: number;
  speed?: number;
  port?: number;
  host?: string;
  serveDir?: string;
  /** Simulated start time (ms); default now. */
  startMs?: number;
  /** Recording to replay (source=replay). */
  file?: string;
  /** Replay: loop at the end (default) or stop. */
  loop?: boolean;
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  /** Extra allowed Origin values for websocket upgrades and control POSTs (e.g. the vite dev server). */
  allowedOrigins?: string[];
  /**
   * Extra host names a request may name in its Host header (a desk reaching the server by the
   * machine's name). IP addresses, localhost, *.localhost, `host` and the names of `allowedOrigins`
   * are always allowed.
   */
  allowedHosts?: string[];
  /** Injected fetch for the live REST relay (tests). */
  fetchImpl?: typeof fetch;
  /** Overrides of every venue's session rules and send buffers (tests). */
  limits?: Partial<SessionLimits>;
  /**
   * OKX `books`: `current` (the venue since 23 June 2026: checksum 0, snapshot only over REST; the sim's
   * default) or `legacy` (a snapshot pushed on subscribe, CRC32 checksums). Replay: as the recording was
   * made (pushed snapshots in it mean legacy) unless set.
   */
  okxBooks?: 'current' | 'legacy';
  /** Injected wall clock (tests). */
  wallNow?: () => number;
  /** The simulator's trading (tape, hidden book): trades a minute, the shares of dealer-taker and customer-to-customer trades, days of pre-history. */
  trades?: Partial<TradeKnobs>;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  close(): Promise<void>;
  sim?: MarketSim;
  /** The replay clock and timeline of every venue in the recording. */
  player?: ReplayPlayer;
  clock: SimClock;
  /**
   * Deribit's hub (the tests that drive the Deribit client read its sessions and request log); throws
   * when the server has no Deribit (a replay of a recording without it).
   */
  readonly hub: VenueHub;
  faults: FaultState;
  /** Every venue's hub, protocol and REST pass-through. */
  venues: Venues;
  /** Every venue's sockets and sessions, sessions dropped for not reading, refused requests by reason. */
  stats(): { connections: number; sessions: SessionStats[]; closedSlow: number; rejected: Record<string, number> };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const speed = opts.speed ?? 1;
  const seed = opts.seed ?? 42;
  const log = opts.log ?? (() => undefined);
  const maxConn = opts.maxConnections ?? 250;
  // A page on all four venues opens 6 sockets (Deribit 1, OKX 1, Bybit 2, Binance 2) and on loopback
  // every tab of a desk shares one address: 8 (reliability.md, for a server shared by screens) refused a
  // second such tab. 32 is five.
  const maxPerIp = opts.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP;
  const faults = new FaultState();
  const rejected: Record<string, number> = {};
  const reject = (r: string) => (rejected[r] = (rejected[r] ?? 0) + 1);

  let sim: MarketSim | undefined;
  let player: ReplayPlayer | undefined;
  let clock: SimClock;
  if (opts.source === 'sim') {
    const startMs = opts.startMs ?? Date.now();
    clock = new SimClock(startMs, speed, opts.wallNow);
    sim = new MarketSim({ seed, startMs, trades: opts.trades });
  } else if (opts.source === 'live') {
    clock = new SimClock(Date.now(), 1, opts.wallNow);
  } else {
    if (!opts.file) throw new Error('replay needs a recording file (--file)');
    player = ReplayPlayer.load(opts.file, { speed, loop: opts.loop ?? true, wallNow: opts.wallNow, stampOf: venueStamp });
    clock = player.clock;
  }
  const bus = opts.source === 'live' && opts.nats ? await NatsBus.connect(opts.nats, log) : undefined;
  const venues = createVenues({ sim: sim ? { sim, clock } : undefined, replay: player, relay: opts.source === 'live' ? { ...opts.relay, nats: bus, log: opts.relay?.log ?? opts.log } : undefined, faults, limits: opts.limits, log: opts.log, fetchImpl: opts.fetchImpl, okxBooks: opts.okxBooks });
  venues.start();
  // a relay's clock is the upstream venue's (Deribit's hub follows its stamps)
  if (opts.source === 'live') clock = venues.hubs.get('deribit')?.clock ?? clock;
  const hubs = [...venues.hubs.values()];
  if (player) {
    player.seal(); // every venue's frames are on the timeline now
    const r = player.report;
    const perVenue = Object.entries(r.venues).map(([v, c]) => `${v} ${c.frames} frames${c.rest ? ` + ${c.rest} REST` : ''}`).join(', ');
    log(`replay: ${r.frames} frames (${perVenue || 'none'}; Deribit ${r.notifications} notifications, ${r.responses} responses) from ${opts.file}, span ${(r.spanMs / 1000).toFixed(1)} s; ${r.badLines} bad line(s) skipped${r.badLines ? ' ' + JSON.stringify(r.badReasons) : ''}; ${r.loop ? 'loops' : 'stops'} at the end`);
  }

  const perIp = new Map<string, number>();
  let total = 0;
  let boundHostPort = '';
  const access = createAccess({ host, allowedOrigins: opts.allowedOrigins, allowedHosts: opts.allowedHosts, boundHostPort: () => boundHostPort });
  const control = createControl({ source: opts.source, seed, speed, clock, sim, player, venues, faults, connections: () => total, log });

  const server = http.createServer({ maxHeaderSize: 20_000 }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://local');
      for (const [k, v] of Object.entries(securityHeaders(hostOf(req, boundHostPort)))) res.setHeader(k, v);
      if (!access.hostAllowed(req.headers.host)) {
        reject('host');
        return json(res, 400, { ok: false, error: 'host not allowed (start the server with --allow-host NAME to reach it by that name)' });
      }
      const p = url.pathname;
      if (p === '/__gexdesk/info' && (req.method === 'GET' || req.method === 'HEAD')) return json(res, 200, control.info());
      if (p === '/__gexdesk/book' && (req.method === 'GET' || req.method === 'HEAD')) {
        const r = control.book(url.searchParams);
        return json(res, r.code, r.body);
      }
      if (req.method === 'GET' && venues.isRestPath(p)) {
        if (!access.restAllowed(req)) {
          reject('crossSiteRest');
          return json(res, 403, { ok: false, error: 'cross-site request refused' });
        }
        const r = await venues.rest(p, url.searchParams)!;
        return json(res, r.status, r.body);
      }
      if (p.startsWith('/__sim/')) {
        if (req.method !== 'POST') return json(res, 405, { ok: false, error: 'POST only' });
        // a foreign page must not be able to flip switches through a simple cross-site POST
        if (!access.originAllowed(req.headers.origin, req.headers.host)) return json(res, 403, { ok: false, error: 'origin not allowed' });
        return control.handle(req, res, p);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { ok: false, error: 'method not allowed' });
      if (opts.serveDir) return serveStatic(opts.serveDir, req, res, p);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      const paths = [...venues.protocols].map(([v, pr]) => `${v}: ${pr.paths.map((x) => `ws://${hostOf(req, boundHostPort)}${x}`).join(' ')}`);
      res.end(`gexdesk local venue server (source=${opts.source}).\n${paths.join('\n')}\nInfo: /__gexdesk/info\nNo app served (start with --serve dist).\n`);
    })().catch((e: unknown) => {
      log(`http error: ${String(e)}`);
      if (!res.headersSent) json(res, 500, { ok: false, error: 'internal error' });
      else res.destroy();
    });
  });

  const refuseUpgrade = (socket: Socket, code: number, text: string) => {
    reject(String(code));
    socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${text.length}\r\n\r\n${text}`);
  };

  server.on('upgrade', (req, socket: Socket, head) => {
    socket.on('error', () => undefined);
    if (!access.hostAllowed(req.headers.host)) return refuseUpgrade(socket, 400, 'Bad Request');
    const url = new URL(req.url ?? '/', 'http://local');
    const venueHub = venues.hubForPath(url.pathname);
    if (!venueHub) return refuseUpgrade(socket, 404, 'Not Found');
    if (faults.on('refuse', venueHub.venue)) return refuseUpgrade(socket, 503, 'Service Unavailable');
    if (!access.originAllowed(req.headers.origin, req.headers.host)) return refuseUpgrade(socket, 403, 'Forbidden');
    const ip = socket.remoteAddress ?? '?';
    if (total >= maxConn) return refuseUpgrade(socket, 503, 'Service Unavailable');
    if ((perIp.get(ip) ?? 0) >= maxPerIp) return refuseUpgrade(socket, 429, 'Too Many Requests');
    total++;
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      total--;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip);
      else perIp.set(ip, n);
    };
    socket.once('close', release);
    venueHub.accept(req, socket, head, url.pathname, ip, (s) => {
      s.ws.once('close', release);
      if (venueHub.fault('flap')) setTimeout(() => s.close(1000, 'flap'), 200);
    });
  });

  await new Promise<void>((resolve, rejectP) => {
    server.once('error', rejectP);
    server.listen(opts.port ?? 8787, host, () => {
      server.off('error', rejectP);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  boundHostPort = `${urlHost}:${addr.port}`;

  let closed = false;
  return {
    url: `http://${boundHostPort}`,
    port: addr.port,
    host: addr.address,
    sim,
    player,
    clock,
    get hub(): VenueHub {
      const h = venues.hubs.get('deribit');
      if (!h) throw new Error('this server has no Deribit (a replay of a recording without it)');
      return h;
    },
    faults,
    venues,
    stats: () => {
      const sessions = hubs.flatMap((h) => [...h.sessions]);
      return { connections: sessions.length, sessions: sessions.map((s) => s.stats), closedSlow: hubs.reduce((n, h) => n + h.closedSlow, 0), rejected: { ...rejected } };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      venues.stop();
      await bus?.close();
      player?.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
