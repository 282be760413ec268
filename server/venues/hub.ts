/**
 * The hub of one venue's websocket paths on the local server: its sessions (./session.ts), a 100 ms
 * tick, per-subscription data ticks with every throw caught per subscription, the `malformed` and
 * `oversize` injections, keepalive (idle close, pings), a request log, and a per-venue scope for
 * faults (`{kind, venue:"okx"}` applies only to that venue; without `venue` a fault applies to all).
 *
 * The venue's protocol (`venues/<venue>/protocol.ts`) reads and answers the sessions' frames, and
 * reads its data from a VenueSource: the simulator (`venues/<venue>/sim.ts`) or a recording
 * (`venues/<venue>/replay.ts`). The simulator sources never advance the market: the Deribit source
 * does that every 100 ms, so listing events reach its instrument.state channel; these read the market
 * at `sim.timeMs`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CaughtErrors, DEFAULT_SEND_LIMITS, eachSubscription, type SessionLimits } from './client-socket.ts';
import type { FaultKind, FaultState } from '../faults/state.ts';
import { GENERIC_MALFORMED, INVALID_UTF8, type MalformedFrame } from '../faults/malformed.ts';
import type { RestAnswer } from '../http/rest-relay.ts';
import type { SimClock } from '../clock.ts';
import type { VenueId } from '../../src/shared/venues.ts';
import type { TradeBook } from '../sim/trade-book.ts';
import { VenueSession } from './session.ts';

/**
 * Where a venue protocol's data comes from: the simulator (`venues/<venue>/sim.ts`) or a recording
 * (`replay/venue-source.ts`). The protocol owns the venue's rules (requests, acks, keepalive, limits,
 * topic keys); the source owns which topics exist and what is pushed on them.
 */
export interface VenueSource {
  /** Whether this topic (the protocol's subscription key) is served on this path; if not, the protocol answers with the venue's refusal. */
  serves(key: string, path: string): boolean;
  /** Topics a session just subscribed to (not already held): snapshot-first topics send their snapshot now. */
  subscribed?(s: VenueSession, keys: readonly string[]): void;
  /** A client connected (a replay starts playing on the first one). */
  opened?(s: VenueSession): void;
  /** Every 100 ms of wall time. */
  tick(tickNo: number): void;
  /** The REST pass-through answer for `path` (below the venue's REST prefix); absent: the venue has none. A relay's comes later. */
  rest?(path: string, q: URLSearchParams): RestAnswer | Promise<RestAnswer>;
  /** Expiries still ahead of the venue clock (`expireAt` picks the nearest by default); absent: the simulator's. */
  listedExpiries?(): number[];
  /** The hub stops (a relay closes its upstream connections). */
  stop?(): void;
  /** The simulator's hidden book of this venue (sim mode): the control endpoint reads dealer positions from it. */
  readonly tradeBook?: TradeBook;
}

/** One inbound frame in the hub's request log (bounded; tests read pacing and sessions from it). */
export interface LoggedRequest {
  at: number;
  sessionId: number;
  /** The frame's first 200 characters. */
  text: string;
  /** The request's method as the protocol read it (Deribit's JSON-RPC method). */
  method?: string;
}

/** What a venue protocol implements on top of the hub. */
export interface VenueProtocol {
  /** Paths this protocol answers (e.g. `/okx/ws/v5/public`). */
  readonly paths: readonly string[];
  readonly source: VenueSource;
  /** Venue-looking malformed frames for the `malformed` fault (sent after GENERIC_MALFORMED, in turn). */
  readonly malformed: readonly MalformedFrame[];
  /**
   * True: onMessage spends the session's request budget itself, because what a frame costs depends on
   * what it asks (Deribit: subscribes draw on their own pool, and a frame over budget is answered with
   * 10028 before the close). Otherwise the hub spends one unit a frame and closes with 1008 past it.
   */
  readonly spendsBudget?: boolean;
  onOpen?(s: VenueSession): void;
  /** One inbound frame; `logged` is its line in the request log (the protocol may name its method). */
  onMessage(s: VenueSession, text: string, logged: LoggedRequest): void;
  /** Every 100 ms of wall time (after the hub's keepalive and fault work). */
  tick(tickNo: number): void;
  /** The `oversize` fault's 10 MB data frame. */
  oversizeFrame(): string;
}

