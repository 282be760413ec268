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
 * Gamma profile: total net GEX at each relative move xs[k], one exp per line and point (design:
 * "Spot sweep"). The literal form of the sweep; gexOnLogGrid is the fast one.
 * @param out receives GEX(xs[k]) in USD per 1 %; must be at least xs.length long
 */
export function gexAcrossSpotMoves(lines: PreparedLines, xs: Float64Array, out: Float64Array): Float64Array {
  for (let k = 0; k < xs.length; k++) out[k] = netGexAt(lines, xs[k]);
  return out;
}

/**
 * Total net GEX at n points evenly spaced in ln(1 + x): ln(1 + x_k) = L0 + k dL, written to
 * out[at + k]. On such a grid d1 steps by a constant delta = dL / s per line, so the Gaussian
 * factor of each line follows a two-multiply recurrence instead of an exp per point:
 *   g(k+1) = g(k) r(k),  r(k) = exp(-d(k) delta - delta^2 / 2),  r(k+1) = r(k) exp(-delta^2).
 * Each line's walk starts at its peak (d nearest 0) and goes outwards both ways, so values only
 * shrink along it and an underflow to 0 is exact to double precision. Rounding grows by ~1e-16 a
 * step: under 1e-13 relative over a 401-point profile (sweep.test.ts compares with exp per point).
 */
export function gexOnLogGrid(lines: PreparedLines, L0: number, dL: number, n: number, out: Float64Array, at = 0): void {
  out.fill(0, at, at + n);
  if (n <= 0) return;
  const a = lines.dgScale;
  const b = lines.d1AtSpot;
  const c = lines.invS;
  for (let j = 0; j < lines.active; j++) {
    const d0 = b[j] + L0 * c[j];
    const delta = dL * c[j];
    const q = Math.exp(-delta * delta);
    const peak = delta === 0 ? 0 : Math.min(n - 1, Math.max(0, Math.round(-d0 / delta)));
    const aj = a[j];
    // upwards from the peak
    let d = d0 + peak * delta;
    let g = Math.exp(-0.5 * d * d);
    let r = Math.exp(-d * delta - 0.5 * delta * delta);
    for (let k = peak; k < n && g !== 0; k++) {
      out[at + k] += aj * g;
      g *= r;
      r *= q;
    }
    // downwards from the point below the peak
    if (peak === 0) continue;
    d = d0 + (peak - 1) * delta;
    g = Math.exp(-0.5 * d * d);
    r = Math.exp(d * delta - 0.5 * delta * delta);
    for (let k = peak - 1; k >= 0 && g !== 0; k--) {
      out[at + k] += aj * g;
      g *= r;
      r *= q;
    }
  }
  for (let k = 0; k < n; k++) out[at + k] *= Math.exp(L0 + k * dL); // the (1 + x) factor
}

/** The relative moves of a log grid: x_k = exp(L0 + k dL) - 1. */
function logGridXs(L0: number, dL: number, n: number, out: Float64Array, at = 0): void {
  for (let k = 0; k < n; k++) out[at + k] = Math.expm1(L0 + k * dL);
}

/**
 * The gamma profile over -range ... +range (design: "Spot sweep"): `steps` points evenly spaced in
 * ln(1 + x) on each side of an exact x = 0 at index floor((steps - 1) / 2), so the recurrence of
 * gexOnLogGrid applies (about 0.1 % apart at the default 401 points over +-20 %).
 */
