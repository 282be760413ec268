/**
 * Deribit JSON-RPC 2.0 over the feed's socket: request ids, the table of requests awaiting an answer,
 * each answer routed to what asked for it, the venue's clock read from the hello reply, and the
 * venue's error policy. A 10028 too_many_requests
 * TERMINATES the session (shared/feeds.md §1.2), so it ends the connection here and the next dial
 * waits >= 10 s + jitter for the credits to refill; other errors are shown and the session goes on
 * (lists retry on their next refresh, channels on the next connection). A trade history page is awaited
 * by its caller: its answer or error settles the caller's promise instead (an error is the caller's to
 * show and retry), and a connection that ends first rejects it.
 */
import type { FeedSink } from '../adapter.ts';
import { isRecord } from '../frame-guard.ts';
import type { FrameClass } from '../managed-socket.ts';
import type { DeribitMessage } from './parse.ts';
import { MAX_PENDING_REQUESTS, RATE_LIMIT_FLOOR_MS, RATE_LIMIT_JITTER_MS } from './limits.ts';

/** What a request asked for, kept until its answer comes. */
export type Request =
  | { kind: 'hello' | 'heartbeat' | 'test' | 'instruments' | 'summary' }
  | { kind: 'subscribe' | 'unsubscribe'; channels: string[] }
  /** `public/get_last_trades_by_currency_and_time`, awaited by TradeHistory.fetchPage. */
  | { kind: 'tradePage'; resolve: (result: unknown) => void; reject: (e: Error) => void };

/** The requests whose answers go to `onResult`. */
export type AnsweredRequest = Exclude<Request, { kind: 'tradePage' }>;

export interface RpcOptions {
  sink: FeedSink;
  /** Uniform [0, 1) for the 10028 jitter. */
  random: () => number;
  /** Ends the session; the next dial waits at least `minDelayMs`. */
  restart: (reason: string, minDelayMs: number) => void;
  /** An answer to a request of this connection (a trade page goes to its caller); says whether it was data. */
  onResult: (request: AnsweredRequest, result: unknown) => FrameClass;
}

const TOO_MANY_REQUESTS = 10028;
/** Requests whose answer may be large (a trade page of 1,000 trades is some 400 KB). */
const isList = (r: Request) => r.kind === 'instruments' || r.kind === 'summary' || r.kind === 'tradePage';

export class DeribitRpc {
  private nextId = 1;
  private readonly pending = new Map<number, Request>();
  /** List requests awaiting their answer: a large frame is only plausible while there are some. */
  private lists = 0;

  constructor(private readonly o: RpcOptions) {}

  get awaitingList(): boolean {
    return this.lists > 0;
  }

  /** One request, registered and ready to send on the current connection. */
  message(method: string, params: Record<string, unknown>, request: Request): string {
    const id = this.nextId++;
    if (this.pending.size >= MAX_PENDING_REQUESTS) {
      // A server that never answers must not grow the table; the oldest entries go first.
      const first = this.pending.keys().next().value;
      if (first !== undefined) rejectPage(this.take(first), 'no answer (too many requests outstanding)');
    }
    this.pending.set(id, request);
    if (isList(request)) this.lists++;
    return JSON.stringify({ jsonrpc: '2.0', id, method, params });
  }

  /** An answer frame of the current connection. */
  receive(m: Extract<DeribitMessage, { kind: 'response' | 'error' }>, frame: unknown): FrameClass {
    const request = this.take(m.id);
    if (m.kind === 'response') {
      // An answer to a request of an old connection, or to nothing.
      if (!request) return 'other';
      if (request.kind === 'tradePage') {
        request.resolve(m.result);
        return 'other';
      }
      if (request.kind === 'hello') this.anchor(frame);
      return this.o.onResult(request, m.result);
    }
    rejectPage(request, m.code === null ? m.message : `Deribit error ${m.code}: ${m.message}`);
    if (m.code === TOO_MANY_REQUESTS) {
      const wait = RATE_LIMIT_FLOOR_MS + Math.floor(Math.max(0, Math.min(0.999999, this.o.random())) * RATE_LIMIT_JITTER_MS);
      this.o.sink.status('deribit', { kind: 'venueError', code: m.code, message: m.message, retryInMs: wait });
      this.o.restart('rate limited by venue (10028 too_many_requests)', wait);
      return 'other';
    }
    // A trade page's error is its caller's to show and retry.
    if (request?.kind === 'tradePage') return 'other';
    const what = request ? `${request.kind}: ` : '';
    this.o.sink.status('deribit', { kind: 'venueError', code: m.code, message: what + m.message, retryInMs: null });
    return 'other';
  }

  /** The connection ended: its requests will never be answered. */
  reset(): void {
    for (const r of this.pending.values()) rejectPage(r, 'connection closed before the answer');
    this.pending.clear();
    this.lists = 0;
  }

  /**
   * The venue's clock on this connection (`usOut` of the hello reply, µs) re-anchors the host's
   * venue-time guard: a reconnect after a gap of hours at replay speed is followed from its first frame.
   */
  private anchor(frame: unknown): void {
    const usOut = isRecord(frame) ? frame.usOut : undefined;
    if (typeof usOut === 'number' && Number.isFinite(usOut) && usOut > 0) {
      this.o.sink.status('deribit', { kind: 'serverTime', timestampMs: Math.floor(usOut / 1000) });
    }
  }

  private take(id: number | null): Request | undefined {
    const request = id === null ? undefined : this.pending.get(id);
    if (request === undefined) return undefined;
    this.pending.delete(id!);
    if (isList(request)) this.lists--;
    return request;
  }
}

/** A trade page that will not be answered: its caller hears why. */
function rejectPage(request: Request | undefined, why: string): void {
  if (request?.kind === 'tradePage') request.reject(new Error(why));
}
