/**
 * Deribit JSON-RPC 2.0 over websocket on top of a market source: sessions, heartbeats,
 * subscriptions, Deribit-style envelopes and errors, rate limits, fault switches and per-client
 * backpressure (skip non-essential frames above a soft cap, drop a client that does not read above a
 * hard cap). Every inbound frame counts against the session's credits, malformed ones included; a
 * throw while handling a frame or a subscription is counted and logged once per cause, never fatal.
 */
import type { WebSocket } from 'ws';
import type { FaultKind, FaultState } from '../../faults/state.ts';
import { ERR, type DeribitSource, type RpcError, type RpcReply } from './types.ts';
import { CaughtErrors, ClientSocket, DEFAULT_SEND_LIMITS, TokenBucket, type SessionLimits } from '../client-socket.ts';

export const API_VERSION = '1.2.26';

export interface HubLimits extends SessionLimits {
  /** Heartbeat intervals accepted by public/set_heartbeat, seconds. */
  minHeartbeatS: number;
  maxHeartbeatS: number;
}

export const DEFAULT_LIMITS: HubLimits = {
  ...DEFAULT_SEND_LIMITS,
  // Deribit's credits: a request costs 500 of a 50,000 pool refilled at 10,000/s (shared/feeds.md 1.2)
  requestBurst: 100,
  requestsPerSec: 20,
  // Deribit documents no cap on channels per session; the app holds about 20 per currency
  maxChannels: 1_000,
  // Deribit documents "not less than 10"; the simulator takes 1 so tests run fast. Deribit documents no
  // maximum: one hour keeps the timer far below Node's 2^31 ms limit, past which it fires at once.
  minHeartbeatS: 1,
  maxHeartbeatS: 3_600,
};

export interface SessionStats {
  id: number;
  ip: string;
  sentFrames: number;
  skippedFrames: number;
  maxBuffered: number;
  closedSlow: boolean;
}

export class Session extends ClientSocket {
  /** Per-channel state owned by the source (e.g. last book sent, for diffs). */
  readonly channelState = new Map<string, unknown>();
  heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  awaitingTest = false;
  gapPending = false;
  private held = new Map<string, string>(); // reorder fault: a frame held back per channel
  private old = new Map<string, { at: number; text: string }>(); // reorder fault: a ~5 s old frame per channel
  private dataCount = 0;
  /** `public/subscribe` and `unsubscribe` draw on their own pool: 3,000 of 30,000 credits, 10,000/s. */
  private subCredits = new TokenBucket(30_000, 10_000);

  constructor(
    ws: WebSocket,
    readonly hub: DeribitHub,
    readonly id: number,
    readonly ip: string,
  ) {
    super(ws, hub.limits);
  }

  /** A snapshot of this client's counters (the server's /__gexdesk stats and the security tests). */
  get stats(): SessionStats {
    return { id: this.id, ip: this.ip, sentFrames: this.sentFrames, skippedFrames: this.skippedFrames, maxBuffered: this.maxBuffered, closedSlow: this.closedSlow };
  }

  /** Send a subscription notification, applying the data-path faults (silent, dup, reorder, flood). */
  notify(channel: string, data: unknown, prebuilt?: string): void {
    const hub = this.hub;
    if (hub.fault('silent') || hub.fault('heartbeatOnly')) return;
    const text = prebuilt ?? JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });
    this.dataCount++;
    const copies = hub.fault('flood') ? hub.faults.floodFactor() : 1;
    if (hub.fault('reorder') && !channel.startsWith('book.')) {
      if (!this.held.has(channel) && this.dataCount % 7 === 0) {
        this.held.set(channel, text); // sent after the next frame of the channel: adjacent frames swapped
        return;
      }
      const o = this.old.get(channel);
      const now = Date.now();
      if (!o) this.old.set(channel, { at: now, text });
      else if (now - o.at >= 5_000) {
        this.sendRaw(o.text, false); // a frame 5 s old, re-sent
        this.old.set(channel, { at: now, text });
      }
    }
    for (let i = 0; i < copies; i++) this.sendRaw(text, false);
    if (hub.fault('dup') && this.dataCount % 10 === 0) this.sendRaw(text, false);
    const h = this.held.get(channel);
    if (h !== undefined) {
      this.held.delete(channel);
      this.sendRaw(h, false);
    }
  }

  /** Essential notification (instrument.state): not skipped under backpressure. */
  notifyEssential(channel: string, data: unknown): void {
    if (this.hub.fault('silent') || this.hub.fault('heartbeatOnly')) return;
    this.sendRaw(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } }), true);
  }

  reply(id: unknown, usIn: number, r: RpcReply): void {
    const usOut = Math.round(this.hub.source.nowMs() * 1000);
    const tail = `"usIn":${usIn},"usOut":${usOut},"usDiff":${Math.max(0, usOut - usIn)},"testnet":false}`;
    const idPart = id === undefined ? '' : `"id":${JSON.stringify(id)},`;
    let mid: string;
    if ('resultRaw' in r) mid = `"result":${r.resultRaw}`;
    else if ('result' in r) mid = `"result":${JSON.stringify(r.result)}`;
    else mid = `"error":${JSON.stringify(r.error)}`;
    this.sendRaw(`{"jsonrpc":"2.0",${idPart}${mid},${tail}`, true);
  }

  protected override onClose(): void {
    this.stopHeartbeat();
  }

  stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.awaitingTest = false;
  }

  /** Credits for one inbound frame: a (un)subscribe from its own pool, anything else (malformed frames too) from the session's request budget. */
  takeCredits(method: string | undefined): boolean {
    if (method === 'public/subscribe' || method === 'public/unsubscribe') return this.subCredits.take(3_000);
    return this.admit();
  }
}

