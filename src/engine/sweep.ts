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
  const a = lines.dgScale;
  const b = lines.d1AtSpot;
  const c = lines.invS;
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
  /** Widest grid step used to bracket sign changes, fraction of spot. Default 0.0025. */
  step?: number;
  /** Already-evaluated points (e.g. the profile) that the bracketing grid may reuse. */
  known?: { xs: Float64Array; values: Float64Array };
}

/** Half-width of a narrow line's gamma spike that gets the fine grid, in units of its s = sigma sqrt T (exp(-72) of its peak beyond). */
const SPIKE_HALF_WIDTH_S = 12;

/**
 * Zero gamma (design: "Zero gamma", "Expiring lines"): brackets every sign change of GEX(x) on a
 * grid over +-range, refines each by bisection until the bracket is narrower than `tolerance` (so
 * the reported price is within tolerance/2 * S of the root), and orders them nearest to spot first.
 * Points where GEX is exactly 0 with the same sign on both sides are not crossings.
 *
 * The grid steps `step`, and no wider than half a line's s = sigma sqrt T wherever that line's gamma
 * spike lies: a line near expiry has a spike of width ~s in x with its two sign changes a few s
 * apart, which a fixed 0.25 % grid steps over once s falls below it. Away from every narrow spike
 * the lines vary on scales of at least 2 * step, so the fine points go only where they matter and
 * the cost stays bounded however close to expiry a line is.
 * @param spot S in USD
 */
export function zeroGammaCrossings(lines: PreparedLines, spot: number, opts: ZeroGammaOptions = {}): ZeroGammaResult {
  const range = opts.range ?? 0.5;
  const tol = opts.tolerance ?? 1e-4;
  const step = opts.step ?? 0.0025;
  if (lines.active === 0 || !(spot > 0) || !(range > 0)) return { zeroGammaLevel: null, crossings: [] };

  const grid = bracketingGrid(lines, range, step, opts.known);
  const roots: number[] = [];
  let prev = -1;
  for (let k = 0; k < grid.xs.length; k++) {
    const v = grid.vs[k];
    if (v === 0 || Number.isNaN(v)) continue;
    if (prev >= 0 && v > 0 !== grid.vs[prev] > 0) roots.push(bisect(lines, grid.xs[prev], grid.vs[prev], grid.xs[k], tol));
    prev = k;
  }
  const prices = roots.map((x) => spot * (1 + x));
  prices.sort((p, q) => Math.abs(p - spot) - Math.abs(q - spot));
  return { zeroGammaLevel: prices.length > 0 ? prices[0] : null, crossings: prices };
}

/**
 * The points, ascending, at which GEX(x) is evaluated to bracket sign changes: a regular grid of
 * `step` over +-range (the known points used in place of it where they lie, so they are not
 * evaluated twice), plus, for every line whose s/2 is under `step`, points s/2 apart across its spike.
 */
function bracketingGrid(lines: PreparedLines, range: number, step: number, known?: { xs: Float64Array; values: Float64Array }): { xs: number[]; vs: number[] } {
  const pts: { x: number; v: number }[] = [];
  const k0 = known && known.xs.length >= 2 ? known : null;
  const kLo = k0 ? k0.xs[0] : Infinity;
  const kHi = k0 ? k0.xs[k0.xs.length - 1] : -Infinity;
  const nSide = Math.ceil(range / step - 1e-9);
  for (let k = -nSide; k <= nSide; k++) {
    const x = Math.max(-range, Math.min(range, k * step));
    if (x < kLo || x > kHi) pts.push({ x, v: NaN });
  }
  if (k0) for (let q = 0; q < k0.xs.length; q++) if (k0.xs[q] >= -range && k0.xs[q] <= range) pts.push({ x: k0.xs[q], v: k0.values[q] });
  // Fine points across each narrow spike. Its centre is where d1(x) = 0: ln(1 + x) = -d1AtSpot s.
  // Lines of one expiry and strike (a call and its put) share a spike: one set of points for both.
  const done = new Set<string>();
  for (let j = 0; j < lines.active; j++) {
    const s = 1 / lines.invS[j];
    const fine = s / 2;
    if (!(fine < step)) continue;
    const centre = -lines.d1AtSpot[j] * s;
    const key = `${centre}:${s}`;
    if (done.has(key)) continue;
    done.add(key);
    const lo = Math.max(-range, Math.expm1(centre - SPIKE_HALF_WIDTH_S * s));
    const hi = Math.min(range, Math.expm1(centre + SPIKE_HALF_WIDTH_S * s));
    for (let x = lo; x <= hi; x += fine) pts.push({ x, v: NaN });
  }
  pts.sort((p, q) => p.x - q.x);
  const xs: number[] = [];
  const vs: number[] = [];
  for (const p of pts) {
    if (xs.length > 0 && p.x === xs[xs.length - 1]) continue;
    xs.push(p.x);
    vs.push(Number.isNaN(p.v) ? netGexAt(lines, p.x) : p.v);
  }
  return { xs, vs };
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