export interface VenueHubOptions {
  venue: VenueId;
  clock: SimClock;
  /** Venue time (ms): the simulator's current step, or the replay clock. */
  now: () => number;
  faults: FaultState;
  /** The venue's own rules for a session: request budget and channel cap. */
  session: Pick<SessionLimits, 'requestBurst' | 'requestsPerSec' | 'maxChannels'>;
  /** Overrides (tests): send buffer limits and the session rules. */
  limits?: Partial<SessionLimits>;
  /** Where a caught error is logged (once per cause); default stderr. */
  log?: (line: string) => void;
  /** Close a session that sent nothing for this long (venue keepalive rule); 0 = never. */
  idleCloseMs?: number;
  /** Send a websocket ping frame this often (Binance); 0 = never. */
  pingEveryMs?: number;
  /** Largest inbound frame, bytes (past it ws closes with 1009). */
  maxFrameBytes: number;
}

export class VenueHub {
  readonly venue: VenueId;
  readonly clock: SimClock;
  readonly faults: FaultState;
  readonly limits: SessionLimits;
  /** Throws caught in message handling and ticks, by cause. */
  readonly errors: CaughtErrors;
  readonly sessions = new Set<VenueSession>();
  protocol!: VenueProtocol;
  /** Frames the hub injected for the `malformed` and `oversize` faults (tests compare client counters). */
  readonly injected = { malformed: 0, oversize: 0 };
  /** Sessions dropped for not reading (over the hard send-buffer limit). */
  closedSlow = 0;
  /** Trade history requests answered (Deribit's history method, the other venues' recent-trades REST), for /__gexdesk/info. */
  tradeHistoryRequests = 0;
  private nextId = 1;
  private tickNo = 0;
  private malformedIdx = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly now: () => number;
  private readonly idleCloseMs: number;
  private readonly pingEveryMs: number;
  private lastPingAt = Date.now();
  /** Inbound messages (wall ms, session id), bounded; tests read pacing from it. */
  readonly requestLog: LoggedRequest[] = [];
  private readonly wss: WebSocketServer;

  constructor(o: VenueHubOptions) {
    this.venue = o.venue;
    this.clock = o.clock;
    this.now = o.now;
    this.faults = o.faults;
    this.limits = { ...DEFAULT_SEND_LIMITS, ...o.session, ...o.limits };
    this.errors = new CaughtErrors(o.venue, o.log);
    this.idleCloseMs = o.idleCloseMs ?? 0;
    this.pingEveryMs = o.pingEveryMs ?? 0;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  }

  /** Whether a fault applies to this venue (a `venue` param scopes it). */
  fault(kind: FaultKind): boolean {
    return this.faults.on(kind, this.venue);
  }

  floodFactor(): number {
    return this.fault('flood') ? this.faults.floodFactor() : 1;
  }

  /** Whether data frames flow at all (not `silent`, not `heartbeatOnly`). */
  get dataOn(): boolean {
    return !this.fault('silent') && !this.fault('heartbeatOnly');
  }

