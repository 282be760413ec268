/**
 * Replay of a recording (format: recording.ts / README). The player owns the replay clock and the
 * timeline of every venue's recorded data frames; each venue's source delivers its own frames through
 * its own protocol (Deribit: ReplaySource below; OKX, Bybit, Binance: venue-source.ts).
 * Playback starts when the first client connects to any venue (so it sees the recording from its
 * beginning). Every recorded frame is due at its recorded offset (/ speed). At the end it loops
 * (default), shifting venue timestamps by one recording span + 1 s per loop so that a client ordering
 * by timestamp keeps accepting them; or it stops (loop=false).
 *
 * Deribit (ReplaySource): a recorded notification goes only to the sessions subscribed to its channel,
 * in recorded order, under the name they subscribed (a recorded `.raw` stream serves `.100ms`: see
 * ChannelMap in deribit/replay-book.ts). Books (`book.{instrument}.{interval}`) are folded as they play:
 * a subscriber joining mid-recording first gets the folded book as a `snapshot` whose change_id the
 * next recorded change's prev_change_id names, as Deribit sends a snapshot on subscribe. Other channels
 * have no state to rebuild: a late `ticker.*` subscriber waits for the next recorded ticker (as on
 * Deribit, where the next 100 ms notification is the whole ticker). Requests are answered from the
 * latest recorded response of the same method (else synthesised from the names and tickers seen),
 * without instruments expired at the replay's venue time.
 */
import { readFileSync } from 'node:fs';
import { SimClock } from '../clock.ts';
import { CaughtErrors } from '../venues/client-socket.ts';
import { parseInstrumentName } from '../sim/calendar.ts';
import type { DeribitHub, Session } from '../venues/deribit/hub.ts';
import { BookFold, ChannelMap, isChainedBook } from '../venues/deribit/replay-book.ts';
import { ERR, type DeribitSource, type RpcReply } from '../venues/deribit/types.ts';
import { parseRecording, shiftTimes, type RecordedFrame, type RecordedRest, type RecordedVenue, type ReplayReport } from './recording.ts';

export { parseRecording, type RecordedFrame, type ReplayReport } from './recording.ts';

export interface ReplayOptions {
  speed: number;
  loop: boolean;
  wallNow?: () => number;
}

interface Entry {
  ts: number;
  deliver: (shift: number) => void;
}

/** The replay clock and the timeline of all venues' recorded data frames. */
export class ReplayPlayer {
  readonly clock: SimClock;
  readonly report: ReplayReport;
  readonly frames: RecordedFrame[];
  readonly rest: RecordedRest[];
  private timeline: Entry[] = [];
  private sealed = false;
  private started = false;
  private stopped = false;
  private cursor = 0;
  private loopIdx = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Venue time of the recording's first data frame. */
  t0 = 0;
  /** Throws caught delivering a frame (counted by cause; playback goes on). */
  readonly errors = new CaughtErrors('replay');

