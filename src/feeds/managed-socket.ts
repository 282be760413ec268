/**
 * One venue websocket kept alive: connect with a dial timeout, resend the whole desired subscription
 * set on every open (paced, with an optional per-connection hourly budget), keepalive by app-level
 * ping (idle or fixed interval) or by silence detection, a data-silence watchdog (open, heartbeats
 * arriving, but no data: shared/reliability.md §1.4), proactive reconnect before a venue's maximum
 * connection lifetime, capped full-jitter backoff (§1.1-§1.3), and a generation counter so frames,
 * timers and closes of an old socket never touch the new one.
 *
 * Every venue client runs its sockets on it (Deribit, OKX, Bybit, Binance). It never throws into the
 * socket handler: a frame handler that throws is counted as a dropped frame.
 *
 * One file on purpose (~400 lines): connect, pacing, keepalive, the watchdogs and teardown all read and
 * reset the same generation and timers; split, each part's correctness would depend on another file's.
 */
import type { Clock, FeedEvent, FeedSink, SocketFactory, SocketLike } from './adapter.ts';
import type { VenueId } from '../chain/model.ts';
import { Backoff } from './backoff.ts';
import { frameSize } from './frame-guard.ts';
import { CONNECT_TIMEOUT_MS, MAX_FRAME_BYTES_LIVE } from './limits.ts';

/**
 * Codes of the `closed` events this module raises itself (4000-4999 are application codes). The socket
 * itself is closed with 4000 for all of them (1000 below 4000): the venue needs no more.
 */
export const CLOSE_RESTART = 4000;
export const CLOSE_CONNECT_TIMEOUT = 4001;
export const CLOSE_LIFETIME = 4002;
export const CLOSE_SILENCE = 4003;
export const CLOSE_SEND_FAILED = 4004;
export const CLOSE_NO_PONG = 4005;
export const CLOSE_DATA_SILENCE = 4006;

/** What a frame was, for liveness and the `data` event. */
export type FrameClass = 'data' | 'heartbeat' | 'other';

export interface PingPolicy {
  /** 'idle': ping after `periodMs` without any inbound frame (OKX). 'interval': every `periodMs` (Bybit). */
  mode: 'idle' | 'interval';
  periodMs: number;
  /** No frame at all within this after a ping: the socket is dead. */
  pongTimeoutMs: number;
  message: () => string;
}

export interface ManagedSocketOptions {
  venue: VenueId;
  /** Short name used in reasons when a venue runs several sockets (e.g. "option", "linear"). */
  label: string;
  url: string;
  clock: Clock;
  socketFactory: SocketFactory;
  sink: FeedSink;
  random: () => number;
  ping: PingPolicy | null;
  /**
   * Reconnect when no frame at all arrived for this long: venues whose keepalive we cannot see
   * (Binance), or that send heartbeats themselves (Deribit: 2 x its heartbeat interval + slack).
   */
  silenceMs?: number;
  /**
   * Reconnect when no data frame (`onText` said 'data') arrived for this long, heartbeats or not: an
   * open socket whose channels went quiet is a dead stream (Deribit: a minute).
   */
  dataSilenceMs?: number;
  /** Reconnect proactively after this long (Binance closes every connection at 24 h). */
  maxLifetimeMs?: number;
  connectTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Floor for every reconnect delay (OKX: 3 connection requests per second per IP). */
  minReconnectMs?: number;
  /** The whole desired subscription set for a fresh connection, as ready-to-send messages. */
  subscribeMessages: () => string[];
  /** Spacing between sent messages. */
  sendSpacingMs: number;
  /** Per-connection budget of sent subscribe messages per rolling hour (OKX: 480). */
  hourlyBudget?: number;
  /** Handles one size-checked text frame of the current connection. */
  onText: (text: string) => FrameClass;
  /**
   * Called after each (re)connect before the subscriptions go out, e.g. to reset book state or to send
   * a venue's session requests (`sendNow`).
   */
  onOpen?: () => void;
  /** Called when the current connection ends (any reason). */
  onDisconnect?: () => void;
}

