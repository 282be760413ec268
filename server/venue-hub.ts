/**
 * The websocket plumbing shared by the OKX, Bybit and Binance protocols of the local server: sessions
 * with bounded send buffers, the data-path fault switches (silent, heartbeatOnly, flood, dup, reorder,
 * malformed, oversize), a 100 ms tick, per-subscription data ticks, snapshot-then-delta books, and a
 * per-venue scope for faults (`{kind, venue:"okx"}` applies only to that venue; without `venue` a fault
 * applies to all).
 *
 * The protocols (`server/<venue>/protocol.ts`) read their data from a VenueSource: the simulator
 * (`server/<venue>/sim.ts`) or a recording (`server/venue-replay.ts`). The simulator sources never
 * advance the market: the Deribit source does that every 100 ms, so listing events reach its
 * instrument.state channel; these read the market at `sim.timeMs`.
 */
import type { WebSocket } from 'ws';
import { CaughtErrors, ClientSocket, DEFAULT_SEND_LIMITS, eachSubscription, type SessionLimits, type TokenBucket } from './client-socket.ts';
import type { FaultKind, FaultState } from './faults.ts';
import { CURRENCIES, type MarketSim, type Currency, type OptionDef } from './sim/market.ts';
import type { SimClock } from './clock.ts';

export type VenueName = 'okx' | 'bybit' | 'binance';

export class VenueSession extends ClientSocket {
  /** Per-topic state owned by the protocol (e.g. the book last sent, for diffs). */
  readonly state = new Map<string, unknown>();
  readonly openedAt = Date.now();
  lastInboundAt = Date.now();
  gapPending = false;
  /** Protocol scratch (e.g. OKX's subscribe requests this hour). */
  counters: Record<string, number> = {};
  private dataCount = 0;
  private held = new Map<string, string>();

  constructor(
    ws: WebSocket,
    readonly hub: VenueHub,
    readonly id: number,
    readonly path: string,
    readonly ip: string,
  ) {
    super(ws, hub.limits);
  }

  get connId(): string {
    return `${this.hub.venue}-${this.id.toString(16).padStart(8, '0')}`;
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
}

/**
 * Where a venue protocol's data comes from: the simulator (`server/<venue>/sim.ts`) or a recording
 * (`server/venue-replay.ts`). The protocol owns the venue's rules (requests, acks, keepalive, limits,
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
  /** The REST pass-through answer for `path` (below the venue's REST prefix). */
  rest(path: string, q: URLSearchParams): RestAnswer;
}

/** What a venue protocol implements on top of the hub. */
export interface VenueProtocol {
  /** Paths this protocol answers (e.g. `/okx/ws/v5/public`). */
  readonly paths: readonly string[];
  readonly source: VenueSource;
  /** Venue-looking malformed frames for the `malformed` fault (sent after GENERIC_MALFORMED, in turn). */
  readonly malformed: readonly (string | Buffer)[];
  onOpen?(s: VenueSession): void;
  onMessage(s: VenueSession, text: string): void;
  /** Every 100 ms of wall time (after the hub's keepalive and fault work). */
  tick(tickNo: number): void;
  /** The `oversize` fault's 10 MB data frame. */
  oversizeFrame(): string;
}

export interface VenueHubOptions {
  venue: VenueName;
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
}

export class VenueHub {
  readonly venue: VenueName;
  readonly clock: SimClock;
  readonly faults: FaultState;
  readonly limits: SessionLimits;
  /** Throws caught in message handling and ticks, by cause. */
  readonly errors: CaughtErrors;
  readonly sessions = new Set<VenueSession>();
  protocol!: VenueProtocol;
  /** Frames the hub injected for the `malformed` and `oversize` faults (tests compare client counters). */
  readonly injected = { malformed: 0, oversize: 0 };
  private nextId = 1;
  private tickNo = 0;
  private malformedIdx = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly now: () => number;
  private readonly idleCloseMs: number;
  private readonly pingEveryMs: number;
  private lastPingAt = Date.now();
  /** Inbound messages (wall ms, session id), bounded; tests read pacing from it. */
  readonly requestLog: { at: number; sessionId: number; text: string }[] = [];

