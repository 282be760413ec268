/**
 * Deterministic market simulator for BTC and ETH options on Deribit's calendar.
 * The state at simulated time t depends only on (seed, startMs, t): the spot path is stepped every
 * 100 ms of simulated time from one seeded PRNG stream with a fixed number of draws per step, and
 * every per-instrument constant (open interest, basis) is a stateless hash of the seed and the name.
 */
import { black76 } from './black76.ts';
import { expiryCode, lastFriday, listedExpiries, optionName } from './calendar.ts';
import { gaussian, hash01, hashGaussian, mulberry32 } from './prng.ts';

export type Currency = 'BTC' | 'ETH';
export const CURRENCIES: readonly Currency[] = ['BTC', 'ETH'];
export const STEP_MS = 100;
const YEAR_MS = 365 * 86_400_000;

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

const PARAMS: Record<Currency, CurrencyParams> = {
  BTC: { spotBase: 95_000, vol: 0.5, atmVol: 0.52, skew: -0.05, perpTick: 0.5, perpContractUsd: 10, perpOiUsd: 1.1e9, oiScale: 260, indexName: 'btc_usd' },
  ETH: { spotBase: 3_400, vol: 0.65, atmVol: 0.66, skew: -0.04, perpTick: 0.05, perpContractUsd: 1, perpOiUsd: 4.5e8, oiScale: 2_600, indexName: 'eth_usd' },
};

export function indexNameOf(c: Currency): string {
  return PARAMS[c].indexName;
}

export interface OptionDef {
  name: string;
  currency: Currency;
  expiryMs: number;
  strike: number;
  isCall: boolean;
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
}

export class MarketSim {
  readonly seed: number;
  readonly startMs: number;
  readonly currencies: readonly Currency[];
  private rand: () => number;
  private step = 0;
  private state = new Map<Currency, CcyState>();
  private expiries: number[] = [];
  private options = new Map<Currency, OptionDef[]>();
  private byName = new Map<string, OptionDef>();
  private refSpot = new Map<string, number>(); // `${ccy}:${expiry}` -> spot when listed
  private quoteCache = new Map<string, OptionQuote>();
  private quoteCacheStep = -1;

  constructor(opts: MarketSimOptions) {
    this.seed = opts.seed >>> 0;
    this.startMs = Math.floor(opts.startMs);
    this.currencies = opts.currencies ?? CURRENCIES;
    this.rand = mulberry32(this.seed ^ 0x9e3779b9);
    for (const c of CURRENCIES) {
      const p = PARAMS[c];
      const spot0 = p.spotBase * Math.exp(0.12 * hashGaussian(this.seed, c, 'spot0'));
      this.state.set(c, { logSpot: Math.log(spot0), logVolFactor: 0, premium: 0.0002 });
    }
    this.relist(this.startMs, false);
  }

  /** Simulated time of the current state (start + n * 100 ms). */
  get timeMs(): number {
    return this.startMs + this.step * STEP_MS;
  }

  /** Advance the state to the last 100 ms step at or before t. Returns listing events in order. */
  advanceTo(t: number): SimEvent[] {
    const target = Math.floor((t - this.startMs) / STEP_MS);
    const events: SimEvent[] = [];
    while (this.step < target) {
      this.step++;
      this.stepOnce();
      if (this.expiries.length > 0 && this.timeMs >= this.expiries[0]) events.push(...this.relist(this.timeMs, true));
    }
    return events;
  }

