/**
 * Line validation, per-line constants and signed dealer dollar gamma per 1 % move
 * (design: "Number conventions": dollar gamma, dealer sign, net GEX of a strike, invalid input).
 */
import type { ChainColumns, ExclusionCounts, ExclusionReason } from './types.ts';
import type { DealerSignModel } from './dealer-sign.ts';

/** IV above this (decimal; 10 = 1000 %) is treated as absurd and excluded (design: "Invalid input"). */
export const MAX_IV = 10;

const YEAR_MS = 365 * 86_400_000;
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
  if (!(iv <= MAX_IV)) return 'ivAbsurd'; // also +Infinity
  const F = chain.forward[i];
  if (!(F > 0) || !Number.isFinite(F)) return 'forwardInvalid';
  const oi = chain.openInterest[i];
  if (Number.isNaN(oi)) return 'oiMissing';
  if (oi < 0) return 'oiNegative';
  if (!Number.isFinite(oi)) return 'oiMissing';
  return null;
}

/**
 * Per-line constants of the included lines, computed once per recompute so that the sweep's inner
 * loop is one exp and a few multiplies (see sweep.ts). Index j runs over included lines; idx[j] is
 * the chain line.
 *
 * With s = sigma sqrt T and F' = F (1 + x) (design: "Spot sweep"):
 *   d1(x) = b + c ln(1 + x),  b = (ln(F/K) + s^2/2) / s,  c = 1 / s
 *   dollar gamma per 1 % at x = gamma(F') F'^2 0.01 w = (1 + x) a exp(-d1(x)^2 / 2),
 *   a = F 0.01 w / (s sqrt(2 pi)),   w = sign * OI * multiplier (dealer position in underlying units).
 */
export class PreparedLines {
  /** Included lines. */
  count = 0;
  /**
   * Included lines with a non-zero position come first: j < active. Lines with zero open interest
   * still show in the per-strike rows but add nothing to any sum, so the sweep and the flows stop at
   * `active` (real chains list many strikes nobody holds).
   */
  active = 0;
  capacity = 0;
  idx = new Int32Array(0);
  sign = new Float64Array(0);
  /** Dealer position in underlying units: sign * OI * multiplier. */
  w = new Float64Array(0);
  isCall = new Uint8Array(0);
  a = new Float64Array(0);
  b = new Float64Array(0);
  c = new Float64Array(0);
  /** Signed dealer dollar gamma per 1 % at spot, USD. */
  dollarGamma = new Float64Array(0);
  /** w * gamma * F: dealer delta change per unit relative move of all forwards (gamma approximation). */
  gammaF = new Float64Array(0);

  ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, this.capacity * 2, 64);
    this.idx = new Int32Array(cap);
    this.sign = new Float64Array(cap);
    this.w = new Float64Array(cap);
    this.isCall = new Uint8Array(cap);
    this.a = new Float64Array(cap);
    this.b = new Float64Array(cap);
    this.c = new Float64Array(cap);
    this.dollarGamma = new Float64Array(cap);
    this.gammaF = new Float64Array(cap);
    this.capacity = cap;
  }
}

/**
 * Validate every line of the selected expiries, count exclusions by reason, and fill the per-line
 * constants of the included lines (design: "Dollar gamma per 1% move", "Dealer sign model").
 * Lines of unselected expiries are filtered out silently: they are not invalid.
 * @returns the excluded counts; `out` holds the included lines.
 */
