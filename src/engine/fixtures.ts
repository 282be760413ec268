/**
 * Small helpers to build ChainColumns from plain rows, for tests and benchmarks (no I/O).
 */
import type { ChainColumns, GexResult } from './types.ts';
import { emptyExclusions } from './exposure.ts';
import { mulberry32 } from '../shared/prng.ts';

export interface LineSpec {
  strike: number;
  expiryMs: number;
  isCall: boolean;
  markIv: number;
  forward: number;
  openInterest: number;
  multiplier?: number;
}

/** Columns of exactly the given lines (capacity = length). */
export function chainFromLines(lines: readonly LineSpec[]): ChainColumns {
  const n = lines.length;
  const c: ChainColumns = {
    length: n,
    strike: new Float64Array(n),
    expiryMs: new Float64Array(n),
    isCall: new Uint8Array(n),
    markIv: new Float64Array(n),
    forward: new Float64Array(n),
    openInterest: new Float64Array(n),
    multiplier: new Float64Array(n),
  };
  lines.forEach((l, i) => {
    c.strike[i] = l.strike;
    c.expiryMs[i] = l.expiryMs;
    c.isCall[i] = l.isCall ? 1 : 0;
    c.markIv[i] = l.markIv;
    c.forward[i] = l.forward;
    c.openInterest[i] = l.openInterest;
    c.multiplier[i] = l.multiplier ?? 1;
  });
  return c;
}

/**
 * A deterministic synthetic chain of `n` lines around `spot` (mulberry32 PRNG seeded by `seed`):
 * 8 expiries from 1 day to 1 year, strikes spread +-60 %, a skewed smile, OI 0-500 contracts.
 */
export function syntheticChain(n: number, spot: number, nowMs: number, seed = 1): ChainColumns {
  const rnd = mulberry32(seed);
  const days = [1, 2, 7, 14, 30, 60, 120, 365];
  const lines: LineSpec[] = [];
  for (let i = 0; i < n; i++) {
    const d = days[i % days.length];
    const expiryMs = nowMs + d * 86_400_000;
    const forward = spot * (1 + 0.0005 * d / 30);
    const k = Math.round((spot * (0.4 + 1.2 * rnd())) / 500) * 500;
    const m = Math.log(k / forward);
    lines.push({
      strike: k,
      expiryMs,
      isCall: i % 2 === 0,
      markIv: 0.5 + 0.3 * m * m - 0.1 * m + 0.05 * rnd(),
      forward,
      openInterest: Math.round(500 * rnd() * 10) / 10,
    });
  }
  return chainFromLines(lines);
}

/** A result with no lines, for tests of the layers that show results (override what the test needs). */
export function emptyGexResult(over: Partial<GexResult> = {}): GexResult {
  const f = () => new Float64Array(0);
  return {
    spot: 0, nowMs: 0, model: 'classic',
    strikes: f(), callGex: f(), putGex: f(), netGex: f(), deltaExposure: f(), vannaExposure: f(), charmExposure: f(),
    totalDeltaExposure: 0, totalVannaExposure: 0, totalCharmExposure: 0,
    expiries: f(), netGexByExpiry: f(), netGexByStrikeExpiry: f(), totalCallGex: 0, totalPutGex: 0, totalNetGex: 0,
    profileSpots: f(), profileNetGex: f(), zeroGammaLevel: null, zeroGammaCrossings: [],
    moves: f(), hedgeFlowUnits: f(), hedgeFlowUsd: f(), hedgeFlowUnitsGammaApprox: f(),
    callWall: null, putWall: null, largestAbsGammaStrike: null, regime: 'flat', includedLines: 0,
    excluded: emptyExclusions(),
    expiring: { lines: 0, included: false, grossGammaShare: 0, pinStrike: null },
    nextExpiryMs: null, droppedExpiryMs: null, positioning: null, classicNetGex: null, scenarios: null, feedback: null,
    ...over,
  };
}
