/**
 * Deribit's side of a replay (format: ../../replay/recording.ts; the clock and timeline:
 * ../../replay/player.ts), as the source behind the Deribit protocol. A recorded notification goes only
 * to the sessions subscribed to its channel, in recorded order, under the name they subscribed (a
 * recorded `.raw` stream serves `.100ms`: ChannelMap in ./replay-book.ts). Books
 * (`book.{instrument}.{interval}`) are folded as they play: a subscriber joining mid-recording first
 * gets the folded book as a `snapshot` whose change_id the next recorded change's prev_change_id
 * names, as Deribit sends a snapshot on subscribe. Other channels have no state to rebuild: a late
 * `ticker.*` subscriber waits for the next recorded ticker (as on Deribit, where the next 100 ms
 * notification is the whole ticker). Requests are answered from the latest recorded response of the
 * same method (else derived from the names and tickers seen: ./replay-synth.ts), without instruments
 * expired at the replay's venue time. Trade history (`get_last_trades_by_currency_and_time`) is
 * answered from every trade the recording holds (trade channel notifications, recorded history
 * answers) that has been played by the replay's position, paged as Deribit pages it.
 */
import { parseInstrumentName } from '../../sim/calendar.ts';
import { pickRecorded, type ReplayPlayer } from '../../replay/player.ts';
import { shiftTimes } from '../../replay/recording.ts';
import { firstRow, venueTime } from '../../replay/venue-clock.ts';
import type { VenueHub } from '../hub.ts';
import type { VenueSession } from '../session.ts';
import { BookFold, ChannelMap, isChainedBook } from './replay-book.ts';
import { synthInstruments, synthSummary } from './replay-synth.ts';
import { ERR, notification, type DeribitSource, type RpcReply } from './protocol.ts';

interface Note {
  ts: number;
  channel: string;
  data: unknown;
}

const TIME_FIELDS: ReadonlySet<string> = new Set(['timestamp', 'creation_timestamp']);

/** The venue time of a Deribit frame: a reply's `usOut`, a notification's `timestamp`. */
export function deribitStamp(f: Record<string, unknown>): number | null {
  if (typeof f.usOut === 'number') return venueTime(f.usOut / 1000);
  return f.method === 'subscription' ? venueTime(firstRow((f.params as { data?: unknown } | undefined)?.data)?.timestamp) : null;
}

/** Deribit's recorded notifications and responses behind the Deribit protocol. */
export class DeribitReplay implements DeribitSource {
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
  /** Every recorded option trade once (by trade_id), by currency, oldest first, with when it was played. */
  private readonly trades = new Map<string, { playedAt: number; row: Record<string, unknown> }[]>();
  private readonly tradeIds = new Set<string>();