  /** Venue time in ms. */
  nowMs(): number {
    return this.now();
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), 100);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    (this.protocol as VenueProtocol | undefined)?.source.stop?.();
    for (const s of this.sessions) {
      s.closed = true;
      s.ws.terminate();
    }
    this.sessions.clear();
  }

  /** A tick now, out of turn: the venue clock jumped (`expireAt`), and every venue announces what it changed at once. */
  tickNow(): void {
    this.tick();
  }

  private tick(): void {
    this.tickNo++;
    const now = Date.now();
    if (this.idleCloseMs > 0) for (const s of this.sessions) if (now - s.lastInboundAt > this.idleCloseMs) s.close(1000, 'idle: no message from the client in time');
    if (this.pingEveryMs > 0 && now - this.lastPingAt >= this.pingEveryMs && !this.fault('silent')) {
      this.lastPingAt = now;
      for (const s of this.sessions) if (!s.closed) s.ws.ping();
    }
    if (this.fault('malformed') && this.tickNo % 5 === 0 && this.dataOn) for (const s of this.sessions) this.sendMalformed(s);
    this.errors.guard('tick', () => this.protocol.tick(this.tickNo));
  }

  /**
   * The data side of a tick, as every source needs it: nothing under `silent`/`heartbeatOnly`, else
   * `each(session, key, once)` for every subscription of every session, where `once(build)` builds a
   * topic's frames once per call for all sessions (the data-path faults then apply per session). A
   * throw is counted per cause and the loop goes on with the next subscription.
   */
  forEachSubscription(each: (s: VenueSession, key: string, once: (build: () => string[]) => string[]) => void): void {
    if (!this.dataOn) return;
    const cache = new Map<string, string[]>();
    eachSubscription(this.sessions, this.errors, 'tick', (s, key) =>
      each(s, key, (build) => {
        let frames = cache.get(key);
        if (!frames) {
          frames = build();
          cache.set(key, frames);
        }
        return frames;
      }),
    );
  }

  /** One frame of the `malformed` rotation: the generic ones, then the protocol's venue-looking ones. */
  private sendMalformed(s: VenueSession): void {
    const list = [...GENERIC_MALFORMED, ...this.protocol.malformed];
    if (this.faults.params('malformed')?.invalidUtf8 === true) list.push(INVALID_UTF8);
    const item = list[this.malformedIdx++ % list.length];
    this.injected.malformed++;
    if (typeof item === 'string') s.sendRaw(item, false);
    else s.sendRaw(item.bytes, false, item.binary);
  }

  /** The `oversize` fault: one 10 MB data frame to each session; returns how many were sent. */
  sendOversize(): number {
    let n = 0;
    for (const s of this.sessions) if (s.sendOversized(this.protocol.oversizeFrame())) n++;
    this.injected.oversize += n;
    return n;
  }

  /** Completes a websocket upgrade on one of this venue's paths; `ready` gets the session. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, ip: string, ready: (s: VenueSession) => void): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => ready(this.attach(ws, path, ip, socket)));
  }

  attach(ws: WebSocket, path: string, ip: string, transport?: Duplex): VenueSession {
    const s = new VenueSession(ws, this, this.nextId++, path, ip, transport);
    this.sessions.add(s);
    ws.on('message', (data, isBinary) => {
      if (s.closed) return;
      s.lastInboundAt = Date.now();
      if (this.fault('silent')) return;
      const text = isBinary ? (data as Buffer).toString('utf8') : data.toString();
      if (this.requestLog.length > 10_000) this.requestLog.splice(0, 5_000);
      const logged: LoggedRequest = { at: Date.now(), sessionId: s.id, text: text.slice(0, 200) };
      this.requestLog.push(logged);
      // every frame counts, whatever it holds: past the budget the client is closed, not answered
      if (!this.protocol.spendsBudget && !s.admit()) {
        s.close(1008, 'Too many requests');
        return;
      }
      this.errors.guard('message', () => this.protocol.onMessage(s, text, logged));
    });
    ws.on('pong', () => (s.lastInboundAt = Date.now()));
    ws.on('close', () => {
      if (s.closedSlow) this.closedSlow++;
      s.closed = true;
      this.sessions.delete(s);
    });
    ws.on('error', () => undefined);
    this.protocol.onOpen?.(s);
    this.protocol.source.opened?.(s);
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
