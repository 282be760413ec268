/**
 * Replay of a recording through the Deribit protocol. Format (one JSON object a line):
 *   {"dir":"in"|"out","ts":<ms>,"frame":{...}}   in = received from the venue, out = sent to it.
 * Also read: the 2021 capture's spelling {"dir":"server->client"|"client->server","ts":<seconds>},
 * and {"event":...} meta lines (skipped). Bad lines are counted by reason and skipped.
 * Playback starts when the first client connects (so it sees the recording from its beginning).
 * Every recorded notification goes to every connected client at its recorded offset (x speed);
 * `.raw` channel names are delivered as `.100ms` (what an unauthenticated client subscribes).
 * At the end it loops (default), shifting venue timestamps by one recording span + 1 s per loop so
 * that a client ordering by timestamp keeps accepting them; or it stops (loop=false).
 */
import { readFileSync } from 'node:fs';
import { SimClock } from './clock.ts';
import { parseInstrumentName } from './sim/calendar.ts';
import type { DeribitHub } from './deribit/hub.ts';
import { ERR, type DeribitSource, type RpcReply } from './deribit/types.ts';

export interface RecordedFrame {
  dir: 'in' | 'out';
  ts: number; // ms
  frame: Record<string, unknown>;
}

export interface ReplayReport {
  lines: number;
  frames: number;
  notifications: number;
  responses: number;
  metaLines: number;
  badLines: number;
  badReasons: Record<string, number>;
  spanMs: number;
  loop: boolean;
  loops: number;
  delivered: number;
}

/** Parse recording text; never throws. */
export function parseRecording(text: string): { frames: RecordedFrame[]; report: ReplayReport } {
  const report: ReplayReport = { lines: 0, frames: 0, notifications: 0, responses: 0, metaLines: 0, badLines: 0, badReasons: {}, spanMs: 0, loop: true, loops: 0, delivered: 0 };
  const bad = (r: string) => {
    report.badLines++;
    report.badReasons[r] = (report.badReasons[r] ?? 0) + 1;
  };
  const frames: RecordedFrame[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    report.lines++;
    if (line.length > 64 * 1024 * 1024) {
      bad('line too long');
      continue;
    }
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      bad('invalid JSON');
      continue;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      bad('not an object');
      continue;
    }
    const r = o as Record<string, unknown>;
    if (r.event !== undefined && r.frame === undefined) {
      report.metaLines++;
      continue;
    }
    const dir = r.dir === 'in' || r.dir === 'server->client' ? 'in' : r.dir === 'out' || r.dir === 'client->server' ? 'out' : undefined;
    if (!dir) {
      bad('bad dir');
      continue;
    }
    if (typeof r.ts !== 'number' || !Number.isFinite(r.ts) || r.ts <= 0) {
      bad('bad ts');
      continue;
    }
    if (typeof r.frame !== 'object' || r.frame === null || Array.isArray(r.frame)) {
      bad('bad frame');
      continue;
    }
    // seconds (the 2021 capture) vs milliseconds (our recorder)
    const ts = r.ts < 1e11 ? r.ts * 1000 : r.ts;
    frames.push({ dir, ts, frame: r.frame as Record<string, unknown> });
  }
  report.frames = frames.length;
  return { frames, report };
}

interface Note {
  ts: number;
  channel: string;
  data: unknown;
}

const TIME_FIELDS = ['timestamp', 'creation_timestamp'];

function shiftTimes(data: unknown, by: number): unknown {
  if (by === 0 || typeof data !== 'object' || data === null) return data;
  if (Array.isArray(data)) return data.map((d) => shiftTimes(d, by));
  const o = { ...(data as Record<string, unknown>) };
  for (const k of TIME_FIELDS) if (typeof o[k] === 'number') o[k] = (o[k] as number) + by;
  return o;
}

export function liveChannelName(ch: string): string {
  return ch.endsWith('.raw') ? ch.slice(0, -4) + '.100ms' : ch;
}

export class ReplaySource implements DeribitSource {
  readonly kind = 'replay' as const;
  readonly clock: SimClock;
  private notes: Note[] = [];
  private cursor = 0;
  private loopIdx = 0;
  private t0: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private hub: DeribitHub | undefined;
  /** Recorded responses by method|params key and by method, in time order: the latest one played so far wins. */
  private recorded = new Map<string, { ts: number; result: unknown }[]>();
  private recordedByMethod = new Map<string, { ts: number; result: unknown }[]>();
  private names = new Set<string>();
  private latestTicker = new Map<string, Record<string, unknown>>();
  private latestIndex = new Map<string, { price: number; timestamp: number }>();
  private stopped = false;

