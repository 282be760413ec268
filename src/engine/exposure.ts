/**
 * Line validation, per-line constants and signed dealer dollar gamma per 1 % move
 * (design: "Number conventions": dollar gamma, dealer sign, net GEX of a strike, invalid input).
 */
import type { ChainColumns, ExclusionCounts, ExclusionReason, ExpiringLines } from './types.ts';
import type { DealerPositionModel } from './dealer-sign.ts';
import { gamma } from './black76.ts';
import { Phi } from './normal.ts';

/** IV outside [MIN_IV, MAX_IV] (decimal; 0.01 = 1 %, 10 = 1000 %) is absurd and excluded (design: "Invalid input"). */
import { MAX_IV, MIN_IV } from '../shared/policy.ts';
export { MAX_IV, MIN_IV };

/** Year of the design's T (365 days), ms. */
export const YEAR_MS = 365 * 86_400_000;
/** A line with under one hour to expiry (T < 1/8760) is "expiring" (design: "Expiring lines"). */
export const EXPIRING_MS = 3_600_000;
const INV_SQRT_2PI = 0.3989422804014327;

export const EXCLUSION_REASONS: readonly ExclusionReason[] = [
  'expired',
  'ivMissing',
  'ivNonPositive',
  'ivAbsurd',
  'oiMissing',
  'oiNegative',
  'strikeInvalid',
  'forwardInvalid',
  'multiplierInvalid',
];

export function emptyExclusions(): ExclusionCounts {
  return {
    expired: 0,
    ivMissing: 0,
    ivNonPositive: 0,
    ivAbsurd: 0,
    oiMissing: 0,
    oiNegative: 0,
    strikeInvalid: 0,
    forwardInvalid: 0,
    multiplierInvalid: 0,
  };
}

/**
 * Why line i cannot enter the sums, or null if it is valid. One reason per line, checked in a fixed
 * order (static fields first, then time, then market data) so counts are reproducible.
 */
export function exclusionReason(chain: ChainColumns, i: number, nowMs: number): ExclusionReason | null {
  const K = chain.strike[i];
  if (!(K > 0) || !Number.isFinite(K)) return 'strikeInvalid';
  const m = chain.multiplier[i];
  if (!(m > 0) || !Number.isFinite(m)) return 'multiplierInvalid';
  const e = chain.expiryMs[i];
  if (!(e - nowMs > 0)) return 'expired'; // NaN expiry lands here too: no T, no value
  const iv = chain.markIv[i];
  if (Number.isNaN(iv)) return 'ivMissing';
  if (!(iv > 0)) return 'ivNonPositive';
  // Below 1 % the line's gamma grows like 1/sigma and one mispriced line would decide the totals.
  if (!(iv >= MIN_IV && iv <= MAX_IV)) return 'ivAbsurd'; // also +Infinity
  const F = chain.forward[i];
  if (!(F > 0) || !Number.isFinite(F)) return 'forwardInvalid';
  const oi = chain.openInterest[i];
  if (Number.isNaN(oi)) return 'oiMissing';
  if (oi < 0) return 'oiNegative';
  if (!Number.isFinite(oi)) return 'oiMissing';
  return null;
}

/**
 * Per-line constants of the lines in the sums, computed once per recompute so that the sweep's
 * inner loop is one exp and a few multiplies (see sweep.ts). Index j runs over those lines; idx[j]
 * is the chain line. black76.ts holds the literal formulas; this is the same algebra precomputed
 * (tests compare the two).
 *
 * With s = sigma sqrt T and F' = F (1 + x) (design: "Spot sweep"):
 *   d1(x) = d1AtSpot + invS ln(1 + x),  d1AtSpot = (ln(F/K) + s^2/2) / s,  invS = 1 / s
 *   dollar gamma per 1 % at x = gamma(F') F'^2 0.01 w = (1 + x) dgScale exp(-d1(x)^2 / 2),
 *   dgScale = F 0.01 w / (s sqrt(2 pi)),   w = dealerUnits = q * multiplier (underlying units).
 */
