/**
 * Gamma profile across hypothetical spots and the zero-gamma level (design: "Spot sweep", "Zero gamma").
 *
 * A hypothetical spot S' = S (1 + x) moves every forward to F' = F (1 + x), keeps each line's IV and T.
 * Dollar gamma per 1 % at S' uses F'^2, exactly as design.md defines dollar gamma with the line's own
 * forward: gamma(F') F'^2 0.01 w = (1 + x) a exp(-d1(x)^2 / 2) with the constants of PreparedLines.
 */
import type { PreparedLines } from './exposure.ts';

/**
 * Total signed dealer dollar gamma per 1 % (USD) at hypothetical spot S (1 + x).
 * @param lines prepared constants (exposure.ts)
 * @param x relative spot move, > -1
 */
export function netGexAt(lines: PreparedLines, x: number): number {
  const L = Math.log1p(x);
  const a = lines.a;
  const b = lines.b;
  const c = lines.c;
  const n = lines.active;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const d = b[j] + L * c[j];
    sum += a[j] * Math.exp(-0.5 * d * d);
  }
  return (1 + x) * sum;
}

/**
 * Gamma profile: total net GEX at each relative move xs[k] (design: "Spot sweep").
 * @param out receives GEX(xs[k]) in USD per 1 %; must be at least xs.length long
 */
export function gexAcrossSpotMoves(lines: PreparedLines, xs: Float64Array, out: Float64Array): Float64Array {
  for (let k = 0; k < xs.length; k++) out[k] = netGexAt(lines, xs[k]);
  return out;
}

/** `steps` evenly spaced points from -range to +range (steps >= 2; 1 gives [0]). */
export function symmetricGrid(range: number, steps: number): Float64Array {
  const xs = new Float64Array(Math.max(1, steps));
  if (steps <= 1) return xs;
  for (let k = 0; k < steps; k++) xs[k] = -range + (2 * range * k) / (steps - 1);
  xs[(steps - 1) >> 1] = steps % 2 === 1 ? 0 : xs[(steps - 1) >> 1]; // exact 0 at the centre
  return xs;
}

export interface ZeroGammaResult {
  /** The crossing nearest to spot, as a price, or null when there is none in range (never invented). */
  zeroGammaLevel: number | null;
  /** Every sign change in range as prices, nearest to spot first. */
  crossings: number[];
}

export interface ZeroGammaOptions {
  /** Search within +-range of spot (fraction). Default 0.5. */
  range?: number;
  /** Refine each root to this fraction of spot. Default 1e-4 (0.01 %). */
  tolerance?: number;
  /** Grid step used to bracket sign changes, fraction of spot. Default 0.0025. */
  step?: number;
  /** Already-evaluated points (e.g. the profile) that the bracketing grid may reuse. */
  known?: { xs: Float64Array; values: Float64Array };
}

/**
 * Zero gamma (design: "Zero gamma"): brackets every sign change of GEX(x) on a grid over +-range,
 * refines each by bisection until the bracket is narrower than `tolerance` (so the reported price is
 * within tolerance/2 * S of the root), and orders them nearest to spot first.
 * Points where GEX is exactly 0 with the same sign on both sides are not crossings.
 * @param spot S in USD
 */
export function zeroGammaCrossings(lines: PreparedLines, spot: number, opts: ZeroGammaOptions = {}): ZeroGammaResult {
  const range = opts.range ?? 0.5;
  const tol = opts.tolerance ?? 1e-4;
  const step = opts.step ?? 0.0025;
  if (lines.active === 0 || !(spot > 0) || !(range > 0)) return { zeroGammaLevel: null, crossings: [] };

  // Bracketing grid: a regular grid over +-range, with the known points (the profile) used in
  // place of the grid where they lie, so they are not evaluated twice.
  const xs: number[] = [];
  const vs: number[] = [];
  const known = opts.known && opts.known.xs.length >= 2 ? opts.known : null;
  const kLo = known ? known.xs[0] : Infinity;
  const kHi = known ? known.xs[known.xs.length - 1] : -Infinity;
  const nSide = Math.ceil(range / step - 1e-9);
  const push = (x: number, v: number) => {
    xs.push(x);
    vs.push(v);
  };
  for (let k = -nSide; k <= nSide; k++) {
    const x = Math.max(-range, Math.min(range, k * step));
    if (x < kLo) push(x, netGexAt(lines, x));
  }
  if (known) {
    for (let q = 0; q < known.xs.length; q++) {
      const x = known.xs[q];
      if (x >= -range && x <= range && (xs.length === 0 || x > xs[xs.length - 1])) push(x, known.values[q]);
    }
  }
  for (let k = -nSide; k <= nSide; k++) {
    const x = Math.max(-range, Math.min(range, k * step));
    if (x > kHi && (xs.length === 0 || x > xs[xs.length - 1])) push(x, netGexAt(lines, x));
  }

  const roots: number[] = [];
  let prev = -1;
  for (let k = 0; k < xs.length; k++) {
    const v = vs[k];
    if (v === 0 || Number.isNaN(v)) continue;
    if (prev >= 0 && v > 0 !== vs[prev] > 0) roots.push(bisect(lines, xs[prev], vs[prev], xs[k], tol));
    prev = k;
  }
  const prices = roots.map((x) => spot * (1 + x));
  prices.sort((p, q) => Math.abs(p - spot) - Math.abs(q - spot));
  return { zeroGammaLevel: prices.length > 0 ? prices[0] : null, crossings: prices };
}

function bisect(lines: PreparedLines, lo: number, vLo: number, hi: number, tol: number): number {
  const loPositive = vLo > 0;
  for (let it = 0; it < 100 && hi - lo > tol; it++) {
    const mid = 0.5 * (lo + hi);
    const v = netGexAt(lines, mid);
    if (v === 0) return mid;
    if (v > 0 === loPositive) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
