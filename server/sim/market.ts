/**
 * Deterministic market simulator for BTC and ETH options on Deribit's calendar. One file on purpose
 * (about 600 lines): the path, the listing and the quotes share one step state and one set of
 * parameters, and every venue's source reads only the class at the end; split, each part would be
 * read only with the others open.
 * The state at simulated time t depends only on (seed, startMs, t), and reaching any t takes bounded
 * work, however far ahead (issue 11: a jump of years must not replay every 100 ms step between):
 * - the path is built at two scales. Every hour from the start (a segment) the log spot comes from a
 *   Brownian path built by Levy's midpoint construction over a binary tree of hashed normals (40
 *   levels, so any hour is 40 hashes away), the vol factor and the perp premium from mean-reverting
 *   sums of the last few hundred hourly hashed normals;
 * - inside an hour, 100 ms steps come from a PRNG stream seeded by (seed, hour), with jumps, and are
 *   bridged onto the next hour's spot, so the path is continuous and an hour costs one pass of 36,000
 *   steps, whichever way it was reached;
 * - the listing at t is the calendar's, each expiry's strike grid fixed around the spot of the hour it
 *   was listed in; per-instrument constants (open interest, basis) are stateless hashes of the seed
 *   and the name.
 */
import { black76 } from './black76.ts';
import { at0800, expiryCode, lastFriday, listedExpiries, optionName } from './calendar.ts';
import { gaussian, hash01, hashGaussian, mulberry32 } from './prng.ts';
import { DEFAULT_TRADE_KNOBS, TradeBook, type BookLine, type TradeKnobs } from './trade-book.ts';

export type Currency = 'BTC' | 'ETH';
export const CURRENCIES: readonly Currency[] = ['BTC', 'ETH'];
export const STEP_MS = 100;
const YEAR_MS = 365 * 86_400_000;
const DAY_MS = 86_400_000;
/** 100 ms steps in one segment (an hour) of the path. */
export const SEGMENT_STEPS = 36_000;
const SEGMENT_YEARS = (SEGMENT_STEPS * STEP_MS) / YEAR_MS;
/** Depth of the hourly path's tree: 2^40 hours (about 125 million years) from the start. */
const TREE_DEPTH = 40;
/** Vol factor: OU around 0 with a 2-day half life (120 a year) and 0.9 a root-year of noise. */
const VOL_KAPPA = 120;
const VOL_NOISE = 0.9;
/** Perp premium: OU around +2 bp with a ~1 h half life and 3.2 bp stationary spread. */
const PREMIUM_MEAN = 0.0002;
const PREMIUM_DECAY_PER_HOUR = Math.exp(-0.72);
const PREMIUM_SD = 0.000316;
/**
 * The hourly log spot is its start plus SPOT_BAND * tanh(path / SPOT_BAND): the path itself where it
 * matters (a year's 1-sd move is squeezed by 1.5 %), and a spot that stays within 10x of its start
 * however many years the clock is moved on.
 */
const SPOT_BAND = Math.log(10);
/** Hourly terms summed for the OU knots: later ones weigh under 1e-4. */
const VOL_TERMS = 700;
const PREMIUM_TERMS = 20;

interface CurrencyParams {
  spotBase: number;
  vol: number; // annualised spot vol of the path
  atmVol: number; // ATM implied vol level
  skew: number;
  perpTick: number;
  perpContractUsd: number;
  perpOiUsd: number;
  oiScale: number; // coins per "unit" of the OI profile
  indexName: string;
}

const PARAMS_BY_CURRENCY: ReadonlyMap<Currency, CurrencyParams> = new Map([
  ['BTC', { spotBase: 95_000, vol: 0.5, atmVol: 0.52, skew: -0.05, perpTick: 0.5, perpContractUsd: 10, perpOiUsd: 1.1e9, oiScale: 260, indexName: 'btc_usd' }],
  ['ETH', { spotBase: 3_400, vol: 0.65, atmVol: 0.66, skew: -0.04, perpTick: 0.05, perpContractUsd: 1, perpOiUsd: 4.5e8, oiScale: 2_600, indexName: 'eth_usd' }],
]);