  constructor(o: VenueHubOptions) {
    this.venue = o.venue;
    this.clock = o.clock;
    this.now = o.now;
    this.faults = o.faults;
    this.limits = { ...DEFAULT_SEND_LIMITS, ...o.session, ...o.limits };
    this.errors = new CaughtErrors(o.venue, o.log);
    this.idleCloseMs = o.idleCloseMs ?? 0;
    this.pingEveryMs = o.pingEveryMs ?? 0;
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
    const own = this.protocol.malformed;
    const n = GENERIC_MALFORMED.length + own.length;
    const i = this.malformedIdx++ % n;
    const item = i < GENERIC_MALFORMED.length ? GENERIC_MALFORMED[i] : own[i - GENERIC_MALFORMED.length];
    this.injected.malformed++;
    if (typeof item === 'string') s.sendRaw(item, false);
    else s.sendRaw(item, false, true);
  }

  /** The `oversize` fault: one 10 MB data frame to each session; returns how many were sent. */
  sendOversize(): number {
    let n = 0;
    for (const s of this.sessions) if (s.sendOversized(this.protocol.oversizeFrame())) n++;
    this.injected.oversize += n;
    return n;
  }

  attach(ws: WebSocket, path: string, ip: string): VenueSession {
    const s = new VenueSession(ws, this, this.nextId++, path, ip);
    this.sessions.add(s);
    ws.on('message', (data, isBinary) => {
      if (s.closed) return;
      s.lastInboundAt = Date.now();
      if (this.fault('silent')) return;
      // every frame counts, whatever it holds: past the budget the client is closed, not answered
      if (!s.admit()) {
        s.close(1008, 'Too many requests');
        return;
      }
      const text = isBinary ? (data as Buffer).toString('utf8') : data.toString();
      if (this.requestLog.length > 10_000) this.requestLog.splice(0, 5_000);
      this.requestLog.push({ at: Date.now(), sessionId: s.id, text: text.slice(0, 200) });
      this.errors.guard('message', () => this.protocol.onMessage(s, text));
    });
    ws.on('pong', () => (s.lastInboundAt = Date.now()));
    ws.on('close', () => {
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

/** A book as last sent to one session on one topic: price -> size text, and its sequence number. */
interface SentBook {
  bids: Map<string, string>;
  asks: Map<string, string>;
  seq: number;
}

/** A level as the venues write it: price text, size text, venue extras. */
export type Level = readonly [string, string, ...string[]];

/** The levels of `now` that differ from `old`, plus `removed(px)` for prices no longer there. */
export function levelDiff<L extends Level>(old: ReadonlyMap<string, string>, now: readonly L[], removed: (px: string) => L): L[] {
  const out: L[] = [];
  const seen = new Set<string>();
  for (const l of now) {
    seen.add(l[0]);
    if (old.get(l[0]) !== l[1]) out.push(l);
  }
  for (const px of old.keys()) if (!seen.has(px)) out.push(removed(px));
  return out;
}

/**
 * Snapshot-then-delta book topics (OKX `books`, Bybit `orderbook.*`): the first frame a session gets
 * on `key` is a snapshot, later ones carry only the levels that changed since what this session last
 * received (so a frame skipped under backpressure only makes the next diff bigger). Nothing is sent
 * while `seq` is unchanged. With `gaps`, a pending `gap` fault lowers the delta's previous sequence.
 */
export function pushBook<L extends Level>(
  s: VenueSession,
  key: string,
  seq: number,
  levels: () => { bids: L[]; asks: L[] },
  o: {
    removed: (px: string) => L;
    /** The frame text; `full` is the whole book now (e.g. for a checksum). */
    frame: (kind: 'snapshot' | 'delta', bids: L[], asks: L[], prevSeq: number, full: { bids: L[]; asks: L[] }) => string;
    gaps?: boolean;
    onGap?: () => void;
    /**
     * False: the venue pushes no snapshot (OKX since 2026: the client takes it over REST); the first
     * call only records the book the session's deltas start from.
     */
    snapshot?: boolean;
  },
): void {
  const prev = s.state.get(key) as SentBook | undefined;
  if (prev && prev.seq === seq) return;
  if (!s.takesData()) return; // under backpressure: the next diff covers this one
  const lv = levels();
  const bids = new Map(lv.bids.map((l) => [l[0], l[1]]));
  const asks = new Map(lv.asks.map((l) => [l[0], l[1]]));
  if (!prev && o.snapshot === false) {
    s.state.set(key, { bids, asks, seq });
    return;
  }
  let text: string;
  if (!prev) text = o.frame('snapshot', lv.bids, lv.asks, -1, lv);
  else {
    let prevSeq = prev.seq;
    if (o.gaps && s.gapPending) {
      s.gapPending = false;
      prevSeq -= 3;
      o.onGap?.();
    }
    text = o.frame('delta', levelDiff(prev.bids, lv.bids, o.removed), levelDiff(prev.asks, lv.asks, o.removed), prevSeq, lv);
  }
  if (s.push(key, text, true)) s.state.set(key, { bids, asks, seq });
}

/** `YYMMDD` of a UTC date (OKX and Binance option names). */
export function yymmdd(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** One venue's own listing on the shared market: its expiries, strikes and names. */
export interface ChainSpec {
  /** The venue's name for an option. */
  name(d: OptionDef): string;
  /** Keep expiry `e` (i = its position among the simulator's listed expiries). */
  keepExpiry(e: number, i: number, all: readonly number[]): boolean;
  /** Keep strike `k` (i = its position in that expiry's sorted strike grid of n strikes). */
  keepStrike(k: number, i: number, n: number, atmIndex: number): boolean;
}

/** Cached per-venue option list; recomputed when the simulator relists (its array changes). */
export class VenueChain {
  private cache = new Map<Currency, { src: readonly OptionDef[]; list: OptionDef[] }>();
  private names = new Map<Currency, { list: OptionDef[]; byName: Map<string, OptionDef> }>();
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

  /** Venue name -> option of the current listing (cached per listing). */
  byName(c: Currency): Map<string, OptionDef> {
    const list = this.options(c);
    const hit = this.names.get(c);
    if (hit && hit.list === list) return hit.byName;
    const byName = new Map(list.map((d) => [this.spec.name(d), d]));
    this.names.set(c, { list, byName });
    return byName;
  }

  /** The listed option of either currency with this venue name. */
  find(name: string): OptionDef | undefined {
    for (const c of CURRENCIES) {
      const d = this.byName(c).get(name);
      if (d) return d;
    }
    return undefined;
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

export interface RestAnswer {
  status: number;
  body: unknown;
}

/** Largest relayed answer, bytes. */
export const RELAY_MAX_BYTES = 16 * 1024 * 1024;
const RELAY_MAX_REDIRECTS = 3;

/**
 * Relays one allow-listed public read-only GET to the venue's REST host (live use, where the venue
 * refuses browser origins). Only the given path with only the given query keys goes out, and only
 * after its values are checked (a bad call spends no token); a redirect is followed only on the venue's
 * own host; answers are capped in size as they stream in; a local token bucket keeps us under the
 * venue's own limit.
 */
export async function relayGet(
  upstreamBase: string,
  path: string,
  query: URLSearchParams,
  allowedKeys: readonly string[],
  bucket: TokenBucket,
  fetchImpl: typeof fetch = fetch,
): Promise<RestAnswer> {
  const q = new URLSearchParams();
  for (const k of allowedKeys) {
    const v = query.get(k);
    if (v !== null) {
      if (!/^[A-Za-z0-9_\-.%=]{1,100}$/.test(v)) return { status: 400, body: { error: `bad value for ${k}` } };
      q.set(k, v);
    }
  }
  if (!bucket.take()) return { status: 429, body: { error: 'local relay rate limit' } };
  const origin = new URL(upstreamBase).origin;
  let url = `${upstreamBase}${path}${q.size > 0 ? `?${q.toString()}` : ''}`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 10_000);
  try {
    for (let hop = 0; ; hop++) {
      const res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: ctl.signal, redirect: 'manual' });
      if (res.status >= 300 && res.status < 400) {
        const to = res.headers.get('location');
        const next = to === null ? null : URL.canParse(to, url) ? new URL(to, url) : null;
        // a moved path on the venue's own host is followed; anywhere else is not the venue
        if (next === null || next.origin !== origin || hop >= RELAY_MAX_REDIRECTS) return { status: 502, body: { error: 'upstream redirected off the venue host' } };
        url = next.href;
        continue;
      }
      const text = await readCapped(res, RELAY_MAX_BYTES);
      if (text === undefined) {
        ctl.abort();
        return { status: 502, body: { error: 'upstream answer too large' } };
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { status: 502, body: { error: 'upstream answer is not JSON' } };
      }
      return { status: res.status, body };
    }
  } catch (e) {
    return { status: 502, body: { error: `upstream unreachable: ${String(e).slice(0, 120)}` } };
  } finally {
    clearTimeout(timer);
  }
}

/** A response body as text, or undefined once it passes `max` bytes (the rest is not read). */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
