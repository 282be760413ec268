/**
 * The simulator's hidden book and public trade tape, one per venue (issue 13, design: "Dealer
 * positions from the trade tape"). Every option line has one dealer account and CUSTOMERS customer
 * accounts; every trade is between two of them, so the book sums to zero and the line's open interest
 * is the sum of the long positions.
 *
 * Stateless, like the price path (issue 11: any time is reached in bounded work): a customer's position
 * at the end of hour h is a target drawn from a hash of (seed, venue, line, account, block), where the
 * account's block index is floor((h + phase) / blockHours) and blockHours is hashed per account and
 * scaled by the line's activity and the `tradesPerMinute` knob; the side and size hold for REGIME
 * blocks and move by up to 20 % each block (mostly small trades, now and then a reversal). Zero before
 * the line is listed. The
 * trades of hour h are what moves every customer from its position at the end of hour h - 1 to the
 * one at the end of hour h: a customer whose position moved buys or sells the difference from a
 * customer moving the other way (`customerToCustomerShare` of them) or from the dealer, in one or two
 * prints at hashed times inside the hour. The dealer's position is minus the customers' sum, whoever
 * traded with whom. Of the dealer's trades, `customerMakerShare` have the dealer as taker (the
 * customer's order rested); the rest, and every customer-to-customer print, a customer as taker.
 * So the tape of any hour, and every position at any time, is a pure function of (seed, venue, line,
 * knobs, t): the live channel and the history method publish the same trades with the same ids.
 */
import { hash01 } from './prng.ts';
import type { Currency, OptionDef } from './market.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Customer accounts per line (the dealer is one more). */
export const CUSTOMERS = 5;
/** Prints per position change, on average (one or two pieces; customer pairs share a print). */
const PRINTS_PER_CHANGE = 2.8;
/** Blocks a customer keeps its side and size of position for (then adjusts it by up to 20 % each block). */
const REGIME = 6;
/** Hour lists kept for history answers (a 7-day window of both currencies is 336). */
const HOUR_CACHE = 800;

export interface TradeKnobs {
  /**
   * Expected trades a minute per currency at Deribit's size; each venue trades this times its
   * `rateShare`. 0: positions never change after the listing prints.
   */
  tradesPerMinute: number;
  /** Of the trades between a customer and the dealer, the share where the dealer is the taker. */
  customerMakerShare: number;
  /** Of the customers' position changes, the share matched with another customer (no dealer). */
  customerToCustomerShare: number;
  /** How far back the venues keep trades for their history methods, days (default: a 7-day window and a margin). */
  preHistoryDays: number;
}

export const DEFAULT_TRADE_KNOBS: Readonly<TradeKnobs> = { tradesPerMinute: 2, customerMakerShare: 0.2, customerToCustomerShare: 0.1, preHistoryDays: 8 };

/** The knobs checked (a control body or CLI value), or the reason they are refused. */
export function parseTradeKnobs(body: Record<string, unknown>, base: Readonly<TradeKnobs>): TradeKnobs | string {
  const out = { ...base };
  const share = (k: 'customerMakerShare' | 'customerToCustomerShare') => {
    if (body[k] === undefined) return undefined;
    const v = Number(body[k]);
    if (!(v >= 0 && v <= 1)) return `${k} must be a number from 0 to 1`;
    out[k] = v;
    return undefined;
  };
  if (body.tradesPerMinute !== undefined) {
    const v = Number(body.tradesPerMinute);
    if (!(v >= 0 && v <= 1_000)) return 'tradesPerMinute must be a number from 0 to 1000';
    out.tradesPerMinute = v;
  }
  const e = share('customerMakerShare') ?? share('customerToCustomerShare');
  if (e) return e;
  if (body.preHistoryDays !== undefined) {
    const v = Number(body.preHistoryDays);
    if (!(v >= 0 && v <= 60)) return 'preHistoryDays must be a number from 0 to 60';
    out.preHistoryDays = v;
  }
  return out;
}

/** One option line of a venue's book. */
export interface BookLine {
  /** The venue's instrument name. */
  name: string;
  def: OptionDef;
  /** One lot in the line's unit (the unit of its open interest: Deribit coin, OKX contracts). */
  lot: number;
  /** The line's size, in its unit: customers' targets are fractions of it. */
  scale: number;
  /** Coin per unit (block trades are judged in coin). */
  unitCoin: number;
  /** How much the line trades relative to the venue's average line (near the money most). */
  activity: number;
}

/** One published trade. */
export interface SimTrade {
  /** Unique per venue (hour since the epoch x 2^32 + a hash of line, hour and print). */
  id: number;
  line: BookLine;
  timestampMs: number;
  takerSide: 'buy' | 'sell';
  /** In the line's unit (lots x lot). */
  amount: number;
  /** Part of a block trade (a large print, one time in seven). */
  block: boolean;
  /** Per-instrument sequence (increasing with time, not contiguous). */
  seq: number;
}

