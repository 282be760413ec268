/**
 * One client's websocket as every venue protocol of the local server sends to it, and what every hub
 * (Deribit's and the OKX/Bybit/Binance VenueHub) shares about sessions (issue 6 and issue 11 security):
 *
 * - A send buffer bounded in bytes: data frames are skipped above the soft limit (the next tick sends
 *   the latest state, so skipping loses nothing that matters; `takesData()` lets a tick skip before it
 *   builds a frame); essential frames (replies, acks, pongs, heartbeats, listings) go while the queue is
 *   under the hard limit. An essential frame that would go over it, or a client stuck above it for the
 *   grace period, drops the client at once: it is not reading, so a close frame could not reach it,
 *   and its queued bytes are freed now rather than after ws's 30 s close timeout.
 * - A request budget per session that counts every inbound frame, malformed ones included, so a client
 *   cannot make the server answer without limit.
 * - A cap on the channels one session holds, as the real venues have.
 * - Errors caught around message handling and ticks, counted by cause and logged once per cause.
 * - Frames sent in one turn of the event loop leave in one write (the socket corked until the turn
 *   ends): a relay fans each upstream burst out to every screen, and a write per frame per screen was a
 *   quarter of a relay's (and the simulator's) CPU.
 */
import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';

export interface SendLimits {
  /** Above this many queued bytes, data frames are skipped. */
  softBufferBytes: number;
  /** Essential frames are queued only below this many bytes; above it for longer than hardGraceMs, the client is dropped. */
  hardBufferBytes: number;
  hardGraceMs: number;
  /**
   * A client whose queue stays above the soft limit this long (every data frame skipped meanwhile) is
   * dropped as well: absent, never (the simulator's next tick has the latest state anyway); a relay sets
   * it, so a screen that stopped reading does not hold a socket that gets nothing.
   */
  softGraceMs?: number;
}

export const DEFAULT_SEND_LIMITS: SendLimits = { softBufferBytes: 256 * 1024, hardBufferBytes: 4 * 1024 * 1024, hardGraceMs: 2_000 };

/** What one session may ask of a venue: inbound frames and channels (each venue sets its own). */
export interface SessionLimits extends SendLimits {
  /** Inbound frames a session may send at once (every frame: requests, pings and frames that are not valid requests alike). */
  requestBurst: number;
  /** Inbound frames per second the budget refills. */
  requestsPerSec: number;
  /** Channels (subscriptions) one session may hold. */
  maxChannels: number;
}

/** How long a closing socket may take to finish the close handshake before it is terminated. */
export const CLOSE_GRACE_MS = 1_000;

/** A token bucket: `burst` tokens, refilled at `perSec` a second. */
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
  take(cost = 1): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSec);
    this.last = t;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}

/** A turn's frames to one client wait in the corked socket up to this many bytes, then go out. */
const BATCH_BYTES = 64 * 1024;

export class ClientSocket {
  closed = false;
  sentFrames = 0;
  skippedFrames = 0;
  /** Largest send buffer seen right after a send, bytes. */
  maxBuffered = 0;
  /** Dropped for being over the hard limit (a client that does not read). */
  closedSlow = false;
  /** Subscribed channels: the venue's subscription keys. */
  readonly subs = new Set<string>();
  private overSince: number | undefined;
  private softSince: number | undefined;
  /** Bytes over the hard limit allowed while a deliberately oversized frame (the `oversize` fault) drains. */
  private allowance = 0;
  private readonly requests: TokenBucket;
  /** While the socket is corked for this turn: the bytes queued when the batch began. */
  private batchFrom: number | null = null;

  constructor(
    readonly ws: WebSocket,
    readonly limits: SessionLimits,
    /** The socket under `ws` (the upgrade's), corked for a turn of the event loop while frames go out. */
    private readonly transport?: Pick<Writable, 'cork' | 'uncork'>,
  ) {
    this.requests = new TokenBucket(limits.requestBurst, limits.requestsPerSec);
  }

  /** Counts one inbound frame (`cost` of them) against the request budget; false when over it. */
  admit(cost = 1): boolean {
    return this.requests.take(cost);
  }

  /** Whether `more` new channels fit under the session's cap. */
  roomFor(more: number): boolean {
    return this.subs.size + more <= this.limits.maxChannels;
  }