const HOUR_MS = 3_600_000;
/** One event object for every data frame (tens of thousands a second at 10x): never changed by the sink. */
const DATA_EVENT: FeedEvent = Object.freeze({ kind: 'data' });

export class ManagedSocket {
  private readonly o: ManagedSocketOptions;
  private readonly backoff: Backoff;
  private socket: SocketLike | null = null;
  /** Incremented for every connection attempt and on stop; handlers compare their captured value. */
  private gen = 0;
  private running = false;
  private opened = false;
  private timers = new Set<unknown>();
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;
  /** Clock time of the newest frame of any kind / of the newest data frame, this connection. */
  private lastFrameAt = 0;
  private lastDataAt = 0;
  private sendQueue: string[] = [];
  private sendTimer: unknown = null;
  private lastSendAt = -Infinity;
  private sentAt: number[] = [];

  constructor(options: ManagedSocketOptions) {
    this.o = options;
    this.backoff = new Backoff({ random: options.random });
  }

  get isOpen(): boolean {
    return this.opened;
  }

  /**
   * Messages sent on the current connection within the last hour: what a per-connection hourly budget
   * (OKX: 480 subscribe requests) is charged with.
   */
  get sentLastHour(): number {
    this.pruneSent(this.o.clock.now());
    return this.sentAt.length;
  }

  /** The current connection generation (tests and diagnostics). */
  get generation(): number {
    return this.gen;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.gen++;
    this.clearAllTimers();
    this.detachAndClose(1000, 'stopped');
    this.opened = false;
  }

  /** Queue one message on the current connection (paced). Dropped when not open: reconnect resends the set. */
  send(message: string): void {
    if (!this.opened) return;
    this.sendQueue.push(message);
    this.pump(this.gen);
  }

  /**
   * Send one message at once, outside the paced queue: requests a venue meters apart from
   * subscriptions (Deribit's hello and list requests, and the answer to its test_request, which must
   * not wait behind a subscribe). False when not open or when the send failed (the connection is then
   * restarted).
   */
  sendNow(message: string): boolean {
    if (!this.opened || !this.socket) return false;
    try {
      this.socket.send(message);
    } catch {
      this.teardown(CLOSE_SEND_FAILED, `${this.o.label}: send failed`);
      return false;
    }
    return true;
  }

  /** Runs `fn` after `ms` unless the current connection ends first (a per-connection refresh). */
  connectionTimer(ms: number, fn: () => void): void {
    if (this.opened) this.later(this.gen, ms, fn);
  }

  /** Drop this connection and reconnect after the backoff (or `minDelayMs` if longer). */
  restart(reason: string, minDelayMs = 0): void {
    if (!this.running) return;
    this.teardown(CLOSE_RESTART, reason, minDelayMs);
  }

