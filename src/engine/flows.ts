/**
 * Dealer hedge flow for hypothetical moves (design: "Hedge flow").
 *
 * Dealer delta at S' = S (1 + m), all forwards F' = F (1 + m):  D(m) = sum_j w_j delta_j(F'),
 * w = q * multiplier (dealer position in underlying units). Dealers must trade -(D(m) - D(0)) units (+ = buy),
 * USD notional = units * S (1 + m). Full revaluation: no gamma approximation.
 *
 * Gamma-only approximation: dD/dm at m = 0 is sum_j w_j gamma_j F_j, so
 *   units(m) ~= -m * sum_j w_j gamma_j F_j = -(m / 0.01) * sum_j DG_j / F_j,
 * with DG_j the signed dollar gamma per 1 % (USD) of line j. When every F equals S this is
 * units * S ~= -(m / 0.01) * total dollar gamma per 1 %: for a +1 % move, dealers trade minus their
 * dollar gamma, in USD.
 */
import { Phi } from './normal.ts';
import type { PreparedLines } from './exposure.ts';

/** Dealer delta (underlying units) at relative move m, by full revaluation. */
export function dealerDeltaAt(lines: PreparedLines, m: number): number {
  const L = Math.log1p(m);
  let sum = 0;
  for (let j = 0; j < lines.active; j++) {
    const n = Phi(lines.d1AtSpot[j] + L * lines.invS[j]);
    sum += lines.dealerUnits[j] * (lines.isCall[j] === 1 ? n : n - 1);
  }
  return sum;
}

export interface HedgeFlow {
  moves: Float64Array;
  /** Units of underlying dealers must trade, + = buy. */
  units: Float64Array;
  /** USD notional: units * S (1 + m). */
  usd: Float64Array;
  /** -m * sum w gamma F: the gamma-only approximation of `units`. */
  unitsGammaApprox: Float64Array;
}

/**
 * Hedge flow by move (design: "Hedge flow"), full revaluation plus the gamma-only approximation.
 * @param spot S, USD
 * @param moves fractions, e.g. -0.10 ... 0.10
 */
export function hedgeFlowByMove(lines: PreparedLines, spot: number, moves: readonly number[] | Float64Array): HedgeFlow {
  const n = moves.length;
  const out: HedgeFlow = {
    moves: Float64Array.from(moves),
    units: new Float64Array(n),
    usd: new Float64Array(n),
    unitsGammaApprox: new Float64Array(n),
  };
  const d0 = dealerDeltaAt(lines, 0);
  let gF = 0;
  for (let j = 0; j < lines.active; j++) gF += lines.deltaPerRelMove[j];
  for (let k = 0; k < n; k++) {
    const m = out.moves[k];
    const units = m === 0 ? 0 : -(dealerDeltaAt(lines, m) - d0);
    out.units[k] = units;
    out.usd[k] = units * spot * (1 + m);
    out.unitsGammaApprox[k] = -m * gF;
  }
  return out;
}
