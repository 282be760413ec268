/**
 * GEX over time: one sample of a series' figures per minute of venue time, kept for 24 hours (the
 * strike x time heatmap, the scrubber's past minutes and the strike chart's priors). Pure helpers:
 * the store decides when a result is sampled, history-db.ts keeps the samples across reloads.
 *
 * A sample holds what the views draw of a past minute: per-strike call and put dollar gamma (net is
 * their sum), per-expiry net GEX, spot, zero gamma, walls and totals. Gamma values are stored as
 * Float32 (7 significant digits, the screen shows 3) to halve the bytes of 24 hours.
 */
import type { GexResult, ResultMessage } from '../worker/protocol.ts';

export const MINUTE_MS = 60_000;
/** How much of a series is kept (venue time). */
export const MINUTES_MAX_MS = 24 * 3_600_000;
/** Strikes a sample may hold (four venues list ~250 per currency): anything longer is not ours. */
export const MAX_SAMPLE_STRIKES = 2_000;
export const MAX_SAMPLE_EXPIRIES = 200;

export type Regime = GexResult['regime'];
const REGIMES: readonly Regime[] = ['positive', 'negative', 'flat', 'invalid'];

/** What a series is: the figures of one source, venue set, currency, dealer model and expiry selection. */
export interface SeriesView {
  source: string;
  venues: readonly string[];
  currency: string;
  model: string;
  expiries: readonly number[];
  includeExpiring: boolean;
  afterNextExpiry: boolean;
}

/** The key of a series in storage, e.g. `sim|deribit+okx|BTC|classic|all` (`|expiring`, `|after` when set). */
export function seriesKey(v: SeriesView): string {
  const parts = [v.source, [...v.venues].sort().join('+'), v.currency, v.model, v.expiries.length === 0 ? 'all' : [...v.expiries].sort((a, b) => a - b).join(',')];
  if (v.includeExpiring) parts.push('expiring');
  if (v.afterNextExpiry) parts.push('after');
  return parts.join('|');
}

/** One minute of a series. `t` is the minute's start (venue time, epoch ms); `nowMs` the valuation time sampled. */
export interface MinuteSample {
  series: string;
  t: number;
  nowMs: number;
  spot: number;
  zeroGamma: number | null;
  callWall: number | null;
  putWall: number | null;
  largestAbsGammaStrike: number | null;
  totalNetGex: number;
  regime: Regime;
  /** Ascending. */
  strikes: Float64Array;
  callGex: Float32Array;
  putGex: Float32Array;
  /** Ascending, with net GEX of each. */
  expiries: Float64Array;
  netGexByExpiry: Float32Array;
}

export const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

/**
 * The sample a result gives for its minute, or null when it gives none (no valid spot or time). The
 * strikes array is shared with `previous` when equal, so a day of samples of one listing holds one.
 */
