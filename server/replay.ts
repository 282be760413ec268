/**
 * Replay of a recording (format: recording.ts / README). The player owns the replay clock and the
 * timeline of every venue's recorded data frames; each venue's source delivers its own frames through
 * its own protocol (Deribit: ReplaySource below; OKX, Bybit, Binance: venue-replay.ts).
 * Playback starts when the first client connects to any venue (so it sees the recording from its
 * beginning). Every recorded frame is due at its recorded offset (/ speed). At the end it loops
 * (default), shifting venue timestamps by one recording span + 1 s per loop so that a client ordering
 * by timestamp keeps accepting them; or it stops (loop=false).
 *
 * Deribit: every recorded notification goes to every connected client; `.raw` channel names are
 * delivered as `.100ms` (what an unauthenticated client subscribes); requests are answered from the
 * latest recorded response of the same method (else synthesised from the names and tickers seen).
 */
import { readFileSync } from 'node:fs';
import { SimClock } from './clock.ts';
import { parseInstrumentName } from './sim/calendar.ts';
import type { DeribitHub } from './deribit/hub.ts';
import { ERR, type DeribitSource, type RpcReply } from './deribit/types.ts';
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
        this.loopIdx++;
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
      e.deliver(this.loopIdx * cycle);
    }
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
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

export function liveChannelName(ch: string): string {
  return ch.endsWith('.raw') ? ch.slice(0, -4) + '.100ms' : ch;
}

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

  private deliver(n: Note, shift: number): void {
    if (!this.hub || this.hub.fault('silent') || this.hub.fault('heartbeatOnly')) return;
    this.absorb(n, shift, false);
    const data = shiftTimes(n.data, TIME_FIELDS, shift);
    const channel = liveChannelName(n.channel);
    const text = JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });
    for (const s of this.hub.sessions) s.notify(channel, undefined, text);
    (this.report.venues.deribit ??= { frames: 0, rest: 0, delivered: 0 }).delivered++;
  }

  nowMs(): number {
    return this.clock.now();
  }

  channelOk(ch: string): boolean {
    return /^[A-Za-z0-9_.-]{1,200}$/.test(ch);
  }

  request(method: string, params: Record<string, unknown>): RpcReply | undefined {
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
    for (const s of hub.sessions) if (s.sendRaw(text, true)) n++;
    return n;
  }

  close(): void {
    this.player.close();
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
