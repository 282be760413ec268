/**
 * Deribit's JSON-RPC 2.0 over websocket (`/deribit/ws/api/v2`) as a protocol on the shared venue hub:
 * envelopes (`usIn/usOut/usDiff/testnet` in venue time), errors, the session methods (hello, test,
 * get_time, set/disable_heartbeat, subscribe, unsubscribe, unsubscribe_all), heartbeats, Deribit's
 * credits and the `error10028` fault. Every other public method is answered by the source: the
 * simulator (`./sim.ts`) or a recording (`./replay.ts`). Subscription keys are channel names.
 *
 * Credits as on Deribit: every frame, a malformed one too, spends the session's request budget
 * (DERIBIT_SESSION); `public/subscribe` and `unsubscribe` draw 3,000 of their own 30,000 instead;
 * past either, the frame is answered with 10028 and the session ends.
 */
import type { VenueHub, VenueHubOptions, VenueProtocol, VenueSource, LoggedRequest } from '../hub.ts';
import type { VenueSession } from '../session.ts';
import { TokenBucket } from '../client-socket.ts';

export const DERIBIT_WS_PATH = '/deribit/ws/api/v2';
export const API_VERSION = '1.2.26';

/**
 * Deribit's credits: a request costs 500 of a 50,000 pool refilled at 10,000/s (shared/feeds.md 1.2),
 * i.e. 100 at once and 20 a second. Deribit documents no cap on channels per session; the app holds
 * about 20 per currency.
 */
export const DERIBIT_SESSION: VenueHubOptions['session'] = { requestBurst: 100, requestsPerSec: 20, maxChannels: 1_000 };
/**
 * Heartbeat intervals `public/set_heartbeat` accepts, seconds. Deribit documents "not less than 10";
 * the simulator takes 1 so tests run fast. Deribit documents no maximum: one hour keeps the interval
 * far below Node's 2^31 ms timer limit.
 */
export const MIN_HEARTBEAT_S = 1;
export const MAX_HEARTBEAT_S = 3_600;

export type RpcError = { code: number; message: string; data?: unknown };
/** resultRaw: pre-serialised JSON (lets the badNumbers fault put literals like 1e400 on the wire). */
export type RpcReply = { result: unknown } | { resultRaw: string } | { error: RpcError };

export const ERR = {
  parse: { code: -32700, message: 'Parse error' },
  invalidRequest: { code: -32600, message: 'Invalid Request' },
  methodNotFound: { code: -32601, message: 'Method not found' },
  internal: { code: -32603, message: 'Internal error' },
  invalidParams: (reason: string, param?: string): RpcError => ({ code: -32602, message: 'Invalid params', data: param ? { reason, param } : { reason } }),
  tooManyRequests: { code: 10028, message: 'too_many_requests' },
  unauthorized: { code: 13009, message: 'unauthorized' },
} as const;

/** Where Deribit's data comes from: the simulator or a recording. `serves(channel)` decides which channels a subscribe processes. */
export interface DeribitSource extends VenueSource {
  /** Answer a public method, or undefined when the source does not know it (-> -32601); a relay answers later. */
  request(method: string, params: Record<string, unknown>): RpcReply | Promise<RpcReply> | undefined;
}

/** A subscription notification's text. */
export function notification(channel: string, data: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });
}

const TEST_REQUEST = '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}';

/** What the protocol keeps per session beyond the hub's: heartbeats and the subscribe credits. */
interface RpcSession {
  heartbeatMs: number;
  nextHeartbeatAt: number;
  awaitingTest: boolean;
  /** `public/subscribe` and `unsubscribe` draw on their own pool: 3,000 of 30,000 credits, 10,000/s. */
  subscribeCredits: TokenBucket;
}

/** A reply (a relay's comes later), and what to do once it is sent (the snapshot after a subscribe, the close after 10028). */
type Answer = { reply: RpcReply | Promise<RpcReply>; then?: () => void };

