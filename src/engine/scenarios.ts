/**
 * What dealers must trade when spot, time and implied volatility move together (design: "Beyond
 * gamma"). Dealer delta in a scenario (move m, horizon h, vol shift dsigma):
 *   D(m, h, dsigma) = sum_j w_j delta_j(F_j (1 + m), T_j - h, max(sigma_j + dsigma, 0.01)),
 * w = q * multiplier, and a line that expires by the horizon (T_j - h <= 0) contributes 0: it is
 * cash-settled, so the dealer unwinds that hedge. Hedge flow = -(D(m, h, dsigma) - D(0, 0, 0)) units,
 * USD = units * S (1 + m). The spot-only hedge flow (flows.ts) is the case h = 0, dsigma = 0.
 */
import { PhiAbs } from './normal.ts';
import { MIN_IV, YEAR_MS } from './exposure.ts';
import type { PreparedLines } from './exposure.ts';
import type { ScenarioAxes, ScenarioGrid } from './types.ts';

const HOUR_MS = 3_600_000;

/**
 * Dealer delta (underlying units) of every (move, horizon, vol shift) of the axes, one call per
 * (horizon, vol shift) pair: out[m] receives D(moves[m], hours, volShift).
 */
function dealerDeltaAcrossMoves(lines: PreparedLines, logMoves: Float64Array, hours: number, volShift: number, out: Float64Array): void {
  out.fill(0);
  const hYears = (hours * HOUR_MS) / YEAR_MS;
  let lMin = Infinity;
  let lMax = -Infinity;
  for (const L of logMoves) {
    lMin = Math.min(lMin, L);
    lMax = Math.max(lMax, L);
  }
  for (let j = 0; j < lines.active; j++) {
    const T = lines.yearsToExpiry[j] - hYears;
    if (!(T > 0)) continue; // expired by the horizon: hedge unwound
    const sigma = Math.max(lines.sigma[j] + volShift, MIN_IV);
    const s = sigma * Math.sqrt(T);
    const base = (lines.logMoneyness[j] + 0.5 * s * s) / s;
    const invS = 1 / s;
    const w = lines.dealerUnits[j];
    const put = lines.isCall[j] === 1 ? 0 : 1;
    // Deep in or out of the money at every move: delta is exactly 1 or 0 across the row.
    const dLo = base + lMin * invS;
    const dHi = base + lMax * invS;
    if (dLo > 8.3 || dHi < -8.3) {
      const flat = w * ((dLo > 8.3 ? 1 : 0) - put);
      if (flat !== 0) for (let m = 0; m < logMoves.length; m++) out[m] += flat;
      continue;
    }
    for (let m = 0; m < logMoves.length; m++) out[m] += w * (PhiAbs(base + logMoves[m] * invS) - put);
  }
}

/**
 * Hedge flow of every scenario of the axes (design: "Beyond gamma"), by full revaluation.
 * @param spot S, USD
 * @returns units and USD flattened move-major: (m * hours + h) * volShifts + v
 */
export function scenarioLadder(lines: PreparedLines, spot: number, axes: ScenarioAxes): ScenarioGrid {
  const M = axes.moves.length;
  const H = axes.hours.length;
  const V = axes.volShifts.length;
  const units = new Float64Array(M * H * V);
  const usd = new Float64Array(M * H * V);
  const logMoves = Float64Array.from(axes.moves, (m) => Math.log1p(m));
  const d = new Float64Array(M);
  const now = new Float64Array(1);
  // D(0, 0, 0) by the same arithmetic as every scenario, so the (0, 0, 0) flow is exactly 0.
  dealerDeltaAcrossMoves(lines, new Float64Array(1), 0, 0, now);
  for (let h = 0; h < H; h++) {
    for (let v = 0; v < V; v++) {
      dealerDeltaAcrossMoves(lines, logMoves, axes.hours[h], axes.volShifts[v], d);
      for (let m = 0; m < M; m++) {
        const k = (m * H + h) * V + v;
        units[k] = now[0] - d[m]; // -(D - D0), written so that equal deltas give +0
        usd[k] = units[k] * spot * (1 + axes.moves[m]);
      }
    }
  }
  return { moves: [...axes.moves], hours: [...axes.hours], volShifts: [...axes.volShifts], units, usd };
}