/** A currency's parameters; a name that is not a simulated currency is a thrown error, not a prototype's member. */
function currencyParams(c: Currency): CurrencyParams {
  const p = PARAMS_BY_CURRENCY.get(c);
  if (!p) throw new Error(`not a simulated currency: ${String(c).slice(0, 20)}`);
  return p;
}

export function indexNameOf(c: Currency): string {
  return currencyParams(c).indexName;
}

export interface OptionDef {
  name: string;
  currency: Currency;
  expiryMs: number;
  strike: number;
  isCall: boolean;
  /** When the calendar listed it (08:00 UTC of its listing day; before the start for those listed then), as Deribit's `creation_timestamp`. */
  createdMs: number;
}

export interface OptionQuote {
  def: OptionDef;
  timestamp: number;
  index: number;
  forward: number;
  underlyingIndex: string;
  /** mark IV in percent, rounded to 2 decimals like Deribit; the decimal IV is exactly this / 100. */
  markIvPct: number;
  markPrice: number; // coin
  openInterest: number; // coin
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
  bidPrice: number;
  askPrice: number;
  bidIvPct: number;
  askIvPct: number;
}

export interface PerpState {
  instrumentName: string;
  timestamp: number;
  index: number;
  markPrice: number;
  currentFunding: number;
  funding8h: number;
  openInterestUsd: number;
  bestBid: number;
  bestAsk: number;
  bestBidAmount: number;
  bestAskAmount: number;
}

export type BookSide = [price: number, amount: number][];

export interface SimEvent {
  type: 'created' | 'terminated';
  currency: Currency;
  instrumentName: string;
  timestamp: number;
}

interface CcyState {
  logSpot: number;
  logVolFactor: number;
  premium: number;
}

/** The hourly knots of one currency at hour h: log spot, log vol factor, perp premium. */
interface Knot {
  logSpot: number;
  logVolFactor: number;
  premium: number;
}

/** One hour of 100 ms steps: the fine log-spot path from the hour's knot to the next one. */
interface Segment {
  hour: number;
  from: Map<Currency, Knot>;
  to: Map<Currency, Knot>;
  /** Log spot at each step of the hour (SEGMENT_STEPS + 1 values, the last equal to the next knot). */
  logSpot: Map<Currency, Float64Array>;
}

/**
 * A standard Brownian path W at whole hours (W(0) = 0, unit variance an hour), built by Levy's midpoint
 * construction: W at 2^D hours from a hashed normal, then each midpoint from its interval's ends plus
 * a hashed normal scaled to the interval. Any hour costs D hashes; the same hour always gives the same W.
 */
export function levyPath(seed: number, tag: string, hour: number): number {
  let lo = 0;
  let hi = 2 ** TREE_DEPTH;
  let wLo = 0;
  let wHi = Math.sqrt(hi) * hashGaussian(seed, tag, 'root');
  while (hour !== lo && hour !== hi) {
    const mid = (lo + hi) / 2;
    const wMid = (wLo + wHi) / 2 + Math.sqrt((hi - lo) / 4) * hashGaussian(seed, tag, lo, hi);
    if (hour < mid) {
      hi = mid;
      wHi = wMid;
    } else {
      lo = mid;
      wLo = wMid;
    }
  }
  return hour === lo ? wLo : wHi;
}

/** An OU process sampled hourly, started at 0 at hour 0: the decayed sum of the last `terms` hourly hashed normals. */
function ouKnot(seed: number, tag: string, hour: number, decay: number, noise: number, terms: number): number {
  let x = 0;
  let w = noise;
  for (let j = hour - 1; j >= Math.max(0, hour - terms); j--) {
    x += w * hashGaussian(seed, tag, j);
    w *= decay;
  }
  return x;
}
function niceStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  const m = x / p;
  return (m >= 5 ? 5 : m >= 2.5 ? 2.5 : m >= 2 ? 2 : 1) * p;
}