export class PreparedLines {
  /** Lines in the sums. */
  count = 0;
  /**
   * Lines with a non-zero position come first: j < active. Lines with zero position still show in
   * the per-strike rows but add nothing to any sum, so the sweep and the flows stop at `active`
   * (real chains list many strikes nobody holds).
   */
  active = 0;
  capacity = 0;
  idx = new Int32Array(0);
  /** Dealer position, contracts (design: q). */
  position = new Float64Array(0);
  /** Dealer position in underlying units: q * multiplier. */
  dealerUnits = new Float64Array(0);
  isCall = new Uint8Array(0);
  dgScale = new Float64Array(0);
  d1AtSpot = new Float64Array(0);
  invS = new Float64Array(0);
  /** sigma, T (years) and ln(F/K): what a scenario needs to revalue the line at another time or vol. */
  sigma = new Float64Array(0);
  yearsToExpiry = new Float64Array(0);
  logMoneyness = new Float64Array(0);
  /** Signed dealer dollar gamma per 1 % at spot, USD. */
  dollarGamma = new Float64Array(0);
  /** w gamma F: dealer delta change per unit relative move of all forwards (gamma approximation). */
  deltaPerRelMove = new Float64Array(0);
  /** Exposures at spot, units of the underlying (design: "Beyond gamma"). */
  deltaUnits = new Float64Array(0);
  vannaUnits = new Float64Array(0);
  charmUnits = new Float64Array(0);

  ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, this.capacity * 2, 64);
    this.idx = new Int32Array(cap);
    this.isCall = new Uint8Array(cap);
    for (const f of PreparedLines.FLOAT_FIELDS) this[f] = new Float64Array(cap);
    this.capacity = cap;
  }

  static readonly FLOAT_FIELDS = [
    'position',
    'dealerUnits',
    'dgScale',
    'd1AtSpot',
    'invS',
    'sigma',
    'yearsToExpiry',
    'logMoneyness',
    'dollarGamma',
    'deltaPerRelMove',
    'deltaUnits',
    'vannaUnits',
    'charmUnits',
  ] as const;
}

export interface PrepareOptions {
  /** Selected expiries (epoch ms); null = all. Other expiries are filtered out silently (not invalid). */
  expiries?: ReadonlySet<number> | null;
  /** Put lines under one hour to expiry in the sums too (design: "Expiring lines"). */
  includeExpiring?: boolean;
  /** One more expiry to leave out silently ("after the next expiry"). */
  dropExpiryMs?: number | null;
}

export interface PrepareSummary {
  excluded: ExclusionCounts;
  expiring: ExpiringLines;
}

/**
 * Validate every line of the selected expiries, count exclusions by reason, set expiring lines
 * apart, and fill the per-line constants of the lines in the sums (design: "Dollar gamma per 1%
 * move", "Dealer sign model", "Expiring lines", "Beyond gamma").
 * @returns the excluded counts and the expiring lines' summary; `out` holds the lines in the sums.
 */
export function prepareLines(chain: ChainColumns, nowMs: number, model: DealerPositionModel, opts: PrepareOptions, out: PreparedLines): PrepareSummary {
  const excluded = emptyExclusions();
  const expiries = opts.expiries ?? null;
  const drop = opts.dropExpiryMs ?? null;
  const n = chain.length;
  out.ensure(n);
  // Lines in the sums fill idx from the front; expiring lines left out fill it from the back, so
  // one pass sorts them and no second array is needed.
  let count = 0;
  let aside = n;
  for (let i = 0; i < n; i++) {
    const e = chain.expiryMs[i];
    if ((expiries && !expiries.has(e)) || e === drop) continue;
    const reason = exclusionReason(chain, i, nowMs);
    if (reason !== null) {
      excluded[reason]++;
      continue;
    }
    if (e - nowMs < EXPIRING_MS && !opts.includeExpiring) out.idx[--aside] = i;
    else out.idx[count++] = i;
  }
  out.count = count;
  model.fillPositions(chain, out.idx, count, out.position);

  // Expiring lines (design: "Expiring lines"): their share of gross dollar gamma and the pin,
  // whether they are in the sums or set aside at the back of idx.
  let expiringLines = 0;
  let expiringGross = 0;
  let gross = 0;
  const grossByStrike = new Map<number, number>();
  const addExpiring = (K: number, g: number) => {
    expiringLines++;
    expiringGross += g;
    grossByStrike.set(K, (grossByStrike.get(K) ?? 0) + g);
  };
  for (let j = 0; j < count; j++) {
    const i = out.idx[j];
    fillLine(out, j, chain, i, nowMs);
    const g = Math.abs(out.dollarGamma[j]);
    gross += g;
    if (chain.expiryMs[i] - nowMs < EXPIRING_MS) addExpiring(chain.strike[i], g);
  }
  if (aside < n) {
    const asideIdx = out.idx.slice(aside, n);
    const asideQ = new Float64Array(asideIdx.length);
    model.fillPositions(chain, asideIdx, asideIdx.length, asideQ);
    for (let j = 0; j < asideIdx.length; j++) {
      const i = asideIdx[j];
      const g = Math.abs(dollarGammaAtSpot(chain, i, nowMs, asideQ[j]));
      gross += g;
      addExpiring(chain.strike[i], g);
    }
  }
  let pinStrike: number | null = null;
  let pinGross = 0;
  for (const [K, g] of grossByStrike) {
    if (g > pinGross || (g === pinGross && pinStrike !== null && K < pinStrike)) {
      pinGross = g;
      pinStrike = K;
    }
  }

  // Partition: non-zero positions to the front (order within each part does not matter to any sum).
  let front = 0;
  for (let j = 0; j < count; j++) {
    if (out.dealerUnits[j] !== 0) {
      if (j !== front) swapLines(out, j, front);
      front++;
    }
  }
  out.active = front;
  return {
    excluded,
    expiring: { lines: expiringLines, included: opts.includeExpiring === true, grossGammaShare: gross > 0 ? expiringGross / gross : 0, pinStrike },
  };
}