/** A print of a line's hour: who bought from whom, in lots (account 0 is the dealer). */
interface Print {
  t: number;
  buyer: number;
  seller: number;
  lots: number;
  takerBuys: boolean;
  k: number;
}

interface LineHour {
  h: number;
  /** Positions (lots) at the end of the previous hour, dealer first (computed when asked). */
  before?: Int32Array;
  prints: Print[];
}

/** Per line, per customer: hours a position is held and the phase of its blocks (hashed once per knobs). */
interface Blocks {
  len: Float64Array;
  phase: Float64Array;
}

export interface BookOptions {
  seed: number;
  /** Tag of the venue's own book (its trades and positions differ from every other venue's). */
  venue: string;
  knobs: () => Readonly<TradeKnobs>;
  /** This venue's trading as a share of Deribit's (`tradesPerMinute` x this). */
  rateShare: number;
  /** The venue's listed lines of a currency now. */
  lines: (c: Currency) => readonly BookLine[];
  /** Venue time now. */
  now: () => number;
}

export class TradeBook {
  /** Every line seen listed, by name, until a pre-history after its expiry (history answers need expired lines too). */
  private known = new Map<string, BookLine>();
  private lineHours = new Map<string, LineHour>();
  private blocks = new Map<string, Blocks>();
  private hourLists = new Map<string, SimTrade[]>();
  private knobsSeen: Readonly<TradeKnobs> | undefined;
  private nominalLines = new Map<Currency, number>();

  constructor(private readonly o: BookOptions) {}

  get knobs(): Readonly<TradeKnobs> {
    const k = this.o.knobs();
    if (k !== this.knobsSeen) {
      // the book is a function of the knobs: new knobs draw a new book, history included
      this.knobsSeen = k;
      this.lineHours.clear();
      this.blocks.clear();
      this.hourLists.clear();
    }
    return k;
  }

  /** The earliest time the venue's history answers reach. */
  historyStartMs(): number {
    return this.o.now() - this.knobs.preHistoryDays * DAY_MS;
  }

  /** Learn the lines listed now (called before anything is generated). */
  private sync(c: Currency): void {
    const lines = this.o.lines(c);
    if (!this.nominalLines.has(c)) this.nominalLines.set(c, Math.max(lines.length, 1));
    for (const l of lines) if (!this.known.has(l.name)) this.known.set(l.name, l);
    if (this.known.size > 20_000) {
      const horizon = this.historyStartMs() - DAY_MS;
      for (const [n, l] of this.known) if (l.def.expiryMs < horizon) this.known.delete(n);
    }
  }

  /** A line's customers' block lengths and phases (cached). */
  private blocksOf(l: BookLine): Blocks {
    const hit = this.blocks.get(l.name);
    if (hit) return hit;
    const k = this.knobs;
    // the currency's line count sets every block's length: learnt here too, or a first request that
    // reads open interest (a book summary) before any trade would draw the blocks of a 1-line venue
    this.sync(l.def.currency);
    const lines = this.nominalLines.get(l.def.currency) ?? 1;
    // hours per block at activity 1, so that the venue trades `tradesPerMinute` x its share
    const base = k.tradesPerMinute > 0 ? (CUSTOMERS * lines * PRINTS_PER_CHANGE) / (k.tradesPerMinute * this.o.rateShare * 60) : Infinity;
    const b: Blocks = { len: new Float64Array(CUSTOMERS + 1), phase: new Float64Array(CUSTOMERS + 1) };
    for (let a = 1; a <= CUSTOMERS; a++) {
      // near-the-money lines trade most; far ones rarely, so some lines see no trade in a week
      b.len[a] = (base / l.activity) * (0.5 + hash01(this.o.seed, this.o.venue, l.name, a, 'len'));
      b.phase[a] = hash01(this.o.seed, this.o.venue, l.name, a, 'ph') * b.len[a];
    }
    if (this.blocks.size > 50_000) this.blocks.clear();
    this.blocks.set(l.name, b);
    return b;
  }

  /** Customer a's block at hour h: -1 before the line is listed, 0 for ever when nothing trades. */
  private blockAt(l: BookLine, b: Blocks, a: number, h: number): number {
    if (h < Math.floor(l.def.createdMs / HOUR_MS)) return -1;
    const len = b.len[a];
    return len === Infinity ? 0 : Math.floor((h + b.phase[a]) / len);
  }