export class DeribitHub {
  readonly sessions = new Set<Session>();
  private nextId = 1;
  private tickNo = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Inbound request log (method, wall ms), bounded; tests read subscribe spacing from it. */
  readonly requestLog: { method: string; at: number; sessionId: number }[] = [];
  closedSlowCount = 0;
  /** Throws caught in message handling, subscriptions and ticks, by cause. */
  readonly errors: CaughtErrors;

  constructor(
    readonly source: DeribitSource,
    readonly faults: FaultState,
    readonly limits: HubLimits = DEFAULT_LIMITS,
    log?: (line: string) => void,
  ) {
    this.errors = new CaughtErrors('deribit', log);
  }

  /** Whether a fault applies to Deribit (set without a `venue` param, or with `venue: "deribit"`). */
  fault(kind: FaultKind): boolean {
    return this.faults.on(kind, 'deribit');
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), 100);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.sessions) {
      s.stopHeartbeat();
      s.closed = true;
      s.ws.terminate();
    }
    this.sessions.clear();
  }

  private tick(): void {
    this.tickNo++;
    this.errors.guard('tick', () => this.source.tick?.(this, this.tickNo));
  }

  attach(ws: WebSocket, ip: string): Session {
    const s = new Session(ws, this, this.nextId++, ip);
    this.sessions.add(s);
    ws.on('message', (data, isBinary) => this.errors.guard('message', () => this.onMessage(s, data as Buffer, isBinary)));
    ws.on('close', () => {
      if (s.stats.closedSlow) this.closedSlowCount++;
      s.closed = true;
      s.stopHeartbeat();
      this.sessions.delete(s);
    });
    ws.on('error', () => undefined);
    this.source.onSessionOpen?.(this, s);
    return s;
  }

  /** Terminate every socket (the `drop` fault: abnormal closure, 1006 at the client). */
  dropAll(): number {
    const n = this.sessions.size;
    for (const s of this.sessions) {
      s.closed = true;
      s.stopHeartbeat();
      s.ws.terminate();
    }
    return n;
  }

  private onMessage(s: Session, data: Buffer, isBinary: boolean): void {
    if (s.closed) return;
    const usIn = Math.round(this.source.nowMs() * 1000);
    if (this.fault('silent')) return;
    const req = parseRequest(isBinary ? data.toString('utf8') : data.toString());
    const method = 'method' in req ? req.method : undefined;
    if (method !== undefined) {
      if (this.requestLog.length > 10_000) this.requestLog.splice(0, 5_000);
      this.requestLog.push({ method, at: Date.now(), sessionId: s.id });
    }
    // every frame spends credits, a malformed one too: answering errors must not be free
    if (!s.takeCredits(method)) {
      // Deribit ends the session on 10028
      s.reply(req.id, usIn, { error: ERR.tooManyRequests });
      s.close(1000, 'too_many_requests');
      return;
    }
    if ('error' in req) {
      s.reply(req.id, usIn, { error: req.error });
      return;
    }
    let r: RpcReply | undefined;
    try {
      r = this.dispatch(s, req.method, req.params);
    } catch (e) {
      this.errors.count(req.method, e);
      r = { error: ERR.internal };
    }
    if (r) s.reply(req.id, usIn, r);
  }

  private dispatch(s: Session, method: string, params: Record<string, unknown>): RpcReply | undefined {
    switch (method) {
      case 'public/hello':
      case 'public/test':
        s.awaitingTest = false;
        return { result: { version: API_VERSION } };
      case 'public/get_time':
        return { result: Math.floor(this.source.nowMs()) };
      case 'public/set_heartbeat': {
        const iv = Number(params.interval);
        if (!Number.isFinite(iv) || iv < this.limits.minHeartbeatS) return { error: ERR.invalidParams('interval too small', 'interval') };
        if (iv > this.limits.maxHeartbeatS) return { error: ERR.invalidParams(`interval too large (at most ${this.limits.maxHeartbeatS} s)`, 'interval') };
        this.startHeartbeat(s, iv * 1000);
        return { result: 'ok' };
      }
      case 'public/disable_heartbeat':
        s.stopHeartbeat();
        return { result: 'ok' };
      case 'public/subscribe':
        return this.subscribe(s, params);
      case 'public/unsubscribe': {
        const chans = channelList(params);
        if (typeof chans === 'object' && 'code' in chans) return { error: chans };
        const done = chans.filter((c) => s.subs.delete(c));
        for (const c of done) s.channelState.delete(c);
        return { result: done };
      }
      case 'public/unsubscribe_all':
        s.subs.clear();
        s.channelState.clear();
        return { result: 'ok' };
      default: {
        if (method.startsWith('private/')) return { error: ERR.unauthorized };
        const r = this.source.request(method, params, s);
        return r ?? { error: ERR.methodNotFound };
      }
    }
  }

  private subscribe(s: Session, params: Record<string, unknown>): RpcReply | undefined {
    if (this.faults.error10028Armed) {
      this.faults.error10028Armed = false;
      // the reply is sent synchronously by onMessage; the close follows it, as on Deribit
      queueMicrotask(() => s.close(1000, 'too_many_requests'));
      return { error: ERR.tooManyRequests };
    }
    const chans = channelList(params);
    if (!Array.isArray(chans)) return { error: chans };
    const ok = chans.filter((c) => this.source.channelOk(c));
    const fresh = [...new Set(ok.filter((c) => !s.subs.has(c)))];
    if (!s.roomFor(fresh.length)) return { error: ERR.invalidParams(`too many channels for one session (at most ${s.limits.maxChannels})`, 'channels') };
    for (const c of fresh) s.subs.add(c);
    if (fresh.length > 0) queueMicrotask(() => this.errors.guard('subscribe', () => this.source.onSubscribed?.(this, s, fresh)));
    return { result: ok };
  }

  private startHeartbeat(s: Session, ms: number): void {
    s.stopHeartbeat();
    s.heartbeatTimer = setInterval(() => {
      if (s.closed) return s.stopHeartbeat();
      if (this.fault('silent')) return;
      if (s.awaitingTest) {
        // the client did not answer the previous test_request within one interval
        s.close(1000, 'heartbeat: no public/test in time');
        return;
      }
      s.awaitingTest = true;
      s.sendRaw('{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}', true);
    }, ms);
  }
}

/** One inbound frame as a JSON-RPC request, or the error to answer it with. */
function parseRequest(text: string): { id: unknown; method: string; params: Record<string, unknown> } | { id: unknown; error: RpcError } {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { id: undefined, error: ERR.parse };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return { id: undefined, error: ERR.invalidRequest };
  const m = msg as Record<string, unknown>;
  if (typeof m.method !== 'string') return { id: m.id, error: ERR.invalidRequest };
  const params = typeof m.params === 'object' && m.params !== null && !Array.isArray(m.params) ? (m.params as Record<string, unknown>) : {};
  return { id: m.id, method: m.method.replace(/^\/?(api\/v2\/)?/, ''), params };
}

function channelList(params: Record<string, unknown>): string[] | RpcError {
  const c = params.channels;
  if (!Array.isArray(c) || c.length === 0) return ERR.invalidParams('channels must be a non-empty array', 'channels');
  if (c.length > 2_000) return ERR.invalidParams('too many channels', 'channels');
  const out: string[] = [];
  for (const x of c) {
    if (typeof x !== 'string' || x.length > 200) return ERR.invalidParams('channel must be a string', 'channels');
    out.push(x);
  }
  return out;
}