/** The constants of chain line i (valid) with dealer position out.position[j], into slot j. */
function fillLine(out: PreparedLines, j: number, chain: ChainColumns, i: number, nowMs: number): void {
  const F = chain.forward[i];
  const K = chain.strike[i];
  const sigma = chain.markIv[i];
  const T = (chain.expiryMs[i] - nowMs) / YEAR_MS;
  const s = sigma * Math.sqrt(T);
  const w = out.position[j] * chain.multiplier[i];
  const lnFK = Math.log(F / K);
  const d1 = (lnFK + 0.5 * s * s) / s;
  const d2 = d1 - s;
  const a = (F * 0.01 * w * INV_SQRT_2PI) / s;
  const pdf = Math.exp(-0.5 * d1 * d1); // phi(d1) sqrt(2 pi)
  const phiD1 = INV_SQRT_2PI * pdf;
  const isCall = chain.isCall[i];
  out.dealerUnits[j] = w;
  out.isCall[j] = isCall;
  out.dgScale[j] = a;
  out.d1AtSpot[j] = d1;
  out.invS[j] = 1 / s;
  out.sigma[j] = sigma;
  out.yearsToExpiry[j] = T;
  out.logMoneyness[j] = lnFK;
  out.dollarGamma[j] = a * pdf;
  out.deltaPerRelMove[j] = (phiD1 * w) / s; // gamma F w = phi(d1) / s * w
  const n1 = Phi(d1);
  out.deltaUnits[j] = w * (isCall === 1 ? n1 : n1 - 1);
  out.vannaUnits[j] = w * ((-phiD1 * d2) / sigma) * 0.01; // vanna = -phi(d1) d2 / sigma, per vol point
  out.charmUnits[j] = (w * ((phiD1 * d2) / (2 * T))) / 365; // charm = phi(d1) d2 / (2T), per day
}

/** Signed dollar gamma per 1 % at spot of one valid line with dealer position q (design: "Dollar gamma per 1% move"). */
export function dollarGammaAtSpot(chain: ChainColumns, i: number, nowMs: number, q: number): number {
  const F = chain.forward[i];
  const T = (chain.expiryMs[i] - nowMs) / YEAR_MS;
  return dollarGammaPerPct(gamma(F, chain.strike[i], chain.markIv[i], T), F, q, chain.multiplier[i]);
}

function swapLines(p: PreparedLines, i: number, j: number): void {
  for (const name of PreparedLines.FLOAT_FIELDS) {
    const f = p[name];
    const t = f[i];
    f[i] = f[j];
    f[j] = t;
  }
  let t = p.idx[i];
  p.idx[i] = p.idx[j];
  p.idx[j] = t;
  t = p.isCall[i];
  p.isCall[i] = p.isCall[j];
  p.isCall[j] = t;
}

/**
 * Dollar gamma per 1 % move of one line, USD: gamma * F^2 * 0.01 * q * multiplier, signed by the
 * dealer position q (contracts); with q = OI it is the unsigned figure (design: "Dollar gamma per 1% move").
 */
export function dollarGammaPerPct(gammaPerUsd: number, F: number, q: number, multiplier: number): number {
  return gammaPerUsd * F * F * 0.01 * q * multiplier;
}