  static load(file: string, opts: { speed: number; loop: boolean; wallNow?: () => number }): ReplaySource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read recording ${file}: ${(e as Error).message}`, { cause: e });
    }
    return new ReplaySource(text, opts);
  }

  readonly report: ReplayReport;

  constructor(
    text: string,
    private readonly opts: { speed: number; loop: boolean; wallNow?: () => number },
  ) {
    const { frames, report } = parseRecording(text);
    this.report = report;
    report.loop = opts.loop;
    const pending = new Map<string, { method: string; params: Record<string, unknown> }>();
    for (const f of frames) {
      const fr = f.frame;
      if (f.dir === 'out') {
        if (fr.id !== undefined && typeof fr.method === 'string') pending.set(JSON.stringify(fr.id), { method: fr.method, params: (fr.params as Record<string, unknown>) ?? {} });
        continue;
      }
      if (fr.method === 'subscription') {
        const p = fr.params as Record<string, unknown> | undefined;
        if (!p || typeof p.channel !== 'string') {
          this.bad('notification without channel');
          continue;
        }
        this.notes.push({ ts: f.ts, channel: p.channel, data: p.data });
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
    this.notes.sort((a, b) => a.ts - b.ts);
    this.t0 = this.notes[0]?.ts ?? frames[0]?.ts ?? Date.now();
    report.spanMs = this.notes.length > 0 ? this.notes[this.notes.length - 1].ts - this.t0 : 0;
    this.clock = new SimClock(this.t0, opts.speed, opts.wallNow);
    // seed the "latest" tables with each instrument's first appearance so requests work before playback reaches it
    for (const n of this.notes) this.absorb(n, 0, true);
  }

  private bad(r: string): void {
    this.report.badLines++;
    this.report.badReasons[r] = (this.report.badReasons[r] ?? 0) + 1;
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
      if (!onlyIfMissing || !this.latestTicker.has(d.instrument_name)) this.latestTicker.set(d.instrument_name, shiftTimes(d, shift) as Record<string, unknown>);
    }
    if (n.channel.startsWith('deribit_price_index.') && typeof d.index_name === 'string' && typeof d.price === 'number') {
      if (!onlyIfMissing || !this.latestIndex.has(d.index_name)) this.latestIndex.set(d.index_name, { price: d.price, timestamp: Number(d.timestamp) + shift });
    }
  }

  private started = false;

  attach(hub: DeribitHub): void {
    this.hub = hub;
    this.clock.pause(); // venue time stands at the recording's start until someone watches
  }

  onSessionOpen(): void {
    if (this.started) return;
    this.started = true;
    this.clock.resume();
    this.clock.reset(this.t0);
    this.schedule(0);
  }

  private cycleMs(): number {
    return this.report.spanMs + 1000;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.pump(), Math.max(1, Math.min(ms, 250)));
  }

  /** Deliver every note due by the clock; then sleep until the next one (bounded, so pause/resume and speed apply). */
  private pump(): void {
    if (!this.hub || this.stopped) return;
    const now = this.clock.now();
    const cycle = this.cycleMs();
    for (;;) {
      if (this.cursor >= this.notes.length) {
        if (!this.opts.loop || this.notes.length === 0) return; // stop: no more timers
        this.cursor = 0;
        this.loopIdx++;
        this.report.loops = this.loopIdx;
      }
      const n = this.notes[this.cursor];
      const due = n.ts + this.loopIdx * cycle;
      if (due > now) {
        this.schedule((due - now) / this.opts.speed);
        return;
      }
      this.cursor++;
      this.deliver(n, this.loopIdx * cycle);
    }
  }

  private deliver(n: Note, shift: number): void {
    const f = this.hub!.faults;
    if (f.on('silent', 'deribit') || f.on('heartbeatOnly', 'deribit')) return;
    this.absorb(n, shift, false);
    const data = shiftTimes(n.data, shift);
    const channel = liveChannelName(n.channel);
    const text = JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });
    for (const s of this.hub!.sessions) s.notify(channel, undefined, text);
    this.report.delivered++;
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
    if (!list || list.length === 0) return undefined;
    const pos = this.t0 + ((this.clock.now() - this.t0) % this.cycleMs());
    let best = list[0];
    for (const r of list) if (r.ts <= pos) best = r;
    return best.result;
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
          creation_timestamp: this.t0,
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
          creation_timestamp: this.t0,
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
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
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
