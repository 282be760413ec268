/**
 * Feedback estimate (design: "Beyond gamma"): a shock m0 makes dealers trade flow(m0); walking the
 * summed visible perpetual books with that flow moves the price by i; the next round uses m0 + i,
 * until the added move is under 0.01 % (converged) or the flow exceeds the visible depth (runaway).
 * An estimate that ignores replenishing liquidity, and labelled so on screen.
 */
import { dealerDeltaAt } from './flows.ts';
import type { PreparedLines } from './exposure.ts';
import type { FeedbackEstimate, VisibleDepth } from './types.ts';

/** Price impact (fraction of mid) of trading `units` (+ buy lifts asks) through the book; null beyond the visible depth. */
export function priceImpact(depth: VisibleDepth, units: number): number | null {
  if (units === 0) return 0;
  const side = units > 0 ? depth.askUnits : depth.bidUnits;
  const size = Math.abs(units);
  let prevBand = 0;
  let prevDepth = 0;
  for (let k = 0; k < depth.bandPct.length; k++) {
    const band = depth.bandPct[k];
    const d = side[k];
    if (size <= d) {
      // Depth is taken as spread evenly inside each band (all a band total tells).
      const frac = d > prevDepth ? (size - prevDepth) / (d - prevDepth) : 1;
      const pct = prevBand + frac * (band - prevBand);
      return (Math.sign(units) * pct) / 100;
    }
    prevBand = band;
    prevDepth = d;
  }
  return null;
}

const CONVERGED = 1e-4; // 0.01 % of spot
const MAX_ROUNDS = 100;

/**
 * The design's iteration for one shock.
 * @param shock m0 as a fraction (-0.02 = -2 %)
 */
export function feedbackEstimate(lines: PreparedLines, depth: VisibleDepth, shock: number): FeedbackEstimate {
  const d0 = dealerDeltaAt(lines, 0);
  const flowAt = (m: number) => -(dealerDeltaAt(lines, m) - d0);
  let move = shock;
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const flowUnits = flowAt(move);
    const impact = priceImpact(depth, flowUnits);
    if (impact === null) return { shock, move, flowUnits, rounds: round, status: 'runaway' };
    const next = shock + impact;
    if (Math.abs(next - move) < CONVERGED) return { shock, move: next, flowUnits: flowAt(next), rounds: round, status: 'converged' };
    move = next;
  }
  return { shock, move, flowUnits: flowAt(move), rounds: MAX_ROUNDS, status: 'unsettled' };
}
