/**
 * The websocket plumbing shared by the OKX, Bybit and Binance protocols of the local server: sessions
 * with bounded send buffers, the data-path fault switches (silent, heartbeatOnly, flood, dup, reorder,
 * malformed injection is up to the protocol), a 100 ms tick, and a per-venue scope for faults
 * (`{kind, venue:"okx"}` applies only to that venue's hubs; without `venue` a fault applies to all).
 *
 * The hubs never advance the simulator: the Deribit source does that every 100 ms, so listing events
 * reach its instrument.state channel; these hubs read the market at `sim.timeMs`.
 */
import type { WebSocket } from 'ws';
import type { FaultKind, FaultState } from './faults.ts';
import type { MarketSim, Currency, OptionDef } from './sim/market.ts';
import type { SimClock } from './clock.ts';

export type VenueName = 'okx' | 'bybit' | 'binance';

export interface VenueLimits {
  softBufferBytes: number;
  hardBufferBytes: number;
  hardGraceMs: number;
}

export const DEFAULT_VENUE_LIMITS: VenueLimits = { softBufferBytes: 256 * 1024, hardBufferBytes: 4 * 1024 * 1024, hardGraceMs: 2_000 };

export class VenueSession {
  /** Subscribed topic keys (protocol-specific canonical strings). */
  readonly subs = new Set<string>();
  /** Per-topic state owned by the protocol (e.g. the book last sent, for diffs). */
  readonly state = new Map<string, unknown>();
  readonly openedAt = Date.now();
  lastInboundAt = Date.now();
  gapPending = false;
  closed = false;
  sentFrames = 0;
  skippedFrames = 0;
  /** Protocol scratch (e.g. per-second inbound message count). */
  counters: Record<string, number> = {};
  private overSince: number | undefined;
  private dataCount = 0;
  private held = new Map<string, string>();

  constructor(
    readonly ws: WebSocket,
    readonly hub: VenueHub,
    readonly id: number,
    readonly path: string,
    readonly ip: string,
  ) {}

  get connId(): string {
    return `${this.hub.venue}-${this.id.toString(16).padStart(8, '0')}`;
  }

  /** Send with backpressure; essential frames (acks, pongs, listings) are never skipped. */
  sendRaw(text: string | Buffer, essential: boolean, binary = false): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    const buffered = this.ws.bufferedAmount;
    const lim = this.hub.limits;
    if (buffered > lim.hardBufferBytes) {
      const now = Date.now();
      this.overSince ??= now;
      if (now - this.overSince > lim.hardGraceMs) {
        this.close(1008, 'slow consumer: send buffer over limit');
        return false;
      }
    } else this.overSince = undefined;
    if (!essential && buffered > lim.softBufferBytes) {
      this.skippedFrames++;
      return false;
    }
    this.ws.send(text, { binary });
    this.sentFrames++;
    return true;
  }

  /** A reply to a request (ack, error, pong): dropped only by `silent`. */
  reply(text: string): void {
    if (this.hub.fault('silent')) return;
    this.sendRaw(text, true);
  }

  /**
   * A data frame of a topic with the data-path faults applied. `ordered` topics (books with sequence
   * ids) are exempt from dup/reorder so those faults do not turn into gaps.
   */
  push(topic: string, text: string, ordered = false): boolean {
    const hub = this.hub;
    if (hub.fault('silent') || hub.fault('heartbeatOnly')) return false;
    this.dataCount++;
    if (!ordered && hub.fault('reorder') && !this.held.has(topic) && this.dataCount % 7 === 0) {
      this.held.set(topic, text); // goes out after the topic's next frame: adjacent frames swapped
      return true;
    }
    const copies = hub.floodFactor();
    let sent = false;
    for (let i = 0; i < copies; i++) sent = this.sendRaw(text, false) || sent;
    if (!ordered && hub.fault('dup') && this.dataCount % 10 === 0) this.sendRaw(text, false);
    const h = this.held.get(topic);
    if (h !== undefined) {
      this.held.delete(topic);
      this.sendRaw(h, false);
    }
    return sent;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.ws.close(code, reason.slice(0, 123));
    } catch {
      this.ws.terminate();
    }
  }
}