  /**
   * Whether a data frame would go out now. A tick asks before it builds a frame for this client; when
   * the answer is no (closed, or backpressure) the frame counts as skipped.
   */
  takesData(): boolean {
    if (this.closed) return false;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.hardLimit(buffered)) {
      if (this.stuckTooLong()) {
        this.dropSlow();
        return false;
      }
    } else this.overSince = undefined;
    if (buffered <= this.limits.softBufferBytes) return true;
    this.skippedFrames++;
    return false;
  }

  /** Send with backpressure; false when the frame was not sent (closed, skipped, or the client dropped). */
  sendRaw(text: string | Buffer, essential: boolean, binary = false): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    const buffered = this.ws.bufferedAmount;
    const lim = this.limits;
    if (buffered > this.hardLimit(buffered)) {
      // bytes, not time, bound what a client that does not read can make us hold
      if (essential || this.stuckTooLong()) {
        this.dropSlow();
        return false;
      }
    } else this.overSince = undefined;
    if (buffered <= lim.softBufferBytes) this.softSince = undefined;
    else if (!essential) {
      const now = Date.now();
      this.softSince ??= now;
      if (lim.softGraceMs !== undefined && now - this.softSince > lim.softGraceMs) {
        this.dropSlow();
        return false;
      }
      this.skippedFrames++;
      return false;
    }
    const t = this.transport;
    if (t && this.batchFrom === null) {
      this.batchFrom = buffered;
      t.cork();
      process.nextTick(() => {
        this.batchFrom = null;
        t.uncork();
      });
    }
    this.ws.send(text, { binary });
    this.sentFrames++;
    let after = this.ws.bufferedAmount;
    if (t && this.batchFrom !== null && after - this.batchFrom > BATCH_BYTES) {
      // a big turn goes out as it grows: the limits keep judging what the client has not taken
      t.uncork();
      t.cork();
      after = this.batchFrom = this.ws.bufferedAmount;
    }
    if (after > this.maxBuffered) this.maxBuffered = after;
    return true;
  }

  /**
   * The `oversize` fault's frame (10 MB, sent as an essential frame): the hard limit is stretched by its
   * size until the buffer is back under the limit, so a reading client is not dropped for the frame the
   * fault itself queued.
   */
  sendOversized(text: string): boolean {
    const sent = this.sendRaw(text, true);
    if (sent) this.allowance = text.length;
    return sent;
  }

  private hardLimit(buffered: number): number {
    if (buffered <= this.limits.hardBufferBytes) this.allowance = 0;
    return this.limits.hardBufferBytes + this.allowance;
  }

  private stuckTooLong(): boolean {
    const now = Date.now();
    this.overSince ??= now;
    return now - this.overSince > this.limits.hardGraceMs;
  }

  /** Drop a client that does not read: its queued bytes go now. */
  private dropSlow(): void {
    if (this.closed) return;
    this.closedSlow = true;
    this.closed = true;
    this.onClose();
    this.ws.terminate();
  }

  /** Close with a code; a client that does not finish the handshake in CLOSE_GRACE_MS is terminated. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    try {
      this.ws.close(code, reason.slice(0, 123)); // a close reason is at most 123 bytes
      setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
    } catch {
      this.ws.terminate();
    }
  }

  /** Subclass hook run once when the server closes the socket (e.g. stop its heartbeat timer). */
  protected onClose(): void {}
}

/**
 * Errors caught around a hub's message handling and ticks: counted by cause (where + message) and
 * logged the first time each cause is seen, so a bad subscription costs one log line, not a stack
 * trace every 100 ms. At most 50 causes are kept; later ones count together.
 */
export class CaughtErrors {
  private readonly counts = new Map<string, number>();
  constructor(
    readonly venue: string,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {}

  count(where: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    let cause = `${where}: ${message}`.slice(0, 200);
    if (!this.counts.has(cause) && this.counts.size >= 50) cause = `${where}: (other causes)`;
    const n = (this.counts.get(cause) ?? 0) + 1;
    this.counts.set(cause, n);
    if (n === 1) this.log(`[${this.venue}] ${cause} (counted, logged once)${e instanceof Error && e.stack ? `\n${e.stack}` : ''}`);
  }

  /** Run `fn`; a throw is counted, not propagated. */
  guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.count(where, e);
    }
  }

  /** Cause -> count (for /__gexdesk/info). */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}

/**
 * `each(session, key)` for every subscription of every open session; a throw is counted under `where`
 * and the loop goes on, so one bad subscription cannot starve the sessions after it.
 */
export function eachSubscription<S extends ClientSocket>(sessions: Iterable<S>, errors: CaughtErrors, where: string, each: (s: S, key: string) => void): void {
  for (const s of sessions) {
    if (s.closed) continue;
    for (const key of s.subs) {
      try {
        each(s, key);
      } catch (e) {
        errors.count(where, e);
      }
    }
  }
}