export class DeribitProtocol implements VenueProtocol {
  readonly paths = [DERIBIT_WS_PATH];
  readonly spendsBudget = true;
  readonly malformed: readonly string[] = [
    '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC-PERP',
    '{"jsonrpc":"2.0","method":"no_such_method","params":{}}',
    '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC-PERPETUAL.100ms","data":"not an object"}}',
    '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"nonexistent.channel.100ms","data":{"x":1}}}',
  ];
  private readonly rpc = new WeakMap<VenueSession, RpcSession>();

  constructor(
    readonly hub: VenueHub,
    readonly source: DeribitSource,
  ) {}

  /** The venue's clock now (not the simulator's last 100 ms step), as Deribit stamps envelopes and get_time. */
  private venueNow(): number {
    return this.hub.clock.now();
  }

  onOpen(s: VenueSession): void {
    this.rpc.set(s, { heartbeatMs: 0, nextHeartbeatAt: 0, awaitingTest: false, subscribeCredits: new TokenBucket(30_000, 10_000) });
  }

  onMessage(s: VenueSession, text: string, logged: LoggedRequest): void {
    const usIn = Math.round(this.venueNow() * 1000);
    const req = parseRequest(text);
    const method = 'method' in req ? req.method : undefined;
    logged.method = method;
    const rpc = this.rpc.get(s)!;
    // every frame spends credits, a malformed one too: answering errors must not be free
    const paid = method === 'public/subscribe' || method === 'public/unsubscribe' ? rpc.subscribeCredits.take(3_000) : s.admit();
    if (!paid) {
      // Deribit ends the session on 10028
      this.reply(s, req.id, usIn, { error: ERR.tooManyRequests });
      s.close(1000, 'too_many_requests');
      return;
    }
    if ('error' in req) {
      this.reply(s, req.id, usIn, { error: req.error });
      return;
    }
    let answer: Answer | undefined;
    try {
      answer = this.dispatch(s, rpc, req.method, req.params);
    } catch (e) {
      this.hub.errors.count(req.method, e);
      answer = { reply: { error: ERR.internal } };
    }
    if (!answer) return;
    const { reply, then } = answer;
    if (reply instanceof Promise) {
      void reply.then(
        (r) => {
          if (s.closed) return;
          this.reply(s, req.id, usIn, r);
          then?.();
        },
        (e: unknown) => {
          this.hub.errors.count(req.method, e);
          if (!s.closed) this.reply(s, req.id, usIn, { error: ERR.internal });
        },
      );
      return;
    }
    this.reply(s, req.id, usIn, reply);
    then?.();
  }

  private reply(s: VenueSession, id: unknown, usIn: number, r: RpcReply): void {
    const usOut = Math.round(this.venueNow() * 1000);
    const tail = `"usIn":${usIn},"usOut":${usOut},"usDiff":${Math.max(0, usOut - usIn)},"testnet":false}`;
    const idPart = id === undefined ? '' : `"id":${JSON.stringify(id)},`;
    let mid: string;
    if ('resultRaw' in r) mid = `"result":${r.resultRaw}`;
    else if ('result' in r) mid = `"result":${JSON.stringify(r.result)}`;
    else mid = `"error":${JSON.stringify(r.error)}`;
    s.reply(`{"jsonrpc":"2.0",${idPart}${mid},${tail}`);
  }