/** What a venue protocol implements on top of the hub. */
export interface VenueProtocol {
  /** Paths this protocol answers (e.g. `/okx/ws/v5/public`). */
  readonly paths: readonly string[];
  onOpen?(s: VenueSession): void;
  onMessage(s: VenueSession, text: string): void;
  /** Every 100 ms of wall time. */
  tick(tickNo: number): void;
  /** The `oversize` fault: one 10 MB data frame to each session; returns how many were sent. */
  sendOversize(): number;
}

export interface VenueHubOptions {
  venue: VenueName;
  sim: MarketSim;
  clock: SimClock;
  faults: FaultState;
  limits?: Partial<VenueLimits>;
  /** Close a session that sent nothing for this long (venue keepalive rule); 0 = never. */
  idleCloseMs?: number;
  /** Send a websocket ping frame this often (Binance); 0 = never. */
  pingEveryMs?: number;
}

export class VenueHub {
  readonly venue: VenueName;
  readonly sim: MarketSim;
  readonly clock: SimClock;
  readonly faults: FaultState;
  readonly limits: VenueLimits;
  readonly sessions = new Set<VenueSession>();
  protocol!: VenueProtocol;
  private nextId = 1;
  private tickNo = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly idleCloseMs: number;
  private readonly pingEveryMs: number;
  private lastPingAt = Date.now();
  /** Inbound messages (wall ms, session id), bounded; tests read pacing from it. */
  readonly requestLog: { at: number; sessionId: number; text: string }[] = [];

  constructor(o: VenueHubOptions) {
    this.venue = o.venue;
    this.sim = o.sim;
    this.clock = o.clock;
    this.faults = o.faults;
    this.limits = { ...DEFAULT_VENUE_LIMITS, ...o.limits };
    this.idleCloseMs = o.idleCloseMs ?? 0;
    this.pingEveryMs = o.pingEveryMs ?? 0;
  }

  /** Whether a fault applies to this venue (a `venue` param scopes it). */
  fault(kind: FaultKind): boolean {
    if (!this.faults.has(kind)) return false;
    const v = this.faults.params(kind)?.venue;
    return v === undefined || v === this.venue;
  }

  floodFactor(): number {
    return this.fault('flood') ? this.faults.floodFactor() : 1;
  }

  /** Venue time: the simulator's current 100 ms step. */
  nowMs(): number {
    return this.sim.timeMs;
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), 100);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.sessions) {
      s.closed = true;
      s.ws.terminate();
    }
    this.sessions.clear();
  }

  private tick(): void {
    this.tickNo++;
    const now = Date.now();
    if (this.idleCloseMs > 0) for (const s of this.sessions) if (now - s.lastInboundAt > this.idleCloseMs) s.close(1000, 'idle: no message from the client in time');
    if (this.pingEveryMs > 0 && now - this.lastPingAt >= this.pingEveryMs && !this.fault('silent')) {
      this.lastPingAt = now;
      for (const s of this.sessions) if (!s.closed) s.ws.ping();
    }
    try {
      this.protocol.tick(this.tickNo);
    } catch (e) {
      console.error(`[${this.venue}] tick failed`, e);
    }
  }

  attach(ws: WebSocket, path: string, ip: string): VenueSession {
    const s = new VenueSession(ws, this, this.nextId++, path, ip);
    this.sessions.add(s);
    ws.on('message', (data, isBinary) => {
      s.lastInboundAt = Date.now();
      if (this.fault('silent')) return;
      const text = isBinary ? (data as Buffer).toString('utf8') : data.toString();
      if (this.requestLog.length > 10_000) this.requestLog.splice(0, 5_000);
      this.requestLog.push({ at: Date.now(), sessionId: s.id, text: text.slice(0, 200) });
      try {
        this.protocol.onMessage(s, text);
      } catch (e) {
        console.error(`[${this.venue}] message handler failed`, e);
      }
    });
    ws.on('pong', () => (s.lastInboundAt = Date.now()));
    ws.on('close', () => {
      s.closed = true;
      this.sessions.delete(s);
    });
    ws.on('error', () => undefined);
    this.protocol.onOpen?.(s);
    return s;
  }

  dropAll(): number {
    const n = this.sessions.size;
    for (const s of this.sessions) {
      s.closed = true;
      s.ws.terminate();
    }
    return n;
  }

  armGap(): number {
    for (const s of this.sessions) s.gapPending = true;
    return this.sessions.size;
  }
}

