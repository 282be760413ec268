/**
 * The engine's one entry point: a full recompute of dealer gamma exposure from chain columns
 * (design: "Number conventions"). Pure: no clock, no I/O; scratch memory is reused between calls.
 */
import type { ChainColumns, ExposureParams, GexResult } from './types.ts';
import { dealerSignModel } from './dealer-sign.ts';
import { PreparedLines, netGexByExpiry, netGexByStrike, prepareLines } from './exposure.ts';
import { gexAcrossSpotMoves, symmetricGrid, zeroGammaCrossings } from './sweep.ts';
import { hedgeFlowByMove } from './flows.ts';
import { callWall, gammaRegime, largestAbsGammaStrike, putWall } from './levels.ts';

export type * from './types.ts';
export { Phi, phi } from './normal.ts';
export * as black76 from './black76.ts';
export { classic, short, dealerSignModel, DEALER_MODEL_IDS } from './dealer-sign.ts';
export type { DealerSignModel } from './dealer-sign.ts';
export { MAX_IV, EXCLUSION_REASONS, emptyExclusions, PreparedLines, prepareLines } from './exposure.ts';
export { netGexAt, gexAcrossSpotMoves, zeroGammaCrossings, symmetricGrid } from './sweep.ts';
export { hedgeFlowByMove, dealerDeltaAt } from './flows.ts';
export { callWall, putWall, largestAbsGammaStrike, gammaRegime } from './levels.ts';

/** -0.10 ... +0.10 in 0.01 steps, written as k/100 so 0.07 is exactly the literal 0.07. */
export const DEFAULT_MOVES: readonly number[] = Array.from({ length: 21 }, (_, k) => (k - 10) / 100);

// Reused between recomputes (the worker recomputes ~4x/s): no per-call allocation of line constants.
const scratch = new PreparedLines();

/**
 * Full recompute: validation with exclusion counts, per-strike and per-expiry dealer dollar gamma,
 * gamma profile across spot, zero gamma with all crossings, hedge flow by move, key levels.
 * Never throws on bad lines; they are excluded and counted.
 * @param chain chain columns (e.g. ChainStore.columns())
 * @param params spot, valuation time, dealer model, expiry filter, sweep/flow settings
 */
export function computeGex(chain: ChainColumns, params: ExposureParams): GexResult {
  const model = dealerSignModel(params.model);
  const lines = scratch;
  const excluded = prepareLines(chain, params.nowMs, model, params.expiries ?? null, lines);
  const spot = params.spot;

  const byStrike = netGexByStrike(chain, lines);
  const byExpiry = netGexByExpiry(chain, lines);
  let totalCallGex = 0;
  let totalPutGex = 0;
  for (let k = 0; k < byStrike.strikes.length; k++) {
    totalCallGex += byStrike.callGex[k];
    totalPutGex += byStrike.putGex[k];
  }
  const totalNetGex = totalCallGex + totalPutGex;

  const xs = symmetricGrid(params.profileRange ?? 0.2, params.profileSteps ?? 401);
  const profileNetGex = gexAcrossSpotMoves(lines, xs, new Float64Array(xs.length));
  const profileSpots = new Float64Array(xs.length);
  for (let k = 0; k < xs.length; k++) profileSpots[k] = spot * (1 + xs[k]);

  const zg = zeroGammaCrossings(lines, spot, {
    range: params.zeroGammaRange ?? 0.5,
    tolerance: params.zeroGammaTolerance ?? 1e-4,
    known: { xs, values: profileNetGex },
  });

  const flow = hedgeFlowByMove(lines, spot, params.moves ?? DEFAULT_MOVES);

  return {
    spot,
    nowMs: params.nowMs,
    model: model.id,
    strikes: byStrike.strikes,
    callGex: byStrike.callGex,
    putGex: byStrike.putGex,
    netGex: byStrike.netGex,
    expiries: byExpiry.expiries,
    netGexByExpiry: byExpiry.netGex,
    totalCallGex,
    totalPutGex,
    totalNetGex,
    profileSpots,
    profileNetGex,
    zeroGammaLevel: zg.zeroGammaLevel,
    zeroGammaCrossings: zg.crossings,
    moves: flow.moves,
    hedgeFlowUnits: flow.units,
    hedgeFlowUsd: flow.usd,
    hedgeFlowUnitsGammaApprox: flow.unitsGammaApprox,
    callWall: callWall(byStrike.strikes, byStrike.callGex),
    putWall: putWall(byStrike.strikes, byStrike.putGex),
    largestAbsGammaStrike: largestAbsGammaStrike(byStrike.strikes, byStrike.netGex),
    regime: gammaRegime(totalNetGex),
    includedLines: lines.count,
    excluded,
  };
}