  private connect(): void {
    if (!this.running) return;
    const gen = ++this.gen;
    this.opened = false;
    this.o.sink.status(this.o.venue, { kind: 'connecting' });
    let socket: SocketLike;
    try {
      socket = this.o.socketFactory(this.o.url);
    } catch (e) {
      this.teardown(1006, `${this.o.label}: cannot open socket: ${String(e).slice(0, 120)}`);
      return;
    }
    this.socket = socket;
    this.later(gen, this.o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, () => {
      if (!this.opened) this.teardown(CLOSE_CONNECT_TIMEOUT, `${this.o.label}: connect timeout`);
    });
    socket.onopen = () => {
      if (gen !== this.gen) return;
      this.opened = true;
      this.sendQueue = [];
      this.sentAt = [];
      this.o.sink.status(this.o.venue, { kind: 'open' });
      if (this.o.maxLifetimeMs !== undefined) {
        this.later(gen, this.o.maxLifetimeMs, () => this.teardown(CLOSE_LIFETIME, `${this.o.label}: proactive reconnect before the venue's connection lifetime`, 0, true));
      }
      this.onInbound(gen);
      this.lastDataAt = this.lastFrameAt;
      const { silenceMs, dataSilenceMs } = this.o;
      if (silenceMs !== undefined) this.watch(gen, silenceMs, () => this.lastFrameAt, CLOSE_SILENCE, `no frame for ${silenceMs} ms`);
      if (dataSilenceMs !== undefined) this.watch(gen, dataSilenceMs, () => this.lastDataAt, CLOSE_DATA_SILENCE, `no data for ${dataSilenceMs} ms`);
      this.armIntervalPing(gen);
      try {
        this.o.onOpen?.();
      } catch {
        // A venue hook must not break the connection manager.
      }
      if (gen !== this.gen) return; // the hook's send failed: that connection is gone
      for (const m of this.o.subscribeMessages()) this.sendQueue.push(m);
      this.pump(gen);
    };
    socket.onmessage = (ev) => {
      if (gen !== this.gen) return; // a late frame of an old socket
      this.onInbound(gen);
      const size = frameSize(ev.data);
      if (typeof ev.data !== 'string' || size === null) {
        this.o.sink.status(this.o.venue, { kind: 'dropped', reason: 'malformed' });
        return;
      }
      if (size > (this.o.maxFrameBytes ?? MAX_FRAME_BYTES_LIVE)) {
        this.o.sink.status(this.o.venue, { kind: 'dropped', reason: 'oversize' });
        return;
      }
      let cls: FrameClass;
      try {
        cls = this.o.onText(ev.data);
      } catch {
        cls = 'other';
        this.o.sink.status(this.o.venue, { kind: 'dropped', reason: 'malformed' });
      }
      if (gen !== this.gen) return; // the handler restarted the connection
      if (cls === 'data') {
        this.lastDataAt = this.lastFrameAt;
        this.backoff.noteValidData(this.lastFrameAt);
        this.o.sink.status(this.o.venue, DATA_EVENT);
      }
    };
    socket.onerror = () => {
      // The close event that follows carries the code; nothing to do here.
    };
    socket.onclose = (ev) => {
      if (gen !== this.gen) return;
      const code = typeof ev?.code === 'number' ? ev.code : 1006;
      const reason = typeof ev?.reason === 'string' ? ev.reason : '';
      this.teardown(code, reason || `${this.o.label}: closed`);
    };
  }

  /** Ends the current connection (if any) and schedules the next one. */
  private teardown(code: number, reason: string, minDelayMs = 0, proactive = false): void {
    this.gen++;
    this.clearAllTimers();
    this.detachAndClose(code >= 4000 ? 4000 : 1000, reason);
    this.opened = false;
    this.backoff.noteDisconnected();
    try {
      this.o.onDisconnect?.();
    } catch {
      // ignore
    }
    if (!this.running) return;
    // A planned lifetime reconnect is not a failure: go again at once (after the connection floor).
    const backoffMs = proactive ? 0 : this.backoff.nextDelayMs();
    const delay = Math.max(backoffMs, minDelayMs, this.o.minReconnectMs ?? 0);
    this.o.sink.status(this.o.venue, { kind: 'closed', code, reason, retryInMs: delay });
    const gen = this.gen;
    this.later(gen, delay, () => this.connect());
  }

  private detachAndClose(code: number, reason: string): void {
    const s = this.socket;
    this.socket = null;
    if (!s) return;
    s.onopen = null;
    s.onmessage = null;
    // Keep a no-op error handler: `ws` in Node emits 'error' when a still-connecting socket is
    // closed, and an emitter error with no listener would crash the process.
    s.onerror = () => {};
    s.onclose = null;
    try {
      s.close(code, reason.slice(0, 120));
    } catch {
      // Closing a socket that never opened can throw in some implementations.
    }
  }