  constructor(
    readonly hub: VenueHub,
    readonly player: ReplayPlayer,
  ) {
    const report = player.report;
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
        if (p.channel.startsWith('trades.')) this.collectTrades(f.ts, p.data);
        this.channels.add(p.channel);
        if (isChainedBook(p.channel) && !this.folds.has(p.channel)) this.folds.set(p.channel, new BookFold());
        this.collectNames(p.channel, p.data);
        report.notifications++;
      } else if (fr.id !== undefined && 'result' in fr) {
        report.responses++;
        const req = pending.get(JSON.stringify(fr.id));
        if (req?.method === 'public/get_last_trades_by_currency_and_time') this.collectTrades(f.ts, (fr.result as { trades?: unknown } | null)?.trades);
        if (req) {
          push(this.recorded, keyOf(req.method, req.params), { ts: f.ts, result: fr.result });
          push(this.recordedByMethod, req.method, { ts: f.ts, result: fr.result });
          if (Array.isArray(fr.result)) for (const r of fr.result) if (r && typeof r.instrument_name === 'string') this.names.add(r.instrument_name);
        }
      }
      // heartbeats and errors in the recording are not replayed: heartbeats are answered locally
    }
    notes.sort((a, b) => a.ts - b.ts);
    for (const list of this.trades.values()) list.sort((a, b) => Number(a.row.timestamp) - Number(b.row.timestamp));
    // seed the "latest" tables with each instrument's first appearance so requests work before playback reaches it
    for (const n of notes) {
      this.absorb(n, 0, true);
      player.add(n.ts, (shift) => this.deliver(n, shift));
    }
  }

  /** Option trades of a notification or a history answer, each kept once, played at `ts`. */
  private collectTrades(ts: number, rows: unknown): void {
    if (!Array.isArray(rows)) return;
    for (const r of rows as Record<string, unknown>[]) {
      if (!r || typeof r.instrument_name !== 'string' || typeof r.timestamp !== 'number' || this.tradeIds.has(String(r.trade_id))) continue;
      const p = parseInstrumentName(r.instrument_name);
      if (p?.kind !== 'option') continue;
      this.tradeIds.add(String(r.trade_id));
      push(this.trades, p.currency, { playedAt: ts, row: r });
    }
  }

  /**
   * `public/get_last_trades_by_currency_and_time` on a replay: the recorded trades played by now (in
   * this loop, and the two loops before it with their times shifted as the loops shift them), paged
   * as the simulator pages (../deribit/sim.ts): [start, end] both included, count, asc/desc, has_more.
   */
  private tradeHistory(params: Record<string, unknown>): RpcReply {
    const cur = String(params.currency ?? '');
    const count = params.count === undefined ? 10 : Number(params.count);
    if (!Number.isInteger(count) || count < 1 || count > 1_000) return { error: ERR.invalidParams('must be 1..1000', 'count') };
    const start = params.start_timestamp === undefined ? 0 : Number(params.start_timestamp);
    const end = params.end_timestamp === undefined ? Number.MAX_SAFE_INTEGER : Number(params.end_timestamp);
    if (!Number.isFinite(start) || !Number.isFinite(end)) return { error: ERR.invalidParams('must be an integer', 'start_timestamp') };
    this.hub.tradeHistoryRequests++;
    const list = this.trades.get(cur) ?? [];
    const cycle = this.player.cycleMs();
    const loop = Math.max(0, Math.floor((this.nowMs() - this.player.t0) / cycle));
    const pos = this.player.position();
    const rows: Record<string, unknown>[] = [];
    for (let k = Math.max(0, loop - 2); k <= loop; k++) {
      const shift = k * cycle;
      for (const t of list) {
        if (k === loop && t.playedAt > pos) continue;
        const ts = Number(t.row.timestamp) + shift;
        if (ts >= start && ts <= end) rows.push(shift === 0 ? t.row : { ...t.row, timestamp: ts });
      }
    }
    const desc = params.sorting === 'desc';
    const picked = desc ? rows.slice(-count).reverse() : rows.slice(0, count);
    return { result: { trades: picked, has_more: rows.length > count } };
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

  opened(): void {
    this.player.start();
  }

  /** A recorded notification is due: fold it (the venue's state moves on even with nobody listening), then send it to its subscribers. */
  private deliver(n: Note, shift: number): void {
    this.absorb(n, shift, false);
    const fold = this.folds.get(n.channel);
    const kind = fold?.fold(n.data, shift);
    const hub = this.hub;
    if (hub.sessions.size === 0 || !hub.dataOn) return;
    const report = (this.player.report.venues.deribit ??= { frames: 0, rest: 0, delivered: 0 });
    const out = new Outgoing(n.data, shift);
    for (const s of hub.sessions) {
      for (const name of this.channels.names(n.channel)) {
        if (!s.subs.has(name)) continue;
        // one session's failure is counted, the others still get the frame
        hub.errors.guard('replay', () => {
          if (fold && kind) this.sendBook(s, name, n.data, fold, kind, out);
          else s.push(name, out.text(name), name.startsWith('book.'), true);
        });
        report.delivered++;
      }
    }
  }

  /**
   * A recorded book notification to one subscriber, kept on a chain it can follow. The session's
   * state holds the last change_id it was sent (the protocol clears it on unsubscribe).
   */
  private sendBook(s: VenueSession, name: string, recorded: unknown, fold: BookFold, kind: 'snapshot' | 'change' | 'gap', out: Outgoing): void {
    const last = s.state.get(name) as number | undefined;
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
    // not sent (backpressure, a fault): the session keeps its last change_id, so the next change goes out as a snapshot
    if (s.push(name, text, true, true) && typeof d.change_id === 'number') s.state.set(name, d.change_id);
  }

  /** A new subscription to a book: the fold so far as its first notification (Deribit sends a snapshot on subscribe). */
  subscribed(s: VenueSession, channels: readonly string[]): void {
    for (const ch of channels) {
      if (!isChainedBook(ch)) continue;
      const snap = this.folds.get(this.channels.source(ch))?.snapshot();
      if (!snap) continue; // before the recording's first book frame: the recorded snapshot comes in its turn
      if (s.push(ch, notification(ch, snap), true, true)) s.state.set(ch, snap.change_id);
    }
  }

  /** Delivery is driven by the player's clock, not the hub's tick. */
  tick(): void {}

  private nowMs(): number {
    return this.player.clock.now();
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

  /** Any well-formed channel: a live venue would accept it; there is just nothing recorded on it. */
  serves(ch: string): boolean {
    return /^[A-Za-z0-9_.-]{1,200}$/.test(ch);
  }

  request(method: string, params: Record<string, unknown>): RpcReply | undefined {
    if (method === 'public/get_last_trades_by_currency_and_time') return this.tradeHistory(params);
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
        return { result: synthInstruments(this.names, params, this.nowMs(), this.player.t0) };
      case 'public/get_book_summary_by_currency':
        return { result: synthSummary(this.latestTicker, params) };
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