export function gexProfile(lines: PreparedLines, range: number, steps: number): { xs: Float64Array; values: Float64Array } {
  const n = Math.max(1, Math.floor(steps));
  const xs = new Float64Array(n);
  const values = new Float64Array(n);
  const centre = (n - 1) >> 1;
  const lo = Math.log1p(-Math.min(range, 0.99));
  const hi = Math.log1p(range);
  // below: centre + 1 points from lo to 0; above: n - centre points from 0 to hi (0 computed twice)
  if (centre > 0) {
    logGridXs(lo, -lo / centre, centre + 1, xs);
    gexOnLogGrid(lines, lo, -lo / centre, centre + 1, values);
  }
  const up = n - centre;
  const dUp = up > 1 ? hi / (up - 1) : 0;
  logGridXs(0, dUp, up, xs, centre);
  gexOnLogGrid(lines, 0, dUp, up, values, centre);
  xs[centre] = 0;
  return { xs, values };
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
 * The points, ascending, at which GEX(x) is evaluated to bracket sign changes: the known points
 * where they lie, grids evenly spaced in ln(1 + x) no wider than `step` in x over the rest of
 * +-range (gexOnLogGrid), plus, for every line whose s/2 is under `step`, points s/2 apart across
 * its spike (evaluated one by one).
 */
function bracketingGrid(lines: PreparedLines, range: number, step: number, known?: { xs: Float64Array; values: Float64Array }): { xs: Float64Array; vs: Float64Array } {
  const k0 = known && known.xs.length >= 2 ? known : null;
  const parts: { xs: Float64Array; vs: Float64Array }[] = [];
  /** Log grid over [a, b] in x, end points included, x spacing at most `step`. */
  const segment = (a: number, b: number) => {
    if (!(b > a)) return;
    const La = Math.log1p(a);
    const Lb = Math.log1p(b);
    const n = Math.ceil(((Lb - La) * (1 + b)) / step - 1e-9) + 1;
    const dL = (Lb - La) / (n - 1);
    const seg = { xs: new Float64Array(n), vs: new Float64Array(n) };
    logGridXs(La, dL, n, seg.xs);
    gexOnLogGrid(lines, La, dL, n, seg.vs);
    parts.push(seg);
  };
  const lo = -Math.min(range, 0.99);
  if (k0) {
    const kLo = Math.max(lo, k0.xs[0]);
    const kHi = Math.min(range, k0.xs[k0.xs.length - 1]);
    segment(lo, kLo);
    segment(kHi, range);
    const inside = k0.xs.map((x) => (x >= lo && x <= range ? 1 : 0));
    const m = inside.reduce((a, b) => a + b, 0);
    const kn = { xs: new Float64Array(m), vs: new Float64Array(m) };
    for (let q = 0, o = 0; q < k0.xs.length; q++) {
      if (!inside[q]) continue;
      kn.xs[o] = k0.xs[q];
      kn.vs[o++] = k0.values[q];
    }
    parts.push(kn);
  } else {
    segment(lo, 0);
    segment(0, range);
  }
  // Fine points across each narrow spike. Its centre is where d1(x) = 0: ln(1 + x) = -d1AtSpot s.
  // Lines of one expiry and strike (a call and its put) share a spike: one set of points for both.
  const fine: number[] = [];
  const done = new Set<string>();
  for (let j = 0; j < lines.active; j++) {
    const s = 1 / lines.invS[j];
    const half = s / 2;
    if (!(half < step)) continue;
    const centre = -lines.d1AtSpot[j] * s;
    const key = `${centre}:${s}`;
    if (done.has(key)) continue;
    done.add(key);
    const a = Math.max(lo, Math.expm1(centre - SPIKE_HALF_WIDTH_S * s));
    const b = Math.min(range, Math.expm1(centre + SPIKE_HALF_WIDTH_S * s));
    for (let x = a; x <= b; x += half) fine.push(x);
  }
  if (fine.length > 0) {
    const f = { xs: Float64Array.from(fine), vs: new Float64Array(fine.length) };
    for (let k = 0; k < fine.length; k++) f.vs[k] = netGexAt(lines, f.xs[k]);
    parts.push(f);
  }
  // Merge: sort indices by x, drop repeated x.
  let total = 0;
  for (const p of parts) total += p.xs.length;
  const allX = new Float64Array(total);
  const allV = new Float64Array(total);
  let o = 0;
  for (const p of parts) {
    allX.set(p.xs, o);
    allV.set(p.vs, o);
    o += p.xs.length;
  }
  const order = Array.from({ length: total }, (_, i) => i).sort((i, j) => allX[i] - allX[j]);
  const xs = new Float64Array(total);
  const vs = new Float64Array(total);
  let m = 0;
  for (const i of order) {
    if (m > 0 && allX[i] === xs[m - 1]) continue;
    xs[m] = allX[i];
    vs[m++] = allV[i];
  }
  return { xs: xs.subarray(0, m), vs: vs.subarray(0, m) };
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
