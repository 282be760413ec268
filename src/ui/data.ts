/**
 * Pure transformations from a worker result to chart rows. Kept out of the components so they are
 * unit-tested and memoised once per result (at most a few per second).
 */
import type { HistoryPoint } from '../state/history.ts';
import { expiryLabel } from '../state/url.ts';
import type { GexResult, PerpQuote } from '../worker/protocol.ts';

export interface StrikeRow {
  strike: number;
  call: number;
  put: number;
  net: number;
  /** The flow model's ghost: the strike's net GEX under the classic model (null for other models). */
  classicNet: number | null;
}

/** Strikes within spot x (1 +- range): the window follows spot. */
export function strikeRows(g: GexResult, range: number): StrikeRow[] {
  const lo = g.spot * (1 - range);
  const hi = g.spot * (1 + range);
  const rows: StrikeRow[] = [];
  const ghost = g.classicNetGex && g.classicNetGex.length === g.strikes.length ? g.classicNetGex : null;
  for (let i = 0; i < g.strikes.length; i++) {
    const k = g.strikes[i];
    if (k < lo || k > hi) continue;
    rows.push({ strike: k, call: g.callGex[i], put: g.putGex[i], net: g.netGex[i], classicNet: ghost ? ghost[i] : null });
  }
  return rows;
}

export interface ProfileRow {
  price: number;
  gex: number;
}

/**
 * The gamma profile for drawing, thinned to about `maxPoints` (ends kept): a 401-point sweep is more
 * than a 600-pixel-wide panel shows, and every point costs render time. Crossings are drawn from the
 * engine's exact list, not from these points.
 */
export function profileRows(g: GexResult, maxPoints = 201): ProfileRow[] {
  const n = g.profileSpots.length;
  const step = Math.max(1, Math.ceil((n - 1) / Math.max(1, maxPoints - 1)));
  const rows: ProfileRow[] = [];
  for (let i = 0; i < n; i += step) rows.push({ price: g.profileSpots[i], gex: g.profileNetGex[i] });
  if (n > 0 && (n - 1) % step !== 0) rows.push({ price: g.profileSpots[n - 1], gex: g.profileNetGex[n - 1] });
  return rows;
}

/** Bucket widths the session chart steps through: few and fixed, so a drawn point stays put as the series grows. */
const HISTORY_BUCKETS_MS = [10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000];

/**
 * The session history for drawing, at most about `maxPoints`: the first point, then the last point of
 * each time-aligned bucket. The full 6 h ring is 2,161 points (one per 10 s), several per pixel of the
 * panel, and each drawn point holds ~2 KB of chart state and costs render time; a 60 s bucket draws 361.
 * Buckets are aligned to the clock, so as points arrive only the newest bucket's point moves.
 */
export function historyRows(history: readonly HistoryPoint[], maxPoints = 400): readonly HistoryPoint[] {
  const n = history.length;
  if (n <= maxPoints) return history;
  const span = history[n - 1].t - history[0].t;
  const width = HISTORY_BUCKETS_MS.find((w) => span / w <= maxPoints - 2) ?? Math.ceil(span / (maxPoints - 2));
  const rows = [history[0]];
  for (let i = 1; i < n; i++) {
    if (i === n - 1 || Math.floor(history[i + 1].t / width) !== Math.floor(history[i].t / width)) rows.push(history[i]);
  }
  return rows;
}

export interface FlowRow {
  move: number;
  /** Percent label, e.g. "+3%". */
  label: string;
  units: number;
  usd: number;
  /** Resting perp depth (coin) on the side the dealers would trade, within the same band; null if unknown. */
  depthCoin: number | null;
  /** Signed like the flow, USD at the moved price, for drawing beside the flow bar. */
  depthUsd: number | null;
  /** |flow| / depth; null when depth is unknown or zero. */
  ratio: number | null;
}

export type DepthBand = PerpQuote['depth'][number];

/**
 * Perpetual book depth summed over the selected venues, band by band (issue: hedge flow is set against
 * the summed perp depth of the chosen venues). A venue whose book does not reach a band adds nothing
 * to it and is named in `missing`, so an understated sum is never shown as complete.
 */
export function summedDepth(perps: readonly PerpQuote[]): { bands: DepthBand[]; venues: string[]; missing: string[] } {
  const byBand = new Map<number, DepthBand>();
  const venues: string[] = [];
  const missing: string[] = [];
  for (const p of perps) {
    if (p.depth.length === 0) {
      missing.push(p.venue);
      continue;
    }
    venues.push(p.venue);
    for (const b of p.depth) {
      const sum = byBand.get(b.bandPct) ?? { bandPct: b.bandPct, bidCoin: 0, askCoin: 0 };
      sum.bidCoin += b.bidCoin;
      sum.askCoin += b.askCoin;
      byBand.set(b.bandPct, sum);
    }
  }
  const bands = [...byBand.values()].sort((a, b) => a.bandPct - b.bandPct);
  for (const p of perps) {
    if (p.depth.length > 0 && bands.some((b) => !p.depth.some((d) => d.bandPct === b.bandPct))) missing.push(`${p.venue} (some bands)`);
  }
  return { bands, venues, missing };
}