  /** Customer a's target position (lots) in block e (none before the listing). */
  private target(l: BookLine, a: number, e: number): number {
    if (e < 0) return 0;
    // a view held for REGIME blocks (side and size), adjusted a little each block: mostly small trades, now and then a reversal
    const r = Math.floor(e / REGIME);
    const base = 0.05 + 0.4 * hash01(this.o.seed, this.o.venue, l.name, a, r, 'w');
    const sign = hash01(this.o.seed, this.o.venue, l.name, a, r, 's') < 0.5 ? -1 : 1;
    const w = base * (0.8 + 0.4 * hash01(this.o.seed, this.o.venue, l.name, a, e, 'adj'));
    return Math.round((sign * w * l.scale) / l.lot);
  }

  /** Positions (lots) at the end of hour h, dealer (index 0, minus the customers' sum) first. */
  private positionsAfter(l: BookLine, h: number): Int32Array {
    const b = this.blocksOf(l);
    const out = new Int32Array(CUSTOMERS + 1);
    let sum = 0;
    for (let a = 1; a <= CUSTOMERS; a++) {
      out[a] = this.target(l, a, this.blockAt(l, b, a, h));
      sum += out[a];
    }
    out[0] = -sum;
    return out;
  }

  /** The prints of line l in hour h (stateless; cached for the line's latest hour asked). */
  private lineHour(l: BookLine, h: number): LineHour {
    const hit = this.lineHours.get(l.name);
    if (hit?.h === h) return hit;
    const prints: Print[] = [];
    const from = Math.max(h * HOUR_MS, l.def.createdMs);
    const to = Math.min((h + 1) * HOUR_MS, l.def.expiryMs);
    const b = this.blocksOf(l);
    const move: number[] = [0];
    let moved = false;
    for (let a = 1; a <= CUSTOMERS; a++) {
      const e0 = this.blockAt(l, b, a, h - 1);
      const e1 = this.blockAt(l, b, a, h);
      move[a] = e0 === e1 || !(to > from) ? 0 : this.target(l, a, e1) - this.target(l, a, e0);
      if (move[a] !== 0) moved = true;
    }
    if (moved) {
      const k = this.knobs;
      const rnd = (...p: (number | string)[]) => hash01(this.o.seed, this.o.venue, l.name, h, ...p);
      const print = (buyer: number, seller: number, lots: number, takerBuys: boolean) => {
        const t = from + Math.floor(rnd(prints.length, 't') * (to - from));
        prints.push({ t, buyer, seller, lots, takerBuys, k: prints.length });
      };
      // customers moving opposite ways trade with each other, first
      for (let a = 1; a <= CUSTOMERS; a++) {
        for (let c = 1; c <= CUSTOMERS && move[a] > 0; c++) {
          if (move[c] >= 0 || !(rnd(a, c, 'c2c') < k.customerToCustomerShare)) continue;
          const lots = Math.min(move[a], -move[c]);
          print(a, c, lots, rnd(a, c, 'taker') < 0.5);
          move[a] -= lots;
          move[c] += lots;
        }
      }
      // the rest with the dealer, in one to three pieces; the customer is the taker unless its order rested
      for (let a = 1; a <= CUSTOMERS; a++) {
        const m = move[a];
        if (m === 0) continue;
        const pieces = Math.min(Math.abs(m), 1 + Math.floor(rnd(a, 'split') * 3));
        let left = Math.abs(m);
        for (let p = 0; p < pieces; p++) {
          const lots = p === pieces - 1 ? left : Math.max(1, Math.floor((left / (pieces - p)) * (0.5 + rnd(a, p, 'piece'))));
          left -= lots;
          const dealerTakes = rnd(a, p, 'maker') < k.customerMakerShare;
          // the taker's side: the customer's when it takes, the dealer's (the other) when the dealer takes
          if (m > 0) print(a, 0, lots, !dealerTakes);
          else print(0, a, lots, dealerTakes);
        }
      }
      prints.sort((x, y) => x.t - y.t || x.k - y.k);
    }
    const lh: LineHour = { h, prints };
    this.lineHours.set(l.name, lh);
    return lh;
  }

  /** Positions (lots, dealer first) of a line at time t: the previous hour's end and this hour's prints up to t. */
  private positionsAt(l: BookLine, t: number): Int32Array {
    const lh = this.lineHour(l, Math.floor(t / HOUR_MS));
    lh.before ??= this.positionsAfter(l, lh.h - 1);
    const pos = lh.before.slice();
    for (const p of lh.prints) {
      if (p.t > t) break;
      pos[p.buyer] += p.lots;
      pos[p.seller] -= p.lots;
    }
    return pos;
  }

  /** Open interest of a line at time t (sum of the long positions), in its unit. */
  openInterest(l: BookLine, t: number = this.o.now()): number {
    let longs = 0;
    for (const x of this.positionsAt(l, t)) if (x > 0) longs += x;
    return units(longs, l.lot);
  }