  private dispatch(s: VenueSession, rpc: RpcSession, method: string, params: Record<string, unknown>): Answer | undefined {
    switch (method) {
      case 'public/hello':
      case 'public/test':
        rpc.awaitingTest = false;
        return { reply: { result: { version: API_VERSION } } };
      case 'public/get_time':
        return { reply: { result: Math.floor(this.venueNow()) } };
      case 'public/set_heartbeat': {
        const iv = Number(params.interval);
        if (!Number.isFinite(iv) || iv < MIN_HEARTBEAT_S) return { reply: { error: ERR.invalidParams('interval too small', 'interval') } };
        if (iv > MAX_HEARTBEAT_S) return { reply: { error: ERR.invalidParams(`interval too large (at most ${MAX_HEARTBEAT_S} s)`, 'interval') } };
        rpc.heartbeatMs = iv * 1000;
        rpc.nextHeartbeatAt = Date.now() + rpc.heartbeatMs;
        rpc.awaitingTest = false;
        return { reply: { result: 'ok' } };
      }
      case 'public/disable_heartbeat':
        rpc.heartbeatMs = 0;
        rpc.awaitingTest = false;
        return { reply: { result: 'ok' } };
      case 'public/subscribe':
        return this.subscribe(s, params);
      case 'public/unsubscribe': {
        const chans = channelList(params);
        if (!Array.isArray(chans)) return { reply: { error: chans } };
        const done = chans.filter((c) => s.subs.delete(c));
        for (const c of done) s.state.delete(c);
        return { reply: { result: done } };
      }
      case 'public/unsubscribe_all':
        s.subs.clear();
        s.state.clear();
        return { reply: { result: 'ok' } };
      default: {
        if (method.startsWith('private/')) return { reply: { error: ERR.unauthorized } };
        return { reply: this.source.request(method, params) ?? { error: ERR.methodNotFound } };
      }
    }
  }

  private subscribe(s: VenueSession, params: Record<string, unknown>): Answer {
    const faults = this.hub.faults;
    if (faults.error10028Armed) {
      faults.error10028Armed = false;
      // the reply goes first, then the close, as on Deribit
      return { reply: { error: ERR.tooManyRequests }, then: () => s.close(1000, 'too_many_requests') };
    }
    const chans = channelList(params);
    if (!Array.isArray(chans)) return { reply: { error: chans } };
    const ok = chans.filter((c) => this.source.serves(c, s.path));
    const fresh = [...new Set(ok.filter((c) => !s.subs.has(c)))];
    if (!s.roomFor(fresh.length)) return { reply: { error: ERR.invalidParams(`too many channels for one session (at most ${s.limits.maxChannels})`, 'channels') } };
    for (const c of fresh) s.subs.add(c);
    // a book's first notification (its snapshot) follows the subscribe reply, as on Deribit
    const then = fresh.length > 0 ? () => this.hub.errors.guard('subscribe', () => this.source.subscribed?.(s, fresh)) : undefined;
    return { reply: { result: ok }, then };
  }

  /**
   * Heartbeats on the hub's 100 ms tick: a `test_request` each interval; a session that did not answer
   * the previous one with `public/test` within the interval is closed. Nothing under `silent`.
   */
  tick(tickNo: number): void {
    const now = Date.now();
    for (const s of this.hub.sessions) {
      const rpc = this.rpc.get(s);
      if (!rpc || rpc.heartbeatMs === 0 || now < rpc.nextHeartbeatAt || s.closed) continue;
      rpc.nextHeartbeatAt = Math.max(rpc.nextHeartbeatAt + rpc.heartbeatMs, now + 1);
      if (this.hub.fault('silent')) continue;
      if (rpc.awaitingTest) {
        // judged after this turn's input is read: a stalled loop runs this overdue tick before reading
        // an answer that arrived in time (timers come before socket reads in a turn of the event loop)
        setImmediate(() => {
          if (s.closed) return;
          if (rpc.awaitingTest) s.close(1000, 'heartbeat: no public/test in time');
          else this.testRequest(rpc, s);
        });
        continue;
      }
      this.testRequest(rpc, s);
    }
    this.source.tick(tickNo);
  }

  private testRequest(rpc: { awaitingTest: boolean }, s: VenueSession): void {
    rpc.awaitingTest = true;
    s.sendRaw(TEST_REQUEST, true);
  }

  oversizeFrame(): string {
    return notification('ticker.BTC-PERPETUAL.100ms', { instrument_name: 'BTC-PERPETUAL', timestamp: this.hub.nowMs(), padding: 'x'.repeat(10 * 1024 * 1024) });
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