const bandOf = (bands: readonly DepthBand[], movePct: number) => bands.find((b) => Math.abs(b.bandPct - movePct) < 1e-9);

/**
 * Hedge flow per move with the perp book depth (summed over venues) for the same band: dealers buying
 * consume asks, selling consume bids.
 */
export function flowRows(g: GexResult, bands: readonly DepthBand[]): FlowRow[] {
  const rows: FlowRow[] = [];
  for (let i = 0; i < g.moves.length; i++) {
    const m = g.moves[i];
    const pct = Math.round(m * 1000) / 10;
    const units = g.hedgeFlowUnits[i];
    const band = bandOf(bands, Math.abs(pct));
    const depthCoin = band ? (units >= 0 ? band.askCoin : band.bidCoin) : null;
    const price = g.spot * (1 + m);
    rows.push({
      move: m,
      label: pct === 0 ? '0%' : `${pct > 0 ? '+' : ''}${pct}%`,
      units,
      usd: g.hedgeFlowUsd[i],
      depthCoin,
      depthUsd: depthCoin === null ? null : (units >= 0 ? 1 : -1) * depthCoin * price,
      ratio: depthCoin !== null && depthCoin > 0 ? Math.abs(units) / depthCoin : null,
    });
  }
  return rows;
}

/** Perp basis: (mark - index) / index, a fraction. */
export function perpBasis(p: PerpQuote | undefined): number | null {
  if (!p || !(p.indexPrice > 0) || !Number.isFinite(p.markPrice)) return null;
  return (p.markPrice - p.indexPrice) / p.indexPrice;
}

/** Zero gamma distance from spot, a fraction. */
export function distanceFromSpot(level: number | null, spot: number): number | null {
  if (level === null || !Number.isFinite(level) || !(spot > 0)) return null;
  return (level - spot) / spot;
}

/** A "nice" axis domain for values that may straddle zero. */
export function symmetricDomain(values: readonly number[]): [number, number] {
  let m = 0;
  for (const v of values) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  if (m === 0) return [-1, 1];
  return [-m * 1.08, m * 1.08];
}

/** A 1/2/2.5/5 x 10^k step giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Round-numbered ticks inside [lo, hi] (strikes, prices). */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const step = niceStep(hi - lo, count);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 && out.length < 100; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