  /** Any inbound frame proves the socket alive: clear the pong wait, re-arm the idle ping, stamp the time. */
  private onInbound(gen: number): void {
    this.lastFrameAt = this.o.clock.now();
    if (this.pongTimer !== null) {
      this.clear(this.pongTimer);
      this.pongTimer = null;
    }
    const p = this.o.ping;
    if (p && p.mode === 'idle') {
      if (this.pingTimer !== null) this.clear(this.pingTimer);
      this.pingTimer = this.later(gen, p.periodMs, () => {
        this.pingTimer = null;
        this.sendPing(gen);
      });
    }
  }

  /**
   * A watchdog that ends the connection when `last()` is `limitMs` old. Frames only stamp a time; the
   * timer re-arms itself for the remainder, so a busy stream costs no timer churn per frame.
   */
  private watch(gen: number, limitMs: number, last: () => number, code: number, what: string): void {
    const check = () => {
      const idle = this.o.clock.now() - last();
      if (idle >= limitMs) this.teardown(code, `${this.o.label}: ${what}`);
      else this.later(gen, limitMs - idle, check);
    };
    this.later(gen, limitMs, check);
  }

  private armIntervalPing(gen: number): void {
    const p = this.o.ping;
    if (!p || p.mode !== 'interval') return;
    this.later(gen, p.periodMs, () => {
      this.sendPing(gen);
      this.armIntervalPing(gen);
    });
  }

  private sendPing(gen: number): void {
    const p = this.o.ping;
    if (!p || gen !== this.gen || !this.socket) return;
    try {
      this.socket.send(p.message());
    } catch {
      this.teardown(CLOSE_SEND_FAILED, `${this.o.label}: ping send failed`);
      return;
    }
    if (this.pongTimer === null) {
      this.pongTimer = this.later(gen, p.pongTimeoutMs, () => this.teardown(CLOSE_NO_PONG, `${this.o.label}: no pong within ${p.pongTimeoutMs} ms`));
    }
  }

  private pump(gen: number): void {
    if (gen !== this.gen || this.sendTimer !== null || this.sendQueue.length === 0 || !this.socket) return;
    const now = this.o.clock.now();
    let waitMs = Math.max(0, this.lastSendAt + this.o.sendSpacingMs - now);
    const budget = this.o.hourlyBudget;
    if (budget !== undefined) {
      this.pruneSent(now);
      if (this.sentAt.length >= budget) waitMs = Math.max(waitMs, this.sentAt[0] + HOUR_MS - now);
    }
    if (waitMs > 0) {
      this.sendTimer = this.later(gen, waitMs, () => {
        this.sendTimer = null;
        this.pump(gen);
      });
      return;
    }
    const msg = this.sendQueue.shift() as string;
    try {
      this.socket.send(msg);
    } catch {
      this.teardown(CLOSE_SEND_FAILED, `${this.o.label}: send failed`);
      return;
    }
    this.lastSendAt = now;
    this.sentAt.push(now);
    this.pump(gen);
  }

  private pruneSent(now: number): void {
    while (this.sentAt.length > 0 && this.sentAt[0] <= now - HOUR_MS) this.sentAt.shift();
  }

  /** A timer that does nothing once its connection generation is gone. */
  private later(gen: number, ms: number, fn: () => void): unknown {
    const handle = this.o.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (gen !== this.gen) return;
      fn();
    }, ms);
    this.timers.add(handle);
    return handle;
  }

  private clear(handle: unknown): void {
    this.o.clock.clearTimeout(handle);
    this.timers.delete(handle);
  }

  private clearAllTimers(): void {
    for (const t of this.timers) this.o.clock.clearTimeout(t);
    this.timers.clear();
    this.pingTimer = null;
    this.pongTimer = null;
    this.sendTimer = null;
    this.sendQueue = [];
  }
}
