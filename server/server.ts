/**
 * The local venue server: one HTTP server that serves the built app, every venue's own protocol on its
 * own paths (venues/registry.ts: simulator or replay behind them), /__gexdesk/info and the /__sim/*
 * switches.
 * Security (issues 6 and 11): loopback by default, a Host allow-list on every request and upgrade (DNS
 * rebinding), small inbound frames, connection caps, Origin check on upgrades and on control POSTs,
 * Origin / Sec-Fetch-Site check on the venue REST paths, bounded per-client send buffers and request
 * budgets, a strict CSP on every response.
 */
import http from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { VENUES } from '../src/shared/venues.ts';
import { SimClock } from './clock.ts';
import { FaultState, parseFault } from './faults/state.ts';
import { MarketSim } from './sim/market.ts';
import { ReplayPlayer } from './replay/player.ts';
import { serveStatic } from './http/static.ts';
import type { SessionLimits } from './venues/client-socket.ts';
import type { VenueHub } from './venues/hub.ts';
import type { SessionStats } from './venues/session.ts';
import { createVenues, venueStamp, type Venues } from './venues/registry.ts';

export const DEFAULT_MAX_CONNECTIONS_PER_IP = 32;

export interface ServerOptions {
  source: 'sim' | 'replay';
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

/** How far `expireAt` may move the clock to a time that is not a listed expiry. */
export const MAX_EXPIRE_AT_JUMP_MS = 7 * 86_400_000;

/** The venues' live websocket hosts: a live page reaches the venues directly only by websocket (REST goes through this server's relay, 'self'). */
const LIVE_WS_HOSTS = VENUES.flatMap((v) => v.liveHosts.filter((h) => h.startsWith('wss://')));

export function cspHeader(hostPort: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `connect-src 'self' ws://${hostPort} ${LIVE_WS_HOSTS.join(' ')}`,
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

function isLoopbackHost(h: string): boolean {
  return LOOPBACK.has(h.replace(/^\[|\]$/g, ''));
}

/** The name in a Host header or an origin's host (`name:port`, `[::1]:port`), lower case, without brackets or a trailing dot; null when unreadable. */
export function hostNameOf(hostPort: string): string | null {
  try {
    return new URL(`http://${hostPort}`).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  } catch {
    return null;
  }
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
    sim = new MarketSim({ seed, startMs });
  } else {
    if (!opts.file) throw new Error('replay needs a recording file (--file)');
    player = ReplayPlayer.load(opts.file, { speed, loop: opts.loop ?? true, wallNow: opts.wallNow, stampOf: venueStamp });
    clock = player.clock;
  }
  const venues = createVenues({ sim: sim ? { sim, clock } : undefined, replay: player, faults, limits: opts.limits, log: opts.log, fetchImpl: opts.fetchImpl, okxBooks: opts.okxBooks });
  venues.start();
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

  const originAllowed = (origin: string | undefined, hostHeader: string | undefined): boolean => {
    if (origin === undefined) return true; // CLI tools and tests send none; browsers always do
    if (opts.allowedOrigins?.includes(origin)) return true;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return false;
    }
    if (hostHeader && u.host === hostHeader) return true;
    if (u.host === boundHostPort) return true;
    // while bound to loopback, other local dev servers (vite on :5173) may connect
    return isLoopbackHost(host) && isLoopbackHost(u.hostname);
  };

  // DNS rebinding: a page whose name the attacker points at 127.0.0.1 sends its own name as Host (and
  // as Origin, so the Origin check alone passes). An IP literal cannot be rebound, nor can localhost.
  const allowedHostNames = new Set<string>();
  for (const h of [host, ...(opts.allowedHosts ?? []), ...(opts.allowedOrigins ?? []).map((o) => URL.canParse(o) ? new URL(o).host : '')]) {
    const n = h ? hostNameOf(h) : null;
    if (n) allowedHostNames.add(n);
  }
  const hostAllowed = (hostHeader: string | undefined): boolean => {
    if (hostHeader === undefined) return true; // HTTP/1.0 tools; a browser always sends one
    const name = hostNameOf(hostHeader);
    if (name === null) return false;
    return isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || allowedHostNames.has(name);
  };