export function prepareLines(
  chain: ChainColumns,
  nowMs: number,
  model: DealerSignModel,
  expiries: ReadonlySet<number> | null | undefined,
  out: PreparedLines,
): ExclusionCounts {
  const excluded = emptyExclusions();
  const n = chain.length;
  out.ensure(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (expiries && !expiries.has(chain.expiryMs[i])) continue;
    const reason = exclusionReason(chain, i, nowMs);
    if (reason !== null) {
      excluded[reason]++;
      continue;
    }
    out.idx[count++] = i;
  }
  out.count = count;
  model.fillSigns(chain, out.idx, count, out.sign);
  for (let j = 0; j < count; j++) {
    const i = out.idx[j];
    const F = chain.forward[i];
    const K = chain.strike[i];
    const T = (chain.expiryMs[i] - nowMs) / YEAR_MS;
    const s = chain.markIv[i] * Math.sqrt(T);
    const w = out.sign[j] * chain.openInterest[i] * chain.multiplier[i];
    const b = (Math.log(F / K) + 0.5 * s * s) / s;
    const a = (F * 0.01 * w * INV_SQRT_2PI) / s;
    out.w[j] = w;
    out.isCall[j] = chain.isCall[i];
    out.a[j] = a;
    out.b[j] = b;
    out.c[j] = 1 / s;
    const pdf = Math.exp(-0.5 * b * b);
    out.dollarGamma[j] = a * pdf;
    // gamma * F * w = phi(d1) / s * w
    out.gammaF[j] = (INV_SQRT_2PI * pdf * w) / s;
  }
  // Partition: non-zero positions to the front (order within each part does not matter to any sum).
  let front = 0;
  for (let j = 0; j < count; j++) {
    if (out.w[j] !== 0) {
      if (j !== front) swapLines(out, j, front);
      front++;
    }
  }
  out.active = front;
  return excluded;
}

function swapLines(p: PreparedLines, i: number, j: number): void {
  const fs = [p.sign, p.w, p.a, p.b, p.c, p.dollarGamma, p.gammaF];
  for (const f of fs) {
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
 * Dollar gamma per 1 % move of one line, USD: gamma * F^2 * 0.01 * OI * multiplier (unsigned).
 * (design: "Dollar gamma per 1% move")
 */
export function dollarGammaPerPct(gamma: number, F: number, openInterest: number, multiplier: number): number {
  return gamma * F * F * 0.01 * openInterest * multiplier;
}

export interface StrikeExposure {
  strikes: Float64Array;
  callGex: Float64Array;
  putGex: Float64Array;
  netGex: Float64Array;
}

/**
 * Signed dealer dollar gamma per strike (call, put, net), strikes ascending
 * (design: "Net GEX of a strike").
 */
export function netGexByStrike(chain: ChainColumns, lines: PreparedLines): StrikeExposure {
  const n = lines.count;
  const keys: number[] = [];
  const pos = new Map<number, number>();
  for (let j = 0; j < n; j++) {
    const K = chain.strike[lines.idx[j]];
    if (!pos.has(K)) {
      pos.set(K, 0);
      keys.push(K);
    }
  }
  keys.sort((x, y) => x - y);
  for (let k = 0; k < keys.length; k++) pos.set(keys[k], k);
  const strikes = Float64Array.from(keys);
  const callGex = new Float64Array(keys.length);
  const putGex = new Float64Array(keys.length);
  const netGex = new Float64Array(keys.length);
  for (let j = 0; j < n; j++) {
    const k = pos.get(chain.strike[lines.idx[j]]) as number;
    const g = lines.dollarGamma[j];
    if (lines.isCall[j] === 1) callGex[k] += g;
    else putGex[k] += g;
  }
  for (let k = 0; k < keys.length; k++) netGex[k] = callGex[k] + putGex[k];
  return { strikes, callGex, putGex, netGex };
}

/** Net signed dealer dollar gamma per expiry, expiries ascending (design: "Net GEX"). */
export function netGexByExpiry(chain: ChainColumns, lines: PreparedLines): { expiries: Float64Array; netGex: Float64Array } {
  const sums = new Map<number, number>();
  for (let j = 0; j < lines.count; j++) {
    const e = chain.expiryMs[lines.idx[j]];
    sums.set(e, (sums.get(e) ?? 0) + lines.dollarGamma[j]);
  }
  const keys = [...sums.keys()].sort((x, y) => x - y);
  return { expiries: Float64Array.from(keys), netGex: Float64Array.from(keys, (k) => sums.get(k) as number) };
}