  private stepOnce(): void {
    const dt = STEP_MS / YEAR_MS;
    const zBtc = gaussian(this.rand);
    for (const c of CURRENCIES) {
      const p = PARAMS[c];
      const st = this.state.get(c)!;
      // fixed number of draws per currency and step keeps the stream aligned whatever happens
      const zOwn = gaussian(this.rand);
      const uJump = this.rand();
      const zJump = gaussian(this.rand);
      const zVol = gaussian(this.rand);
      const zPrem = gaussian(this.rand);
      const z = c === 'BTC' ? zBtc : 0.8 * zBtc + 0.6 * zOwn;
      const vf = Math.exp(st.logVolFactor);
      const sig = p.vol * vf * Math.sqrt(dt);
      let ret = sig * z - 0.5 * sig * sig;
      // jumps: about one an hour, 0.8 % typical size, a little more often downward
      if (uJump < STEP_MS / 3_600_000) ret += 0.008 * zJump - 0.001;
      st.logSpot += ret;
      // vol factor: OU around 0 with a 2-day half life, nudged up by down moves 
      st.logVolFactor += -st.logVolFactor * (dt * 120) + 0.9 * Math.sqrt(dt) * zVol;
      // perp premium: OU around +2 bp with a ~1 h half life
      st.premium += (0.0002 - st.premium) * (STEP_MS / 5_000_000) + 0.000002 * zPrem;
    }
  }

  /** Recompute the listed set at time t; returns created/terminated events when `emit`. */
  private relist(t: number, emit: boolean): SimEvent[] {
    const next = listedExpiries(t);
    const events: SimEvent[] = [];
    const gone = this.expiries.filter((e) => !next.includes(e));
    const added = next.filter((e) => !this.expiries.includes(e));
    this.expiries = next;
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
      const spot = Math.exp(this.state.get(c)!.logSpot);
      for (const e of added) {
        this.refSpot.set(`${c}:${e}`, spot);
        for (const k of strikeGrid(spot, (e - t) / YEAR_MS)) {
          for (const isCall of [true, false]) {
            const d: OptionDef = { name: optionName(c, e, k, isCall), currency: c, expiryMs: e, strike: k, isCall, createdMs: t };
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
    const p = PARAMS[def.currency];
    const vf = Math.exp(this.state.get(def.currency)!.logVolFactor);
    const term = 0.88 + 0.25 * Math.exp(-t / 0.03) + 0.04 * hashGaussian(this.seed, def.currency, def.expiryMs, 'term');
    const atm = p.atmVol * vf * term;
    const x = Math.max(-4, Math.min(4, Math.log(def.strike / f) / (atm * Math.sqrt(Math.max(t, 1e-6)))));
    const iv = atm * (1 + p.skew * x + 0.035 * x * x);
    return Math.max(0.12, Math.min(3, iv));
  }

  /** Open interest in coins: concentrated near the listing spot and at round strikes, puts below, calls above. */
  openInterest(def: OptionDef, t: number = this.timeMs): number {
    const p = PARAMS[def.currency];
    const ref = this.refSpot.get(`${def.currency}:${def.expiryMs}`) ?? Math.exp(this.state.get(def.currency)!.logSpot);
    const tY = Math.max((def.expiryMs - def.createdMs) / YEAR_MS, 1 / 365);
    const s = Math.sqrt(tY);
    const m = Math.log(def.strike / ref);
    const c = def.isCall ? 0.04 + 0.1 * s : -(0.05 + 0.12 * s);
    const w = 0.05 + 0.25 * s;
    const shape = Math.exp(-0.5 * ((m - c) / w) ** 2) + 0.06;
    const big = 10 ** Math.floor(Math.log10(ref));
    const roundBonus = def.strike % big === 0 ? 3 : def.strike % (big / 2) === 0 ? 1.7 : 1;
    const weight = Math.min(4, 0.3 + 12 * tY);
    const noise = Math.exp(0.6 * hashGaussian(this.seed, def.name, 'oi'));
    const side = def.isCall ? 1 : 1.15;
    // slow deterministic drift so OI is not frozen (a few % over hours)
    const drift = 1 + 0.03 * Math.sin((2 * Math.PI * (t - this.startMs)) / 21_600_000 + 6.28 * hash01(this.seed, def.name, 'ph'));
    return round(p.oiScale * weight * shape * roundBonus * noise * side * drift, 1);
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
    const p = PARAMS[c];
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
    const p = PARAMS[c];
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
    return PARAMS[c];
  }
}