/** A symmetric domain around zero with round ends and five ticks. */
export function niceSymmetric(values: readonly number[]): { domain: [number, number]; ticks: number[] } {
  let m = 0;
  for (const v of values) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  if (m === 0) return { domain: [-1, 1], ticks: [-1, 0, 1] };
  const p = 10 ** Math.floor(Math.log10(m));
  const top = ([1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((k) => k * p >= m * 1.02) ?? 10) * p;
  return { domain: [-top, top], ticks: [-top, -top / 2, 0, top / 2, top] };
}

/** Which exposure the strike chart shows beside gamma (design: "Beyond gamma"). */
export type ExposureSeries = 'dex' | 'vex' | 'chex';

export interface ExposureRow {
  strike: number;
  /** Change of dealer delta, units of the underlying (per vol point for vanna, per day for charm). */
  units: number;
  /** The same in USD: units x spot. */
  usd: number;
}

/** Per-strike delta, vanna or charm exposure within spot x (1 +- range), in units and USD. */
export function exposureRows(g: GexResult, range: number, series: ExposureSeries): ExposureRow[] {
  const col = series === 'dex' ? g.deltaExposure : series === 'vex' ? g.vannaExposure : g.charmExposure;
  const lo = g.spot * (1 - range);
  const hi = g.spot * (1 + range);
  const rows: ExposureRow[] = [];
  for (let i = 0; i < g.strikes.length; i++) {
    const k = g.strikes[i];
    if (k < lo || k > hi) continue;
    rows.push({ strike: k, units: col[i], usd: col[i] * g.spot });
  }
  return rows;
}

export interface LadderCell {
  move: number;
  hours: number;
  volShift: number;
  units: number;
  usd: number;
}

export interface LadderTable {
  /** Spot moves, largest first (up moves on top, as a price axis reads). */
  moves: number[];
  hours: number[];
  /** rows[m][h] for the chosen vol shift. */
  rows: LadderCell[][];
  /** The largest |usd| over the table (the colour scale). */
  maxAbsUsd: number;
}

/**
 * The scenario ladder at one vol shift: moves x horizons (design: "Beyond gamma"); null without a
 * ladder or when that vol shift is not on it.
 */
export function ladderTable(g: GexResult, volShift: number): LadderTable | null {
  const s = g.scenarios;
  if (!s) return null;
  const v = s.volShifts.indexOf(volShift);
  if (v < 0) return null;
  const order = s.moves.map((m, i) => [m, i] as const).sort((a, b) => b[0] - a[0]);
  let maxAbsUsd = 0;
  const rows = order.map(([move, m]) =>
    s.hours.map((hours, h) => {
      const k = (m * s.hours.length + h) * s.volShifts.length + v;
      const cell = { move, hours, volShift, units: s.units[k], usd: s.usd[k] };
      if (Number.isFinite(cell.usd)) maxAbsUsd = Math.max(maxAbsUsd, Math.abs(cell.usd));
      return cell;
    }),
  );
  return { moves: order.map(([m]) => m), hours: [...s.hours], rows, maxAbsUsd };
}

export interface ExpiryRow {
  expiryMs: number;
  label: string;
  /** Net dealer dollar gamma per 1 % of the expiry; null when it is listed but not in the figures (not selected). */
  net: number | null;
}

/**
 * Every listed expiry with its net GEX where it is in the figures: the by-expiry bars show the ones a
 * click can add too. `listed` is the result's expiry list (empty for a past minute: its own expiries then).
 */
export function expiryRows(g: GexResult, listed: readonly { expiryMs: number; label: string }[]): ExpiryRow[] {
  const net = new Map<number, number>();
  for (let i = 0; i < g.expiries.length; i++) net.set(g.expiries[i], g.netGexByExpiry[i]);
  const all = new Map<number, string>(listed.map((e) => [e.expiryMs, e.label]));
  for (const e of net.keys()) if (!all.has(e)) all.set(e, expiryLabel(e));
  return [...all.entries()].sort((a, b) => a[0] - b[0]).map(([expiryMs, label]) => ({ expiryMs, label, net: net.get(expiryMs) ?? null }));
}

/**
 * The share of GEX expiring within `horizonMs` of the valuation time: the size (|net|) of those
 * expiries over the size of all in the figures, 0..1; null when nothing is in the figures.
 */
export function shareExpiringWithin(g: GexResult, horizonMs: number): { share: number; expiries: number } | null {
  let near = 0;
  let all = 0;
  let n = 0;
  for (let i = 0; i < g.expiries.length; i++) {
    const v = Math.abs(g.netGexByExpiry[i]);
    if (!Number.isFinite(v)) continue;
    all += v;
    if (g.expiries[i] - g.nowMs <= horizonMs) {
      near += v;
      n++;
    }
  }
  return all > 0 ? { share: near / all, expiries: n } : null;
}

/**
 * The heatmaps' colour of a net GEX value against `scale` (the largest |value| shown): green where
 * dealers are long gamma, red short, stronger with size (square root, so mid-sized cells still show);
 * RGBA 0-255, alpha 0 for nothing.
 */
export function heatColour(v: number, scale: number): [number, number, number, number] {
  if (!Number.isFinite(v) || v === 0 || !(scale > 0)) return [0, 0, 0, 0];
  const k = Math.sqrt(Math.min(1, Math.abs(v) / scale));
  const a = Math.round(255 * (0.08 + 0.92 * k));
  return v > 0 ? [63, 185, 80, a] : [255, 107, 94, a];
}

/**
 * The value of the strike band holding `price`: each strike covers from halfway to its lower
 * neighbour to halfway to its upper one (the outer ones as far out as their inner half); NaN outside.
 * `strikes` ascending.
 */
export function bandValueAt(strikes: ArrayLike<number>, values: ArrayLike<number>, price: number): number {
  const n = strikes.length;
  if (n === 0 || !Number.isFinite(price)) return NaN;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (strikes[mid] <= price) lo = mid;
    else hi = mid - 1;
  }
  // lo: the last strike <= price (or 0 when price is below every strike).
  const k = strikes[lo] <= price && lo + 1 < n && price - strikes[lo] > strikes[lo + 1] - price ? lo + 1 : lo;
  const below = k > 0 ? (strikes[k] - strikes[k - 1]) / 2 : k + 1 < n ? (strikes[k + 1] - strikes[k]) / 2 : strikes[k] * 0.01;
  const above = k + 1 < n ? (strikes[k + 1] - strikes[k]) / 2 : below;
  return price >= strikes[k] - below && price <= strikes[k] + above ? values[k] : NaN;
}