/** One venue's own listing on the shared market: its expiries, strikes and open-interest scale. */
export interface ChainSpec {
  /** Keep expiry `e` (i = its position among the simulator's listed expiries). */
  keepExpiry(e: number, i: number, all: readonly number[]): boolean;
  /** Keep strike `k` (i = its position in that expiry's sorted strike grid of n strikes). */
  keepStrike(k: number, i: number, n: number, atmIndex: number): boolean;
}

/** Cached per-venue option list; recomputed when the simulator relists (its array changes). */
export class VenueChain {
  private cache = new Map<Currency, { src: readonly OptionDef[]; list: OptionDef[] }>();
  constructor(
    private readonly sim: MarketSim,
    private readonly spec: ChainSpec,
  ) {}

  options(c: Currency): OptionDef[] {
    const src = this.sim.instruments(c);
    const hit = this.cache.get(c);
    if (hit && hit.src === src) return hit.list;
    const all = this.sim.listedExpiries();
    const keepE = new Set(all.filter((e, i) => this.spec.keepExpiry(e, i, all)));
    const byExpiry = new Map<number, number[]>();
    for (const d of src) {
      if (!keepE.has(d.expiryMs)) continue;
      const ks = byExpiry.get(d.expiryMs) ?? [];
      if (ks[ks.length - 1] !== d.strike) ks.push(d.strike);
      byExpiry.set(d.expiryMs, ks);
    }
    const keepK = new Map<number, Set<number>>();
    for (const [e, ks] of byExpiry) {
      const f = this.sim.forward(c, e);
      let atm = 0;
      for (let i = 1; i < ks.length; i++) if (Math.abs(ks[i] - f) < Math.abs(ks[atm] - f)) atm = i;
      keepK.set(e, new Set(ks.filter((k, i) => this.spec.keepStrike(k, i, ks.length, atm))));
    }
    const list = src.filter((d) => keepK.get(d.expiryMs)?.has(d.strike) === true);
    this.cache.set(c, { src, list });
    return list;
  }
}

/** A number as the venues write it: a decimal string without exponent noise. */
export function num(x: number, maxDecimals = 8): string {
  if (!Number.isFinite(x)) return String(x);
  const s = x.toFixed(maxDecimals);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Malformed frames any JSON venue client must survive; the protocol adds venue-looking ones. */
export const GENERIC_MALFORMED: (string | Buffer)[] = ['{"truncated":', '{}', '[]', 'null', Buffer.from([0xde, 0xad, 0xbe, 0xef])];

/** A token bucket for the live REST relay (requests per second, burst). */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly burst: number,
    private readonly perSec: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSec);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface RestAnswer {
  status: number;
  body: unknown;
}

/**
 * Relays one allow-listed public read-only GET to the venue's REST host (live use, where the venue
 * refuses browser origins). Only the given path with only the given query keys goes out; answers are
 * capped in size; a local token bucket keeps us under the venue's own limit.
 */
export async function relayGet(
  upstreamBase: string,
  path: string,
  query: URLSearchParams,
  allowedKeys: readonly string[],
  bucket: TokenBucket,
  fetchImpl: typeof fetch = fetch,
): Promise<RestAnswer> {
  if (!bucket.take()) return { status: 429, body: { error: 'local relay rate limit' } };
  const q = new URLSearchParams();
  for (const k of allowedKeys) {
    const v = query.get(k);
    if (v !== null) {
      if (!/^[A-Za-z0-9_\-.%=]{1,100}$/.test(v)) return { status: 400, body: { error: `bad value for ${k}` } };
      q.set(k, v);
    }
  }
  const url = `${upstreamBase}${path}${q.size > 0 ? `?${q.toString()}` : ''}`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 10_000);
  try {
    const res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: ctl.signal });
    const text = await res.text();
    if (text.length > 16 * 1024 * 1024) return { status: 502, body: { error: 'upstream answer too large' } };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { status: 502, body: { error: 'upstream answer is not JSON' } };
    }
    return { status: res.status, body };
  } catch (e) {
    return { status: 502, body: { error: `upstream unreachable: ${String(e).slice(0, 120)}` } };
  } finally {
    clearTimeout(timer);
  }
}