  /** The dealer's position in a line at time t, in its unit (negative: short). */
  dealerPosition(l: BookLine, t: number = this.o.now()): number {
    return units(this.positionsAt(l, t)[0], l.lot);
  }

  /** Every line of a currency the book knows (listed now, or expired within the pre-history). */
  knownLines(c: Currency): BookLine[] {
    this.sync(c);
    return [...this.known.values()].filter((l) => l.def.currency === c);
  }

  /** The trades of a currency in hour h, by time (then id). */
  private hourTrades(c: Currency, h: number): SimTrade[] {
    const key = `${c}:${h}`;
    const hit = this.hourLists.get(key);
    if (hit) return hit;
    this.sync(c);
    const out: SimTrade[] = [];
    const start = h * HOUR_MS;
    for (const l of this.known.values()) {
      if (l.def.currency !== c || l.def.createdMs >= start + HOUR_MS || l.def.expiryMs <= start) continue;
      const lh = this.lineHour(l, h);
      for (const p of lh.prints) {
        const takerBuys = p.takerBuys;
        out.push({
          id: h * 4294967296 + Math.floor(hash01(this.o.seed, this.o.venue, l.name, h, p.k, 'id') * 4294967296),
          line: l,
          timestampMs: p.t,
          takerSide: takerBuys ? 'buy' : 'sell',
          amount: units(p.lots, l.lot),
          block: units(p.lots, l.lot) * l.unitCoin >= (c === 'BTC' ? 25 : 250) && hash01(this.o.seed, this.o.venue, l.name, h, p.k, 'block') < 0.15,
          seq: h * 1_000 + p.k,
        });
      }
    }
    out.sort((x, y) => x.timestampMs - y.timestampMs || x.id - y.id);
    // the current hour is cached too: its lines are all known once it has begun (listings happen at 08:00)
    if (start <= this.o.now()) {
      if (this.hourLists.size >= HOUR_CACHE) this.hourLists.clear();
      this.hourLists.set(key, out);
    }
    return out;
  }

  /**
   * Trades of a currency with time in [fromMs, toMs] (both ends included), by time; never later
   * than now, never before the pre-history. `visit` returns false to stop.
   */
  each(c: Currency, fromMs: number, toMs: number, visit: (t: SimTrade) => boolean | void): void {
    const from = Math.max(fromMs, this.historyStartMs());
    const to = Math.min(toMs, this.o.now());
    if (!(to >= from)) return;
    for (let h = Math.floor(from / HOUR_MS); h <= Math.floor(to / HOUR_MS); h++) {
      for (const t of this.hourTrades(c, h)) {
        if (t.timestampMs < from || t.timestampMs > to) continue;
        if (visit(t) === false) return;
      }
    }
  }

  /** Trades of a currency in [fromMs, toMs], as a list. */
  between(c: Currency, fromMs: number, toMs: number): SimTrade[] {
    const out: SimTrade[] = [];
    this.each(c, fromMs, toMs, (t) => void out.push(t));
    return out;
  }

  /** The newest `n` trades of a currency (optionally of one line), newest first: the venues' "recent trades". */
  recent(c: Currency, n: number, keep: (t: SimTrade) => boolean = () => true): SimTrade[] {
    const out: SimTrade[] = [];
    const stop = this.historyStartMs();
    for (let h = Math.floor(this.o.now() / HOUR_MS); h * HOUR_MS + HOUR_MS > stop && out.length < n; h--) {
      const list = this.hourTrades(c, h);
      for (let i = list.length - 1; i >= 0 && out.length < n; i--) {
        const t = list[i];
        if (t.timestampMs <= this.o.now() && t.timestampMs >= stop && keep(t)) out.push(t);
      }
    }
    return out;
  }

  /** A line by its venue name (listed now or known from the pre-history). */
  line(name: string): BookLine | undefined {
    if (!this.known.has(name)) for (const c of ['BTC', 'ETH'] as const) this.sync(c);
    return this.known.get(name);
  }
}

/**
 * What a live trade channel publishes this tick: per currency, the trades since `sentTo` (moved on to
 * now), every one once.
 */
export function freshTrades(book: TradeBook, sentTo: Map<Currency, number>, now: number): Map<Currency, SimTrade[]> {
  const out = new Map<Currency, SimTrade[]>();
  for (const [c, from] of sentTo) {
    if (now <= from) continue;
    out.set(c, book.between(c, from + 1, now));
    sentTo.set(c, now);
  }
  return out;
}

/** Lots to the line's unit, without float noise. */
function units(lots: number, lot: number): number {
  return Math.round(lots * lot * 1e8) / 1e8;
}

