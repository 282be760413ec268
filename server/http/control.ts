/**
 * The server's control side: `GET /__gexdesk/info` (what it serves and how it is doing) and the
 * `POST /__sim/*` switches (faults, clear, pause, resume). A fault with a `venue` param acts on that
 * venue's hub only; without one, on every venue's.
 */
import type http from 'node:http';
import type { SimClock } from '../clock.ts';
import { parseFault, type FaultState } from '../faults/state.ts';
import type { ReplayPlayer } from '../replay/player.ts';
import type { MarketSim } from '../sim/market.ts';
import type { VenueHub } from '../venues/hub.ts';
import type { Venues } from '../venues/registry.ts';
import { json } from './headers.ts';
import { parseTradeKnobs } from '../sim/trade-book.ts';

/** How far `expireAt` may move the clock to a time that is not a listed expiry. */
export const MAX_EXPIRE_AT_JUMP_MS = 7 * 86_400_000;
/** Largest control body, bytes. */
const MAX_BODY_BYTES = 4096;

export interface Controlled {
  source: 'sim' | 'replay' | 'live';
  seed: number;
  speed: number;
  clock: SimClock;
  sim?: MarketSim;
  player?: ReplayPlayer;
  venues: Venues;
  faults: FaultState;
  /** Every venue's open sockets. */
  connections: () => number;
  log: (line: string) => void;
}

export interface Control {
  info(): Record<string, unknown>;
  /** `GET /__gexdesk/book?venue=&currency=`: the simulator's hidden dealer positions and listing times (404 outside sim mode). */
  book(q: URLSearchParams): { code: number; body: unknown };
  /** Answers a request under `/__sim/`. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void>;
}

export function createControl(c: Controlled): Control {
  const { clock, faults, venues, player } = c;
  const hubs = [...venues.hubs.values()];

  const info = () => ({
    source: c.source,
    seed: c.source === 'sim' ? c.seed : null,
    speed: c.speed,
    simTimeMs: Math.floor(clock.now()),
    // replay: the venues the recording holds, in display order
    venues: venues.names,
    paused: clock.paused,
    faults: faults.list(),
    // every venue's sockets, and each venue's sessions
    connections: c.connections(),
    sessions: Object.fromEntries(hubs.map((h) => [h.venue, h.sessions.size])),
    // trade history requests answered per venue (Deribit's history method, the others' recent-trades REST)
    tradeHistoryRequests: Object.fromEntries(hubs.map((h) => [h.venue, h.tradeHistoryRequests])),
    // throws caught in message handling and ticks, by venue and cause (empty when all is well)
    errors: Object.fromEntries([...hubs.map((h) => h.errors), ...(player ? [player.errors] : [])].filter((e) => e.total > 0).map((e) => [e.venue, e.snapshot()])),
    ...(player ? { replay: player.report } : {}),
    // the live relay's upstream per venue: what a screen's status bar shows as the relay's health
    ...(c.source === 'live' ? { relay: venues.relay() } : {}),
    // the simulator's trading knobs (POST /__sim/trades sets them)
    ...(c.sim ? { trades: c.sim.tradeKnobs } : {}),
  });

  const book = (q: URLSearchParams): { code: number; body: unknown } => {
    const venue = q.get('venue') ?? 'deribit';
    const hub = hubs.find((h) => h.venue === venue);
    const tb = hub?.protocol.source.tradeBook;
    if (!c.sim || !tb) return { code: 404, body: { ok: false, error: c.sim ? `no such venue: ${venue.slice(0, 20)}` : 'no simulator (the hidden book is the simulator\'s)' } };
    const currency = q.get('currency') ?? 'BTC';
    if (currency !== 'BTC' && currency !== 'ETH') return { code: 400, body: { ok: false, error: 'currency must be BTC or ETH' } };
    const timeMs = c.sim.timeMs;
    const lines = tb.knownLines(currency).map((l) => ({
      instrument: l.name,
      listedMs: l.def.createdMs,
      expiryMs: l.def.expiryMs,
      // contracts in the unit of the line's open interest; negative: the dealer is short
      dealer: tb.dealerPosition(l, timeMs),
      openInterest: tb.openInterest(l, timeMs),
    }));
    return { code: 200, body: { venue, currency, timeMs, historyStartMs: tb.historyStartMs(), knobs: c.sim.tradeKnobs, lines } };
  };

  const applyFault = (body: unknown): { code: number; body: unknown } => {
    const f = parseFault(body);
    if (typeof f === 'string') return { code: 400, body: { ok: false, error: f } };
    let effect: Record<string, unknown> = {};
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
        const listed = c.sim ? c.sim.listedExpiries() : venues.listedExpiries();
        const target = f.params.expiryMs !== undefined ? Number(f.params.expiryMs) : listed[0];
        if (target === undefined) return { code: 400, body: { ok: false, error: 'no expiry to pass' } };
        // a listed expiry, or a bounded jump: the venue clock is not a time machine
        if (!listed.includes(target) && target - clock.now() > MAX_EXPIRE_AT_JUMP_MS) return { code: 400, body: { ok: false, error: `expiryMs must be a listed expiry or at most ${MAX_EXPIRE_AT_JUMP_MS / 86_400_000} days ahead` } };
        // `beforeMs`: stop that long before the expiry (the hour before 08:00 is a view of its own)
        const before = f.params.beforeMs !== undefined ? Number(f.params.beforeMs) : 0;
        if (target - before > clock.now()) clock.jumpTo(target - before);
        for (const h of hubs) h.tickNow(); // the venue clock moves for every venue: announce the roll now
        effect = { simTimeMs: Math.floor(clock.now()) };
        break;
      }
      default:
        faults.set(f);
    }
    c.log(`fault: ${f.kind} ${JSON.stringify(f.params)}`);
    return { code: 200, body: { ok: true, kind: f.kind, active: faults.list(), ...effect } };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> => {
    let body: unknown;
    try {
      const text = await readBody(req);
      if (text === undefined) {
        res.setHeader('connection', 'close');
        res.once('finish', () => req.destroy());
        return json(res, 413, { ok: false, error: `body over ${MAX_BODY_BYTES} bytes` });
      }
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return json(res, 400, { ok: false, error: 'invalid JSON body' });
    }
    switch (path) {
      case '/__sim/fault': {
        const r = applyFault(body);
        return json(res, r.code, r.body);
      }
      case '/__sim/trades': {
        if (!c.sim) return json(res, 404, { ok: false, error: 'no simulator' });
        if (typeof body !== 'object' || body === null || Array.isArray(body)) return json(res, 400, { ok: false, error: 'body must be an object of knobs' });
        const k = parseTradeKnobs(body as Record<string, unknown>, c.sim.tradeKnobs);
        if (typeof k === 'string') return json(res, 400, { ok: false, error: k });
        c.sim.setTradeKnobs(k);
        c.log(`trades: ${JSON.stringify(k)}`);
        return json(res, 200, { ok: true, trades: k });
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
  };

  return { info, book, handle };
}

/** A control body of at most MAX_BODY_BYTES; undefined when larger (the rest is not read). */
function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