export function sampleOf(series: string, msg: ResultMessage, previous?: MinuteSample): MinuteSample | null {
  const g = msg.gex;
  if (!Number.isFinite(g.nowMs) || !(g.spot > 0) || !Number.isFinite(g.totalNetGex)) return null;
  const fin = (x: number | null) => (x !== null && Number.isFinite(x) ? x : null);
  const strikes = previous && sameValues(previous.strikes, g.strikes) ? previous.strikes : Float64Array.from(g.strikes);
  return {
    series,
    t: minuteOf(g.nowMs),
    nowMs: g.nowMs,
    spot: g.spot,
    zeroGamma: fin(g.zeroGammaLevel),
    callWall: fin(g.callWall),
    putWall: fin(g.putWall),
    largestAbsGammaStrike: fin(g.largestAbsGammaStrike),
    totalNetGex: g.totalNetGex,
    regime: g.regime,
    strikes,
    callGex: Float32Array.from(g.callGex),
    putGex: Float32Array.from(g.putGex),
    expiries: Float64Array.from(g.expiries),
    netGexByExpiry: Float32Array.from(g.netGexByExpiry),
  };
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The samples with `s` added in minute order, those older than `maxMs` before the newest dropped; a
 * minute already held keeps its first sample. Venue time going back more than a minute (a replay
 * restarted) starts over. Returns the same array when `s` is not taken.
 */
export function appendSample(list: readonly MinuteSample[], s: MinuteSample, maxMs = MINUTES_MAX_MS): MinuteSample[] {
  const last = list[list.length - 1];
  if (last && s.t === last.t) return list as MinuteSample[];
  if (last && s.t < last.t - MINUTE_MS) return [s];
  let next: MinuteSample[];
  if (!last || s.t > last.t) next = [...list, s];
  else {
    // Just before the newest (a sample written by another tab, merged on load): keep the order.
    if (list.some((x) => x.t === s.t)) return list as MinuteSample[];
    next = [...list, s].sort((a, b) => a.t - b.t);
  }
  const cutoff = next[next.length - 1].t - maxMs;
  let start = 0;
  while (start < next.length && next[start].t <= cutoff) start++;
  return start === 0 ? next : next.slice(start);
}

/** Merges two ascending lists (stored and taken since the page started), one sample a minute, the newest `maxMs`. */
export function mergeSamples(a: readonly MinuteSample[], b: readonly MinuteSample[], maxMs = MINUTES_MAX_MS): MinuteSample[] {
  const byT = new Map<number, MinuteSample>();
  for (const s of a) byT.set(s.t, s);
  for (const s of b) if (!byT.has(s.t)) byT.set(s.t, s);
  const all = [...byT.values()].sort((x, y) => x.t - y.t);
  if (all.length === 0) return all;
  const cutoff = all[all.length - 1].t - maxMs;
  return all.filter((s) => s.t > cutoff);
}

/** The sample of minute `t` (exact), by binary search over an ascending list. */
export function sampleAt(list: readonly MinuteSample[], t: number): MinuteSample | null {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = list[mid].t;
    if (x === t) return list[mid];
    if (x < t) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** How many minutes ago the priors are drawn (the strike chart's markers). */
export const PRIOR_MINUTES = [1, 5, 15, 30] as const;
export type PriorMinutes = (typeof PRIOR_MINUTES)[number];

export interface Prior {
  minutes: PriorMinutes;
  sample: MinuteSample;
}

/** The samples `ks` minutes before the minute of `nowMs`, those that exist. */
export function priorsAt(list: readonly MinuteSample[], nowMs: number, ks: readonly PriorMinutes[]): Prior[] {
  const m = minuteOf(nowMs);
  const out: Prior[] = [];
  for (const k of ks) {
    const sample = sampleAt(list, m - k * MINUTE_MS);
    if (sample) out.push({ minutes: k, sample });
  }
  return out;
}

/** Net GEX of `strike` in a sample (call + put), or null when the sample does not list it. */
export function netAt(s: MinuteSample, strike: number): number | null {
  let lo = 0;
  let hi = s.strikes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = s.strikes[mid];
    if (k === strike) return s.callGex[mid] + s.putGex[mid];
    if (k < strike) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/**
 * A past minute as the figures the views draw: per-strike and per-expiry gamma, spot, levels and
 * totals from the sample; what is not kept (profile, flows, ladder, exposures) empty, so those views
 * say so rather than show the present as the past.
 */
export function pastGex(s: MinuteSample, live: GexResult | null): GexResult {
  const n = s.strikes.length;
  const netGex = new Float64Array(n);
  let totalCallGex = 0;
  let totalPutGex = 0;
  for (let k = 0; k < n; k++) {
    netGex[k] = s.callGex[k] + s.putGex[k];
    totalCallGex += s.callGex[k];
    totalPutGex += s.putGex[k];
  }
  const none = new Float64Array(0);
  return {
    spot: s.spot, nowMs: s.nowMs, model: (live?.model ?? 'classic'),
    strikes: s.strikes, callGex: Float64Array.from(s.callGex), putGex: Float64Array.from(s.putGex), netGex,
    deltaExposure: none, vannaExposure: none, charmExposure: none, totalDeltaExposure: NaN, totalVannaExposure: NaN, totalCharmExposure: NaN,
    expiries: s.expiries, netGexByExpiry: Float64Array.from(s.netGexByExpiry), netGexByStrikeExpiry: none,
    totalCallGex, totalPutGex, totalNetGex: s.totalNetGex,
    profileSpots: none, profileNetGex: none, zeroGammaLevel: s.zeroGamma, zeroGammaCrossings: s.zeroGamma === null ? [] : [s.zeroGamma],
    moves: none, hedgeFlowUnits: none, hedgeFlowUsd: none, hedgeFlowUnitsGammaApprox: none,
    callWall: s.callWall, putWall: s.putWall, largestAbsGammaStrike: s.largestAbsGammaStrike, regime: s.regime,
    includedLines: live?.includedLines ?? 0, excluded: live?.excluded ?? ({} as GexResult['excluded']),
    expiring: live?.expiring ?? { lines: 0, included: false, grossGammaShare: 0, pinStrike: null },
    nextExpiryMs: s.expiries.length > 0 ? s.expiries[0] : null, droppedExpiryMs: null, positioning: null, classicNetGex: null, scenarios: null, feedback: null,
  };
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isNumOrNull = (x: unknown) => x === null || isNum(x);
const ascending = (a: ArrayLike<number>) => {
  for (let i = 1; i < a.length; i++) if (!(a[i] > a[i - 1])) return false;
  return true;
};
const finite = (a: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
};

/**
 * A stored value as a sample of `series`, or null when it is not one (another app's, a damaged or
 * older record): every field checked, arrays by type, length, order and finiteness. Never throws.
 */
export function readSample(x: unknown, series: string): MinuteSample | null {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as Record<string, unknown>;
  if (o.series !== series || !isNum(o.t) || o.t % MINUTE_MS !== 0 || !isNum(o.nowMs) || minuteOf(o.nowMs) !== o.t) return null;
  if (!isNum(o.spot) || !(o.spot > 0) || !isNum(o.totalNetGex) || !(REGIMES as readonly unknown[]).includes(o.regime)) return null;
  if (![o.zeroGamma, o.callWall, o.putWall, o.largestAbsGammaStrike].every(isNumOrNull)) return null;
  const { strikes, callGex, putGex, expiries, netGexByExpiry } = o;
  if (!(strikes instanceof Float64Array) || !(callGex instanceof Float32Array) || !(putGex instanceof Float32Array)) return null;
  if (!(expiries instanceof Float64Array) || !(netGexByExpiry instanceof Float32Array)) return null;
  const n = strikes.length;
  if (n > MAX_SAMPLE_STRIKES || callGex.length !== n || putGex.length !== n || !ascending(strikes) || !finite(strikes)) return null;
  if (expiries.length > MAX_SAMPLE_EXPIRIES || netGexByExpiry.length !== expiries.length || !ascending(expiries) || !finite(expiries)) return null;
  if (!finite(callGex) || !finite(putGex) || !finite(netGexByExpiry)) return null;
  return o as unknown as MinuteSample;
}