/** Deribit-like strike grid: fine steps near the reference spot, coarser further out, wider for far expiries. */
export function strikeGrid(spot: number, tYears: number): number[] {
  const s = Math.sqrt(Math.max(tYears, 1 / 365));
  const a = 0.008 + 0.02 * s;
  const near = niceStep(spot * a);
  const outer = niceStep(spot * a * 2.5);
  const nearW = 0.05 + 0.15 * s;
  const range = Math.min(0.08 + 0.9 * s, 1.6);
  const lo = spot * Math.exp(-range);
  const hi = spot * Math.exp(range);
  const out = new Set<number>();
  for (let k = Math.ceil(lo / outer) * outer; k <= hi; k += outer) if (k > 0) out.add(k);
  const nlo = spot * (1 - nearW);
  const nhi = spot * (1 + nearW);
  for (let k = Math.ceil(nlo / near) * near; k <= nhi; k += near) if (k > 0) out.add(Math.round(k * 1e6) / 1e6);
  return [...out].sort((x, y) => x - y);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface MarketSimOptions {
  seed: number;
  startMs: number;
  currencies?: readonly Currency[];
  /** The trading of the hidden book (./trade-book.ts); default DEFAULT_TRADE_KNOBS. */
  trades?: Partial<TradeKnobs>;
}

/** Deribit's smallest option trade (`min_trade_amount`), coin: the lot of its book. */
const DERIBIT_LOT: Record<Currency, number> = { BTC: 0.1, ETH: 1 };

export class MarketSim {
  readonly seed: number;
  readonly startMs: number;
  readonly currencies: readonly Currency[];
  private step = 0;
  private state = new Map<Currency, CcyState>();
  private segment: Segment | undefined;
  private knots = new Map<number, Map<Currency, Knot>>();
  private logSpot0 = new Map<Currency, number>();
  private expiries: number[] = [];
  private options = new Map<Currency, OptionDef[]>();
  private byName = new Map<string, OptionDef>();
  private refSpot = new Map<string, number>(); // `${ccy}:${expiry}` -> spot of the hour it was listed in
  private quoteCache = new Map<string, OptionQuote>();
  private quoteCacheStep = -1;
  private knobs: Readonly<TradeKnobs>;
  /** Deribit's hidden book and tape (its open interest is this book's); the other venues keep their own. */
  readonly deribitBook: TradeBook;
  private deribitLines = new Map<Currency, { src: readonly OptionDef[]; lines: BookLine[]; byName: Map<string, BookLine> }>();

  constructor(opts: MarketSimOptions) {
    this.seed = opts.seed >>> 0;
    this.startMs = Math.floor(opts.startMs);
    this.currencies = opts.currencies ?? CURRENCIES;
    this.knobs = { ...DEFAULT_TRADE_KNOBS, ...opts.trades };
    this.deribitBook = this.tradeBook('deribit', 1, (c) => this.deribitBookLines(c).lines);
    for (const c of CURRENCIES) this.logSpot0.set(c, Math.log(currencyParams(c).spotBase) + 0.12 * hashGaussian(this.seed, c, 'spot0'));
    this.moveTo(0);
    this.relist(this.startMs, false);
  }

  /** Simulated time of the current state (start + n * 100 ms). */
  get timeMs(): number {
    return this.startMs + this.step * STEP_MS;
  }

  /**
   * Move the state to the last 100 ms step at or before t (never back). Returns the listing events:
   * what the calendar delisted and listed since the previous state, stamped with the new state's time.
   * Bounded work however far t is: one hour of steps at most, and the listing diff.
   */
  advanceTo(t: number): SimEvent[] {
    const target = Math.floor((t - this.startMs) / STEP_MS);
    if (target <= this.step) return [];
    this.moveTo(target);
    return this.expiries.length > 0 && this.timeMs >= this.expiries[0] ? this.relist(this.timeMs, true) : [];
  }

  /** The state at step n: the hour's fine path, built once per hour. */
  private moveTo(n: number): void {
    this.step = n;
    const hour = Math.floor(n / SEGMENT_STEPS);
    if (this.segment?.hour !== hour) this.segment = this.buildSegment(hour);
    const seg = this.segment;
    const i = n - hour * SEGMENT_STEPS;
    const f = i / SEGMENT_STEPS;
    for (const c of CURRENCIES) {
      const a = seg.from.get(c)!;
      const b = seg.to.get(c)!;
      this.state.set(c, {
        logSpot: seg.logSpot.get(c)![i],
        logVolFactor: a.logVolFactor + f * (b.logVolFactor - a.logVolFactor),
        premium: a.premium + f * (b.premium - a.premium),
      });
    }
  }

  /** The hourly knots at hour h (cached). */
  private knot(h: number): Map<Currency, Knot> {
    const hit = this.knots.get(h);
    if (hit) return hit;
    const sd = (c: Currency) => currencyParams(c).vol * Math.sqrt(SEGMENT_YEARS);
    const w1 = levyPath(this.seed, 'spot-btc', h);
    const w2 = levyPath(this.seed, 'spot-eth', h);
    const volDecay = Math.exp(-VOL_KAPPA * SEGMENT_YEARS);
    const volNoise = VOL_NOISE * Math.sqrt((1 - volDecay * volDecay) / (2 * VOL_KAPPA));
    const premNoise = PREMIUM_SD * Math.sqrt(1 - PREMIUM_DECAY_PER_HOUR * PREMIUM_DECAY_PER_HOUR);
    const out = new Map<Currency, Knot>();
    for (const c of CURRENCIES) {
      // ETH moves with BTC: correlation 0.8
      const w = c === 'BTC' ? w1 : 0.8 * w1 + 0.6 * w2;
      out.set(c, {
        logSpot: this.logSpot0.get(c)! + SPOT_BAND * Math.tanh((sd(c) * w) / SPOT_BAND),
        logVolFactor: ouKnot(this.seed, `vol-${c}`, h, volDecay, volNoise, VOL_TERMS),
        premium: PREMIUM_MEAN + ouKnot(this.seed, `premium-${c}`, h, PREMIUM_DECAY_PER_HOUR, premNoise, PREMIUM_TERMS),
      });
    }
    if (this.knots.size > 64) this.knots.clear();
    this.knots.set(h, out);
    return out;
  }

  /**
   * One hour of 100 ms steps from its knot to the next: a random walk with the hour's vol and about one
   * jump an hour, bridged (its end pulled onto the next knot by a straight line) so hours join up.
   */
  private buildSegment(hour: number): Segment {
    const from = this.knot(hour);
    const to = this.knot(hour + 1);
    const rand = mulberry32(Math.floor(hash01(this.seed, 'segment', hour) * 4294967296));
    const sqrtDt = Math.sqrt(STEP_MS / YEAR_MS);
    const jumpOdds = STEP_MS / 3_600_000;
    const walk = new Map<Currency, Float64Array>();
    const sides = CURRENCIES.map((c) => {
      const path = new Float64Array(SEGMENT_STEPS + 1);
      walk.set(c, path);
      const v0 = from.get(c)!.logVolFactor;
      return { c, path, vol: currencyParams(c).vol, v0, dv: to.get(c)!.logVolFactor - v0 };
    });
    for (let i = 1; i <= SEGMENT_STEPS; i++) {
      const f = i / SEGMENT_STEPS;
      // a fixed number of draws per step keeps the stream aligned whatever happens
      const zBtc = gaussian(rand);
      for (const x of sides) {
        const zOwn = gaussian(rand);
        const uJump = rand();
        const zJump = gaussian(rand);
        const z = x.c === 'BTC' ? zBtc : 0.8 * zBtc + 0.6 * zOwn;
        const sig = x.vol * Math.exp(x.v0 + f * x.dv) * sqrtDt;
        let ret = sig * z - 0.5 * sig * sig;
        // jumps: about one an hour, 0.8 % typical size, a little more often downward
        if (uJump < jumpOdds) ret += 0.008 * zJump - 0.001;
        x.path[i] = x.path[i - 1] + ret;
      }
    }
    for (const c of CURRENCIES) {
      const path = walk.get(c)!;
      const start = from.get(c)!.logSpot;
      const miss = path[SEGMENT_STEPS] - (to.get(c)!.logSpot - start);
      for (let i = 0; i <= SEGMENT_STEPS; i++) path[i] = start + path[i] - (i / SEGMENT_STEPS) * miss;
    }
    return { hour, from, to, logSpot: walk };
  }

  /**
   * The step at which expiry e was first listed: the start when the calendar listed it then, else the
   * first step at or after the 08:00 roll that listed it (once listed, an expiry stays listed until it
   * expires, so the roll is found by bisection over days).
   */
  private listingStep(e: number): number {
    if (listedExpiries(this.startMs).includes(e)) return 0;
    const d0 = new Date(this.startMs);
    let firstRoll = at0800(d0.getUTCFullYear(), d0.getUTCMonth(), d0.getUTCDate());
    if (firstRoll <= this.startMs) firstRoll += DAY_MS;
    // no expiry is listed more than ~15 months ahead
    let lo = Math.max(0, Math.floor((e - 500 * DAY_MS - firstRoll) / DAY_MS));
    let hi = Math.max(lo, Math.floor((e - firstRoll) / DAY_MS));
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (listedExpiries(firstRoll + mid * DAY_MS).includes(e)) hi = mid;
      else lo = mid + 1;
    }
    return Math.ceil((firstRoll + lo * DAY_MS - this.startMs) / STEP_MS);
  }

  /** The 08:00 roll at which the calendar first listed expiry e (at or before the start for those listed then). */
  private calendarListingMs(e: number): number {
    const d0 = new Date(this.startMs);
    let lastRoll = at0800(d0.getUTCFullYear(), d0.getUTCMonth(), d0.getUTCDate());
    if (lastRoll > this.startMs) lastRoll -= DAY_MS;
    if (!listedExpiries(lastRoll).includes(e)) return this.startMs;
    let lo = -500;
    let hi = 0;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (listedExpiries(lastRoll + mid * DAY_MS).includes(e)) hi = mid;
      else lo = mid + 1;
    }
    return lastRoll + lo * DAY_MS;
  }

  /** Recompute the listed set at time t; returns created/terminated events when `emit`. */
  private relist(t: number, emit: boolean): SimEvent[] {
    const next = listedExpiries(t);
    const events: SimEvent[] = [];
    const gone = this.expiries.filter((e) => !next.includes(e));
    const added = next.filter((e) => !this.expiries.includes(e));
    this.expiries = next;
    const listedAt = new Map(added.map((e) => [e, this.listingStep(e)]));
    for (const c of CURRENCIES) {
      let list = this.options.get(c) ?? [];
      if (gone.length > 0) {
        const keep: OptionDef[] = [];
        for (const d of list) {
          if (gone.includes(d.expiryMs)) {
            this.byName.delete(d.name);
            if (emit) events.push({ type: 'terminated', currency: c, instrumentName: d.name, timestamp: t });
          } else keep.push(d);
        }
        list = keep;
        for (const e of gone) this.refSpot.delete(`${c}:${e}`);
      }
      for (const e of added) {
        const n = listedAt.get(e)!;
        const gridMs = this.startMs + n * STEP_MS;
        // listed before the start: the calendar's listing time, as Deribit's creation_timestamp gives it
        const createdMs = n === 0 ? this.calendarListingMs(e) : gridMs;
        // the grid is fixed around the spot of the hour the expiry was listed in (the start for those listed then)
        const spot = Math.exp(this.knot(Math.floor(n / SEGMENT_STEPS)).get(c)!.logSpot);
        this.refSpot.set(`${c}:${e}`, spot);
        for (const k of strikeGrid(spot, (e - gridMs) / YEAR_MS)) {
          for (const isCall of [true, false]) {
            const d: OptionDef = { name: optionName(c, e, k, isCall), currency: c, expiryMs: e, strike: k, isCall, createdMs };
            list.push(d);
            this.byName.set(d.name, d);
            if (emit) events.push({ type: 'created', currency: c, instrumentName: d.name, timestamp: t });
          }
        }
      }
      list.sort((x, y) => x.expiryMs - y.expiryMs || x.strike - y.strike || Number(y.isCall) - Number(x.isCall));
      this.options.set(c, list);
    }
    this.quoteCacheStep = -1;
    return events;
  }

  listedExpiries(): number[] {
    return [...this.expiries];
  }

  instruments(c: Currency): OptionDef[] {
    return this.options.get(c) ?? [];
  }

  option(name: string): OptionDef | undefined {
    return this.byName.get(name);
  }

  index(c: Currency): number {
    return round(Math.exp(this.state.get(c)!.logSpot), 2);
  }

  /** Forward of an expiry: index with a small annual basis per expiry (contango). */
  forward(c: Currency, expiryMs: number): number {
    const t = Math.max((expiryMs - this.timeMs) / YEAR_MS, 0);
    const basis = 0.055 + 0.02 * hashGaussian(this.seed, c, expiryMs, 'basis');
    return round(this.index(c) * Math.exp(basis * t), 2);
  }

  underlyingIndex(c: Currency, expiryMs: number): string {
    const d = new Date(expiryMs);
    const isMonthEnd = lastFriday(d.getUTCFullYear(), d.getUTCMonth()) === expiryMs;
    // Deribit uses the dated future when one exists (monthly/quarterly), else a synthetic future
    return isMonthEnd ? `${c}-${expiryCode(expiryMs)}` : `SYN.${c}-${expiryCode(expiryMs)}`;
  }

  /** Mark IV (decimal, unrounded) from the term structure and smile. */
  private ivOf(def: OptionDef, f: number, t: number): number {
    const p = currencyParams(def.currency);
    const vf = Math.exp(this.state.get(def.currency)!.logVolFactor);
    const term = 0.88 + 0.25 * Math.exp(-t / 0.03) + 0.04 * hashGaussian(this.seed, def.currency, def.expiryMs, 'term');
    const atm = p.atmVol * vf * term;
    const x = Math.max(-4, Math.min(4, Math.log(def.strike / f) / (atm * Math.sqrt(Math.max(t, 1e-6)))));
    const iv = atm * (1 + p.skew * x + 0.035 * x * x);
    return Math.max(0.12, Math.min(3, iv));
  }

  /**
   * A line's size in coins (the scale of its hidden book: customers hold fractions of it) and how much
   * it trades: concentrated near the listing spot and at round strikes, puts below, calls above.
   */
  oiProfile(def: OptionDef): { coin: number; activity: number } {
    const p = currencyParams(def.currency);
    const ref = this.refSpot.get(`${def.currency}:${def.expiryMs}`) ?? Math.exp(this.state.get(def.currency)!.logSpot);
    // the tenor at listing, as the grid was drawn (the start for lines listed before it)
    const tY = Math.max((def.expiryMs - Math.max(def.createdMs, this.startMs)) / YEAR_MS, 1 / 365);
    const s = Math.sqrt(tY);
    const m = Math.log(def.strike / ref);
    const c = def.isCall ? 0.04 + 0.1 * s : -(0.05 + 0.12 * s);
    const w = 0.05 + 0.25 * s;
    const bell = Math.exp(-0.5 * ((m - c) / w) ** 2);
    const shape = bell + 0.06;
    const big = 10 ** Math.floor(Math.log10(ref));
    const roundBonus = def.strike % big === 0 ? 3 : def.strike % (big / 2) === 0 ? 1.7 : 1;
    const weight = Math.min(4, 0.3 + 12 * tY);
    const noise = Math.exp(0.6 * hashGaussian(this.seed, def.name, 'oi'));
    const side = def.isCall ? 1 : 1.15;
    // far strikes trade rarely (some see no trade in a week), the money most
    return { coin: p.oiScale * weight * shape * roundBonus * noise * side, activity: 0.08 + 2.5 * bell };
  }

  /** The trading knobs of every venue's book. */
  get tradeKnobs(): Readonly<TradeKnobs> {
    return this.knobs;
  }

  /** New knobs: every book is drawn anew (history included), as if the server had started with them. */
  setTradeKnobs(k: TradeKnobs): void {
    this.knobs = { ...k };
  }

  /** A venue's hidden book over its own lines (see ./trade-book.ts). */
  tradeBook(venue: string, rateShare: number, lines: (c: Currency) => readonly BookLine[]): TradeBook {
    return new TradeBook({ seed: this.seed, venue, rateShare, lines, knobs: () => this.knobs, now: () => this.timeMs });
  }

  /**
   * A venue's line of an option: its size is the profile times the venue's share of the open interest,
   * in the venue's unit (`unitCoin` coin each), traded in lots of `lotUnits`.
   */
  bookLine(def: OptionDef, name: string, o: { share: number; unitCoin: number; lotUnits: number }): BookLine {
    const p = this.oiProfile(def);
    return { name, def, lot: o.lotUnits, scale: (p.coin * o.share) / o.unitCoin, unitCoin: o.unitCoin, activity: p.activity };
  }

  private deribitBookLines(c: Currency): { lines: BookLine[]; byName: Map<string, BookLine> } {
    const src = this.instruments(c);
    const hit = this.deribitLines.get(c);
    if (hit?.src === src) return hit;
    const prev = hit?.byName;
    const lines = src.map((d) => prev?.get(d.name) ?? this.bookLine(d, d.name, { share: 1, unitCoin: 1, lotUnits: DERIBIT_LOT[c] }));
    const out = { src, lines, byName: new Map(lines.map((l) => [l.name, l])) };
    this.deribitLines.set(c, out);
    return out;
  }

  /** Deribit's open interest of a listed option, coin: the sum of the long positions of its hidden book. */
  openInterest(def: OptionDef, t: number = this.timeMs): number {
    const l = this.deribitBookLines(def.currency).byName.get(def.name);
    return l ? this.deribitBook.openInterest(l, t) : 0;
  }

  /** Full quote of a listed option at the current state (cached per step). */
  quote(name: string): OptionQuote | undefined {
    if (this.quoteCacheStep !== this.step) {
      this.quoteCache.clear();
      this.quoteCacheStep = this.step;
    }
    const hit = this.quoteCache.get(name);
    if (hit) return hit;
    const def = this.byName.get(name);
    if (!def) return undefined;
    const now = this.timeMs;
    const t = Math.max((def.expiryMs - now) / YEAR_MS, 1e-9);
    const f = this.forward(def.currency, def.expiryMs);
    const markIvPct = round(this.ivOf(def, f, t) * 100, 2);
    const iv = markIvPct / 100;
    const b = black76(f, def.strike, t, iv, def.isCall);
    const markPrice = round(b.price / f, 8);
    const spreadVol = 0.01 + 0.02 * Math.exp(-t * 20);
    const bidB = black76(f, def.strike, t, Math.max(iv - spreadVol, 0.05), def.isCall);
    const askB = black76(f, def.strike, t, iv + spreadVol, def.isCall);
    const tick = 0.0001;
    const q: OptionQuote = {
      def,
      timestamp: now,
      index: this.index(def.currency),
      forward: f,
      underlyingIndex: this.underlyingIndex(def.currency, def.expiryMs),
      markIvPct,
      markPrice,
      openInterest: this.openInterest(def, now),
      delta: round(b.delta, 5),
      gamma: round(b.gamma, 5),
      vega: round(b.vega, 5),
      theta: round(b.theta, 5),
      bidPrice: Math.max(0, Math.floor(bidB.price / f / tick) * tick),
      askPrice: Math.max(tick, Math.ceil(askB.price / f / tick) * tick),
      bidIvPct: round((iv - spreadVol) * 100, 2),
      askIvPct: round((iv + spreadVol) * 100, 2),
    };
    q.bidPrice = round(q.bidPrice, 4);
    q.askPrice = round(q.askPrice, 4);
    this.quoteCache.set(name, q);
    return q;
  }

  /**
   * What a trade of `def` printed at: the ask (taker buys) or bid of the quote now, its IV, the mark,
   * index and forward. A trade answered from history carries the prices of now (the path is not kept);
   * an expired line prints at the tick with the index of now.
   */
  tradeQuote(def: OptionDef, takerBuys: boolean): { price: number; ivPct: number; mark: number; index: number; forward: number } {
    const q = this.quote(def.name);
    if (!q) {
      const index = this.index(def.currency);
      return { price: 0.0001, ivPct: 0, mark: 0.0001, index, forward: index };
    }
    return { price: takerBuys ? q.askPrice : Math.max(q.bidPrice, 0.0001), ivPct: takerBuys ? q.askIvPct : q.bidIvPct, mark: q.markPrice, index: q.index, forward: q.forward };
  }

  /** The listed call nearest the money for an expiry (what the client subscribes per expiry). */
  nearestCall(c: Currency, expiryMs: number): OptionDef | undefined {
    const f = this.forward(c, expiryMs);
    let best: OptionDef | undefined;
    for (const d of this.instruments(c)) {
      if (d.expiryMs !== expiryMs || !d.isCall) continue;
      if (!best || Math.abs(d.strike - f) < Math.abs(best.strike - f)) best = d;
    }
    return best;
  }

  perp(c: Currency): PerpState {
    const p = currencyParams(c);
    const st = this.state.get(c)!;
    const index = this.index(c);
    const mark = round(index * (1 + st.premium), 2);
    const tick = p.perpTick;
    const bestBid = round(Math.floor(mark / tick) * tick, 4);
    const bestAsk = round(bestBid + tick, 4);
    const prem = Math.max(-0.005, Math.min(0.005, st.premium));
    const book = this.book(c);
    return {
      instrumentName: `${c}-PERPETUAL`,
      timestamp: this.timeMs,
      index,
      markPrice: mark,
      currentFunding: round(Math.max(-0.0005, Math.min(0.0005, prem)), 8),
      funding8h: round(prem / 3, 8),
      openInterestUsd: Math.round((p.perpOiUsd * (1 + 0.05 * Math.sin((this.timeMs - this.startMs) / 7_200_000))) / p.perpContractUsd) * p.perpContractUsd,
      bestBid,
      bestAsk,
      bestBidAmount: book.bids[0]?.[1] ?? 0,
      bestAskAmount: book.asks[0]?.[1] ?? 0,
    };
  }

  /** Change id of the perpetual book at the current step (monotonic, one per 100 ms step). */
  bookChangeId(c: Currency): number {
    return 7_000_000_000 + (c === 'BTC' ? 0 : 1_000_000_000) + this.step;
  }

  /** Perpetual order book: ~100-150 levels a side out to 3 % of mid, amounts in USD. */
  book(c: Currency): { bids: BookSide; asks: BookSide } {
    const p = currencyParams(c);
    const st = this.state.get(c)!;
    const mark = Math.exp(st.logSpot) * (1 + st.premium);
    const tick = p.perpTick;
    const bestBidTicks = Math.floor(mark / tick);
    const maxTicks = Math.floor((mark * 0.03) / tick);
    const offsets: number[] = [];
    for (let o = 0; o <= maxTicks; ) {
      offsets.push(o);
      o += o < 25 ? 1 : o < 200 ? 5 : o < 1000 ? 25 : 100;
    }
    const t = this.timeMs;
    const side = (sign: 1 | -1): BookSide => {
      const out: BookSide = [];
      for (const o of offsets) {
        const ticks = sign === -1 ? bestBidTicks - o : bestBidTicks + 1 + o;
        if (ticks <= 0) continue;
        const price = round(ticks * tick, 4);
        // each level refreshes on its own ~3 s phase, so a 100 ms diff touches a few levels
        const epoch = Math.floor((t + hash01(this.seed, c, ticks, 'ph') * 3000) / 3000);
        const u = hash01(this.seed, c, ticks, epoch);
        if (o > 3 && u < 0.15) continue; // gaps in the far book
        const depthUsd = (p.perpOiUsd / 2_000) * (0.2 + Math.sqrt(o / Math.max(maxTicks, 1)) * 3);
        const amt = Math.max(1, Math.round((depthUsd * Math.exp(1.2 * (u - 0.5) * 2)) / p.perpContractUsd)) * p.perpContractUsd;
        out.push([price, amt]);
      }
      return out;
    };
    return { bids: side(-1), asks: side(1) };
  }

  params(c: Currency): Readonly<CurrencyParams> {
    return currencyParams(c);
  }
}