  // A cross-site page must not spend the relay's budget or the simulator's time: a CORS request carries
  // an Origin (checked as for the control POSTs); a no-cors one (img, script, a form GET) carries only
  // Sec-Fetch-Site in browsers that send it.
  const restAllowed = (req: http.IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin !== undefined) return originAllowed(origin, req.headers.host);
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  };

  const hostForCsp = (req: http.IncomingMessage): string => {
    const h = req.headers.host;
    return h && /^[A-Za-z0-9.\-:[\]]{1,100}$/.test(h) ? h : boundHostPort;
  };

  const securityHeaders = (req: http.IncomingMessage): Record<string, string> => ({
    'content-security-policy': cspHeader(hostForCsp(req)),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'same-origin',
  });

  const json = (res: http.ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  };

  const info = () => ({
    source: opts.source,
    seed: opts.source === 'sim' ? seed : null,
    speed,
    simTimeMs: Math.floor(clock.now()),
    // replay: the venues the recording holds, in display order
    venues: venues.names,
    paused: clock.paused,
    faults: faults.list(),
    // every venue's sockets, and each venue's sessions
    connections: total,
    sessions: Object.fromEntries(hubs.map((h) => [h.venue, h.sessions.size])),
    // throws caught in message handling and ticks, by venue and cause (empty when all is well)
    errors: Object.fromEntries([...hubs.map((h) => h.errors), ...(player ? [player.errors] : [])].filter((e) => e.total > 0).map((e) => [e.venue, e.snapshot()])),
    ...(player ? { replay: player.report } : {}),
  });

  /** A control body of at most 4 KiB; undefined when larger (the rest is not read). */
  const readBody = (req: http.IncomingMessage): Promise<string | undefined> =>
    new Promise((resolve, rejectP) => {
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 4096) {
          req.removeAllListeners('data');
          req.pause();
          resolve(undefined);
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', rejectP);
    });

  const applyFault = (body: unknown): { code: number; body: unknown } => {
    const f = parseFault(body);
    if (typeof f === 'string') return { code: 400, body: { ok: false, error: f } };
    let effect: Record<string, unknown> = {};
    // a `venue` param scopes every switch to that venue's sockets
    const scope = f.params.venue;
    const scoped = hubs.filter((h) => scope === undefined || scope === h.venue);
    const sum = (each: (h: VenueHub) => number) => scoped.reduce((n, h) => n + each(h), 0);
    switch (f.kind) {
      case 'drop':
        effect = { dropped: sum((h) => h.dropAll()) };
        break;
      case 'oversize':
        effect = { sent: sum((h) => h.sendOversize()) };
        break;
      case 'gap':
        effect = { armed: sum((h) => h.armGap()) };
        break;
      case 'expireAt': {
        const listed = sim ? sim.listedExpiries() : venues.listedExpiries();
        const target = f.params.expiryMs !== undefined ? Number(f.params.expiryMs) : listed[0];
        if (target === undefined) return { code: 400, body: { ok: false, error: 'no expiry to pass' } };
        // a listed expiry, or a bounded jump: the venue clock is not a time machine
        if (!listed.includes(target) && target - clock.now() > MAX_EXPIRE_AT_JUMP_MS) return { code: 400, body: { ok: false, error: `expiryMs must be a listed expiry or at most ${MAX_EXPIRE_AT_JUMP_MS / 86_400_000} days ahead` } };
        // `beforeMs`: stop that long before the expiry (the hour before 08:00 is a view of its own)
        const before = f.params.beforeMs !== undefined ? Number(f.params.beforeMs) : 0;
        if (target - before > clock.now()) clock.jumpTo(target - before);
        for (const h of hubs) h.tickNow(); // announce the roll now
        effect = { simTimeMs: Math.floor(clock.now()) };
        break;
      }
      default:
        faults.set(f);
    }
    log(`fault: ${f.kind} ${JSON.stringify(f.params)}`);
    return { code: 200, body: { ok: true, kind: f.kind, active: faults.list(), ...effect } };
  };

  const server = http.createServer({ maxHeaderSize: 20_000 }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://local');
      for (const [k, v] of Object.entries(securityHeaders(req))) res.setHeader(k, v);
      if (!hostAllowed(req.headers.host)) {
        reject('host');
        return json(res, 400, { ok: false, error: 'host not allowed (start the server with --allow-host NAME to reach it by that name)' });
      }
      const p = url.pathname;
      if (p === '/__gexdesk/info' && (req.method === 'GET' || req.method === 'HEAD')) return json(res, 200, info());
      if (req.method === 'GET' && venues.isRestPath(p)) {
        if (!restAllowed(req)) {
          reject('crossSiteRest');
          return json(res, 403, { ok: false, error: 'cross-site request refused' });
        }
        const r = await venues.rest(p, url.searchParams)!;
        return json(res, r.status, r.body);
      }
      if (p.startsWith('/__sim/')) {
        if (req.method !== 'POST') return json(res, 405, { ok: false, error: 'POST only' });
        // a foreign page must not be able to flip switches through a simple cross-site POST
        if (!originAllowed(req.headers.origin, req.headers.host)) return json(res, 403, { ok: false, error: 'origin not allowed' });
        let body: unknown;
        try {
          const text = await readBody(req);
          if (text === undefined) {
            res.setHeader('connection', 'close');
            res.once('finish', () => req.destroy());
            return json(res, 413, { ok: false, error: 'body over 4096 bytes' });
          }
          body = text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          return json(res, 400, { ok: false, error: 'invalid JSON body' });
        }
        switch (p) {
          case '/__sim/fault': {
            const r = applyFault(body);
            return json(res, r.code, r.body);
          }
          case '/__sim/clear':
            faults.clear();
            return json(res, 200, { ok: true, active: [] });
          case '/__sim/pause':
            clock.pause();
            return json(res, 200, { ok: true, paused: true, simTimeMs: Math.floor(clock.now()) });
          case '/__sim/resume':
            clock.resume();
            return json(res, 200, { ok: true, paused: false, simTimeMs: Math.floor(clock.now()) });
          default:
            return json(res, 404, { ok: false, error: 'unknown control endpoint' });
        }
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { ok: false, error: 'method not allowed' });
      if (opts.serveDir) return serveStatic(opts.serveDir, req, res, p);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      const paths = [...venues.protocols].map(([v, pr]) => `${v}: ${pr.paths.map((p) => `ws://${hostForCsp(req)}${p}`).join(' ')}`);
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
    if (!hostAllowed(req.headers.host)) return refuseUpgrade(socket, 400, 'Bad Request');
    const url = new URL(req.url ?? '/', 'http://local');
    const venueHub = venues.hubForPath(url.pathname);
    if (!venueHub) return refuseUpgrade(socket, 404, 'Not Found');
    if (faults.on('refuse', venueHub.venue)) return refuseUpgrade(socket, 503, 'Service Unavailable');
    if (!originAllowed(req.headers.origin, req.headers.host)) return refuseUpgrade(socket, 403, 'Forbidden');
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
      player?.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