  static load(file: string, opts: ReplayOptions): ReplayPlayer {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read recording ${file}: ${(e as Error).message}`, { cause: e });
    }
    return new ReplayPlayer(text, opts);
  }

  constructor(
    text: string,
    private readonly opts: ReplayOptions,
  ) {
    const { frames, rest, report } = parseRecording(text);
    // play on the venue's clock: recorded times move to the venue time the Deribit frames carry
    const offset = venueClockOffset(frames);
    if (offset !== 0) {
      for (const f of frames) f.ts += offset;
      for (const r of rest) r.ts += offset;
    }
    report.clockOffsetMs = offset;
    this.frames = frames;
    this.rest = rest;
    this.report = report;
    report.loop = opts.loop;
    this.clock = new SimClock(frames[0]?.ts ?? Date.now(), opts.speed, opts.wallNow);
    this.clock.pause(); // venue time stands at the recording's start until someone watches
  }

  /** Venues with any recorded line (frames or REST answers). */
  venues(): RecordedVenue[] {
    return Object.keys(this.report.venues) as RecordedVenue[];
  }

  framesOf(venue: RecordedVenue): RecordedFrame[] {
    return this.frames.filter((f) => f.venue === venue);
  }

  restOf(venue: RecordedVenue): RecordedRest[] {
    return this.rest.filter((r) => r.venue === venue);
  }

  bad(reason: string): void {
    this.report.badLines++;
    this.report.badReasons[reason] = (this.report.badReasons[reason] ?? 0) + 1;
  }

  /** A data frame due at recorded time `ts`; `deliver(shift)` sends it with venue times moved by `shift`. */
  add(ts: number, deliver: (shift: number) => void): void {
    if (this.sealed) throw new Error('replay timeline already sealed');
    this.timeline.push({ ts, deliver });
  }

  /** Every source has added its frames: order the timeline and set the clock to its start. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    this.timeline.sort((a, b) => a.ts - b.ts); // stable: same-ms frames keep their recorded order
    this.t0 = this.timeline[0]?.ts ?? this.frames[0]?.ts ?? this.clock.now();
    this.report.spanMs = this.timeline.length > 0 ? this.timeline[this.timeline.length - 1].ts - this.t0 : 0;
    this.clock.reset(this.t0);
  }

  /** A client connected: play from the start (once). */
  start(): void {
    if (this.started) return;
    this.seal();
    this.started = true;
    this.clock.resume();
    this.clock.reset(this.t0);
    this.schedule(0);
  }

  cycleMs(): number {
    return this.report.spanMs + 1000;
  }

  /** A non-looping replay has delivered its whole timeline. */
  get finished(): boolean {
    return this.started && !this.opts.loop && this.cursor >= this.timeline.length;
  }

  /** The playback position in recorded time (the same in every loop). */
  position(): number {
    return this.t0 + ((this.clock.now() - this.t0) % this.cycleMs());
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.pump(), Math.max(1, Math.min(ms, 250)));
  }

  /** Deliver every frame due by the clock; then sleep until the next one (bounded, so pause/resume and speed apply). */
  private pump(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const cycle = this.cycleMs();
    for (;;) {
      if (this.cursor >= this.timeline.length) {
        if (!this.opts.loop || this.timeline.length === 0) return; // stop: no more timers
        this.cursor = 0;
        // after a clock jump (expireAt) over whole cycles, go on in the cycle holding the clock rather than replay every one between
        this.loopIdx = Math.max(this.loopIdx + 1, Math.floor((now - this.t0) / cycle));
        this.report.loops = this.loopIdx;
      }
      const e = this.timeline[this.cursor];
      const due = e.ts + this.loopIdx * cycle;
      if (due > now) {
        this.schedule((due - now) / this.opts.speed);
        return;
      }
      this.cursor++;
      this.report.delivered++;
      this.errors.guard('deliver', () => e.deliver(this.loopIdx * cycle));
    }
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * How far the venue's clock was from the recorder's (ms, venue minus recorder), read from the Deribit
 * frames: replies' `usOut` and notifications' `timestamp` against their recorded receive times (the
 * median, so a few stale stamps do not matter). Under a second is transit time and the recorded times
 * stay as they are; beyond that the recording is of a market on another clock (a simulator started at
 * another date, a re-timed capture), and the replay clock must run on the venue's own time: it answers
 * `get_time`, stamps `usOut`, and decides which instruments have expired. 0 without Deribit stamps.
 */
export function venueClockOffset(frames: readonly RecordedFrame[]): number {
  const d: number[] = [];
  for (const f of frames) {
    if (f.venue !== 'deribit' || f.dir !== 'in') continue;
    const fr = f.frame;
    let venueMs: unknown;
    if (typeof fr.usOut === 'number') venueMs = fr.usOut / 1000;
    else if (fr.method === 'subscription') venueMs = ((fr.params as { data?: { timestamp?: unknown } } | undefined)?.data as { timestamp?: unknown } | undefined)?.timestamp;
    if (typeof venueMs === 'number' && Number.isFinite(venueMs) && venueMs > 1e11) d.push(venueMs - f.ts);
    if (d.length >= 2_000) break;
  }
  if (d.length === 0) return 0;
  d.sort((a, b) => a - b);
  const median = Math.round(d[Math.floor(d.length / 2)]);
  return Math.abs(median) < 1_000 ? 0 : median;
}

/** The latest recorded answer at or before the playback position (the first one before that). */
export function pickRecorded<T extends { ts: number }>(list: readonly T[] | undefined, position: number): T | undefined {
  if (!list || list.length === 0) return undefined;
  let best = list[0];
  for (const r of list) if (r.ts <= position) best = r;
  return best;
}

interface Note {
  ts: number;
  channel: string;
  data: unknown;
}

const TIME_FIELDS: ReadonlySet<string> = new Set(['timestamp', 'creation_timestamp']);

/** The Deribit side of a replay: its recorded notifications and responses behind the Deribit hub. */
export class ReplaySource implements DeribitSource {
  readonly kind = 'replay' as const;
  readonly clock: SimClock;
  readonly report: ReplayReport;
  private hub: DeribitHub | undefined;
  /** Recorded responses by method|params key and by method, in time order: the latest one played so far wins. */
  private recorded = new Map<string, { ts: number; result: unknown }[]>();
  private recordedByMethod = new Map<string, { ts: number; result: unknown }[]>();
  private names = new Set<string>();
  private latestTicker = new Map<string, Record<string, unknown>>();
  private latestIndex = new Map<string, { price: number; timestamp: number }>();
  /** Recorded channels and the subscriptions each serves. */
  private readonly channels = new ChannelMap();
  /** Recorded book channels folded up to the playback position. */
  private readonly folds = new Map<string, BookFold>();

  /** A Deribit-only replay of one file (the player is sealed here). */
  static load(file: string, opts: ReplayOptions): ReplaySource {
    const src = new ReplaySource(ReplayPlayer.load(file, opts));
    src.player.seal();
    return src;
  }

  constructor(readonly player: ReplayPlayer) {
    this.clock = player.clock;
    this.report = player.report;
    const report = this.report;
    const notes: Note[] = [];
    const pending = new Map<string, { method: string; params: Record<string, unknown> }>();
    for (const f of player.framesOf('deribit')) {
      const fr = f.frame;
      if (f.dir === 'out') {
        if (fr.id !== undefined && typeof fr.method === 'string') pending.set(JSON.stringify(fr.id), { method: fr.method, params: (fr.params as Record<string, unknown>) ?? {} });
        continue;
      }
      if (fr.method === 'subscription') {
        const p = fr.params as Record<string, unknown> | undefined;
        if (!p || typeof p.channel !== 'string') {
          player.bad('notification without channel');
          continue;
        }
        notes.push({ ts: f.ts, channel: p.channel, data: p.data });
        this.channels.add(p.channel);
        if (isChainedBook(p.channel) && !this.folds.has(p.channel)) this.folds.set(p.channel, new BookFold());
        this.collectNames(p.channel, p.data);
        report.notifications++;
      } else if (fr.id !== undefined && 'result' in fr) {
        report.responses++;
        const req = pending.get(JSON.stringify(fr.id));
        if (req) {
          push(this.recorded, keyOf(req.method, req.params), { ts: f.ts, result: fr.result });
          push(this.recordedByMethod, req.method, { ts: f.ts, result: fr.result });
          if (Array.isArray(fr.result)) for (const r of fr.result) if (r && typeof r.instrument_name === 'string') this.names.add(r.instrument_name);
        }
      }
      // heartbeats and errors in the recording are not replayed: heartbeats are answered locally
    }
    notes.sort((a, b) => a.ts - b.ts);
    // seed the "latest" tables with each instrument's first appearance so requests work before playback reaches it
    for (const n of notes) {
      this.absorb(n, 0, true);
      player.add(n.ts, (shift) => this.deliver(n, shift));
    }
  }

  private collectNames(channel: string, data: unknown): void {
    const parts = channel.split('.');
    if (parts.length >= 2 && parseInstrumentName(parts[1])) this.names.add(parts[1]);
    const list = Array.isArray(data) ? data : [data];
    for (const d of list) if (d && typeof d === 'object' && typeof (d as Record<string, unknown>).instrument_name === 'string') this.names.add((d as Record<string, string>).instrument_name);
  }

  private absorb(n: Note, shift: number, onlyIfMissing: boolean): void {
    const d = n.data as Record<string, unknown> | undefined;
    if (!d || typeof d !== 'object') return;
    if (n.channel.startsWith('ticker.') && typeof d.instrument_name === 'string') {
      if (!onlyIfMissing || !this.latestTicker.has(d.instrument_name)) this.latestTicker.set(d.instrument_name, shiftTimes(d, TIME_FIELDS, shift) as Record<string, unknown>);
    }
    if (n.channel.startsWith('deribit_price_index.') && typeof d.index_name === 'string' && typeof d.price === 'number') {
      if (!onlyIfMissing || !this.latestIndex.has(d.index_name)) this.latestIndex.set(d.index_name, { price: d.price, timestamp: Number(d.timestamp) + shift });
    }
  }

  attach(hub: DeribitHub): void {
    this.hub = hub;
  }

  onSessionOpen(): void {
    this.player.start();
  }

  /** A recorded notification is due: fold it (the venue's state moves on even with nobody listening), then send it to its subscribers. */
  private deliver(n: Note, shift: number): void {
    this.absorb(n, shift, false);
    const fold = this.folds.get(n.channel);
    const kind = fold?.fold(n.data, shift);
    const hub = this.hub;
    if (!hub || hub.sessions.size === 0 || hub.fault('silent') || hub.fault('heartbeatOnly')) return;
    const report = (this.report.venues.deribit ??= { frames: 0, rest: 0, delivered: 0 });
    const out = new Outgoing(n.data, shift);
    for (const s of hub.sessions) {
      for (const name of this.channels.names(n.channel)) {
        if (!s.subs.has(name)) continue;
        // one session's failure is counted, the others still get the frame
        hub.errors.guard('replay', () => {
          if (fold && kind) this.sendBook(s, name, n.data, fold, kind, out);
          else s.notify(name, undefined, out.text(name));
        });
        report.delivered++;
      }
    }
  }

  /**
   * A recorded book notification to one subscriber, kept on a chain it can follow. The session's
   * channelState holds the last change_id it was sent (the hub clears it on unsubscribe).
   */
  private sendBook(s: Session, name: string, recorded: unknown, fold: BookFold, kind: 'snapshot' | 'change' | 'gap', out: Outgoing): void {
    const last = s.channelState.get(name) as number | undefined;
    const d = (typeof recorded === 'object' && recorded !== null ? recorded : {}) as { change_id?: number; prev_change_id?: unknown };
    let text: string | undefined;
    if (kind === 'snapshot' || (last !== undefined && last === d.prev_change_id)) {
      text = out.text(name);
      if (kind === 'change' && s.gapPending) {
        // the `gap` fault: this change names a change_id the client never had; it must resubscribe
        s.gapPending = false;
        text = notification(name, { ...(out.data() as object), prev_change_id: (d.change_id ?? 0) - 3 });
      }
    } else if (kind === 'change') {
      // the chain broke on our side (subscribed before anything was folded, or a frame skipped under
      // backpressure): the fold, which includes this change, as a fresh snapshot
      const snap = fold.snapshot();
      if (snap) text = notification(name, snap);
    } else if (last !== undefined) text = out.text(name); // a gap in the recording itself: sent as recorded
    if (text === undefined) return; // nothing it could chain on yet
    const before = s.sentFrames;
    s.notify(name, undefined, text);
    // not sent (backpressure, a fault): the session keeps its last change_id, so the next change goes out as a snapshot
    if (s.sentFrames > before && typeof d.change_id === 'number') s.channelState.set(name, d.change_id);
  }

  /** A new subscription to a book: the fold so far as its first notification (Deribit sends a snapshot on subscribe). */
  onSubscribed(_hub: DeribitHub, s: Session, channels: string[]): void {
    for (const ch of channels) {
      if (!isChainedBook(ch)) continue;
      const snap = this.folds.get(this.channels.source(ch))?.snapshot();
      if (!snap) continue; // before the recording's first book frame: the recorded snapshot comes in its turn
      const before = s.sentFrames;
      s.notify(ch, snap);
      if (s.sentFrames > before) s.channelState.set(ch, snap.change_id);
    }
  }

  nowMs(): number {
    return this.clock.now();
  }

  /** Expiries of the instruments the recording names that are still ahead of the replay clock, ascending. */
  listedExpiries(): number[] {
    const now = this.nowMs();
    const out = new Set<number>();
    for (const n of this.names) {
      const e = parseInstrumentName(n)?.expiryMs;
      if (e !== undefined && e > now) out.add(e);
    }
    return [...out].sort((a, b) => a - b);
  }

  channelOk(ch: string): boolean {
    return /^[A-Za-z0-9_.-]{1,200}$/.test(ch);
  }

  request(method: string, params: Record<string, unknown>): RpcReply | undefined {
    const r = this.answer(method, params);
    const listing = method === 'public/get_book_summary_by_currency' || (method === 'public/get_instruments' && params.expired !== true && params.expired !== 'true');
    return listing && r && 'result' in r && Array.isArray(r.result) ? { result: this.unexpired(r.result) } : r;
  }

  /**
   * Rows of instruments not expired at the replay's venue time. A recorded listing was true when it was
   * recorded; the replay clock moves past expiries (a recording spanning 08:00 UTC, loops, `expireAt`),
   * and the venue no longer lists an instrument once it has expired.
   */
  private unexpired(rows: unknown[]): unknown[] {
    const now = this.nowMs();
    return rows.filter((row) => {
      const r = row as Record<string, unknown> | null;
      if (!r || typeof r !== 'object') return true;
      const expiry = typeof r.expiration_timestamp === 'number' ? r.expiration_timestamp : typeof r.instrument_name === 'string' ? parseInstrumentName(r.instrument_name)?.expiryMs : undefined;
      return expiry === undefined || expiry > now;
    });
  }

  private answer(method: string, params: Record<string, unknown>): RpcReply | undefined {
    const exact = this.pick(this.recorded.get(keyOf(method, params)));
    if (exact !== undefined) return { result: exact };
    switch (method) {
      case 'public/get_instruments':
        return { result: this.synthInstruments(params) };
      case 'public/get_book_summary_by_currency':
        return { result: this.synthSummary(params) };
      case 'public/ticker': {
        const t = this.latestTicker.get(String(params.instrument_name ?? ''));
        return t ? { result: t } : { error: ERR.invalidParams('instrument not found', 'instrument_name') };
      }
      case 'public/get_index_price': {
        const name = String(params.index_name ?? '');
        let price = this.latestIndex.get(name)?.price;
        if (price === undefined) {
          const cur = name.split('_')[0]?.toUpperCase();
          for (const t of this.latestTicker.values()) if (String(t.instrument_name).startsWith(cur + '-') && typeof t.index_price === 'number') price = t.index_price;
        }
        return price === undefined ? { error: ERR.invalidParams('unknown index', 'index_name') } : { result: { index_price: price, estimated_delivery_price: price } };
      }
      default: {
        const any = this.pick(this.recordedByMethod.get(method));
        return any !== undefined ? { result: any } : undefined;
      }
    }
  }

  /** The latest recorded answer at or before the playback position (the first one before that). */
  private pick(list: { ts: number; result: unknown }[] | undefined): unknown {
    return pickRecorded(list, this.player.position())?.result;
  }

  private synthInstruments(params: Record<string, unknown>): unknown[] {
    const cur = String(params.currency ?? 'any');
    const kind = params.kind;
    const expired = params.expired === true || params.expired === 'true';
    const now = this.nowMs();
    const out: unknown[] = [];
    for (const name of [...this.names].sort()) {
      const p = parseInstrumentName(name);
      if (!p || (cur !== 'any' && p.currency !== cur)) continue;
      if (kind !== undefined && kind !== p.kind) continue;
      const isExpired = p.expiryMs !== undefined && p.expiryMs <= now;
      if (isExpired !== expired) continue;
      if (p.kind === 'option')
        out.push({
          instrument_name: name,
          kind: 'option',
          base_currency: p.currency,
          quote_currency: p.currency,
          counter_currency: 'USD',
          settlement_currency: p.currency,
          instrument_type: 'reversed',
          price_index: `${p.currency.toLowerCase()}_usd`,
          option_type: p.isCall ? 'call' : 'put',
          strike: p.strike,
          expiration_timestamp: p.expiryMs,
          contract_size: 1,
          is_active: true,
          tick_size: 0.0005,
          min_trade_amount: 0.1,
          settlement_period: 'month',
          creation_timestamp: this.player.t0,
        });
      else
        out.push({
          instrument_name: name,
          kind: 'future',
          base_currency: p.currency,
          quote_currency: 'USD',
          counter_currency: 'USD',
          settlement_period: p.perpetual ? 'perpetual' : 'month',
          expiration_timestamp: p.expiryMs ?? 32503708800000,
          contract_size: p.currency === 'BTC' ? 10 : 1,
          is_active: true,
          creation_timestamp: this.player.t0,
        });
    }
    return out;
  }

  private synthSummary(params: Record<string, unknown>): unknown[] {
    const cur = String(params.currency ?? 'any');
    const kind = params.kind;
    const out: unknown[] = [];
    for (const [name, t] of this.latestTicker) {
      const p = parseInstrumentName(name);
      if (!p || (cur !== 'any' && p.currency !== cur) || (kind !== undefined && kind !== p.kind)) continue;
      out.push({
        instrument_name: name,
        base_currency: p.currency,
        quote_currency: p.kind === 'option' ? p.currency : 'USD',
        mark_price: t.mark_price,
        mark_iv: t.mark_iv,
        open_interest: t.open_interest,
        underlying_price: t.underlying_price,
        underlying_index: t.underlying_index,
        estimated_delivery_price: t.estimated_delivery_price ?? t.index_price,
        interest_rate: t.interest_rate ?? 0,
        bid_price: t.best_bid_price ?? null,
        ask_price: t.best_ask_price ?? null,
        mid_price: typeof t.best_bid_price === 'number' && typeof t.best_ask_price === 'number' && t.best_bid_price > 0 ? (t.best_bid_price + t.best_ask_price) / 2 : null,
        last: t.last_price ?? null,
        volume: (t.stats as Record<string, unknown> | undefined)?.volume ?? null,
        creation_timestamp: t.timestamp,
        ...(p.perpetual ? { current_funding: t.current_funding, funding_8h: t.funding_8h } : {}),
      });
    }
    return out;
  }

  sendOversize(hub: DeribitHub): number {
    const text = JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel: 'ticker.BTC-PERPETUAL.100ms', data: { padding: 'x'.repeat(10 * 1024 * 1024) } } });
    let n = 0;
    for (const s of hub.sessions) if (s.sendOversized(text)) n++;
    return n;
  }

  close(): void {
    this.player.close();
  }
}

function notification(channel: string, data: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });
}

/** One recorded notification on its way out: its data shifted for the loop and its text per channel name, each built once. */
class Outgoing {
  private shifted: unknown;
  private done = false;
  private texts = new Map<string, string>();
  constructor(
    private readonly recorded: unknown,
    private readonly shift: number,
  ) {}
  data(): unknown {
    if (!this.done) {
      this.shifted = shiftTimes(this.recorded, TIME_FIELDS, this.shift);
      this.done = true;
    }
    return this.shifted;
  }
  text(channel: string): string {
    let t = this.texts.get(channel);
    if (t === undefined) this.texts.set(channel, (t = notification(channel, this.data())));
    return t;
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function keyOf(method: string, params: Record<string, unknown>): string {
  return `${method}|${String(params.currency ?? '')}|${String(params.kind ?? '')}|${String(params.instrument_name ?? params.index_name ?? '')}`;
}
