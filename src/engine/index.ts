/**
 * The engine's one entry point: a full recompute of dealer exposure from chain columns (design:
 * "Number conventions", "Beyond gamma"). Pure: no clock, no I/O, no module state.
 */
import type { ChainColumns, DealerModelId, ExposureParams, GexResult, LineTrades, ScenarioAxes, ScenarioRequest } from './types.ts';
import { classic, short, type DealerPositionModel } from './dealer-sign.ts';
import { flowModel, summarisePositioning } from './flow-model.ts';
import { PreparedLines, prepareLines } from './exposure.ts';
import { exposureByStrike, netGexByExpiry, netGexByStrikeAs, netGexByStrikeExpiry } from './by-strike.ts';
import { gexProfile, zeroGammaCrossings } from './sweep.ts';
import { hedgeFlowByMove } from './flows.ts';
import { scenarioLadder } from './scenarios.ts';
import { feedbackEstimate } from './feedback.ts';
import { callWall, gammaRegime, largestAbsGammaStrike, putWall } from './levels.ts';

export type * from './types.ts';
export { Phi, phi } from './normal.ts';
export * as black76 from './black76.ts';
export { classic, short, classicSign, DEALER_MODEL_IDS, DEALER_MODEL_LABELS } from './dealer-sign.ts';
export type { DealerPositionModel } from './dealer-sign.ts';
export { flowModel, flowPosition, summarisePositioning } from './flow-model.ts';
export { MIN_IV, MAX_IV, EXPIRING_MS, YEAR_MS, EXCLUSION_REASONS, emptyExclusions, exclusionReason, PreparedLines, prepareLines } from './exposure.ts';
export { netGexByStrikeAs, netGexByStrikeExpiry } from './by-strike.ts';
export { netGexAt, gexAcrossSpotMoves, gexOnLogGrid, gexProfile, zeroGammaCrossings } from './sweep.ts';
export { hedgeFlowByMove, dealerDeltaAt } from './flows.ts';
export { scenarioLadder } from './scenarios.ts';
export { feedbackEstimate, priceImpact } from './feedback.ts';
export { callWall, putWall, largestAbsGammaStrike, gammaRegime } from './levels.ts';

/** -0.10 ... +0.10 in 0.01 steps, written as k/100 so 0.07 is exactly the literal 0.07. */
export const DEFAULT_MOVES: readonly number[] = Array.from({ length: 21 }, (_, k) => (k - 10) / 100);

/** The position model for an id; the flow model reads the tape (none: every line "assumed"). */
export function dealerPositionModel(id: DealerModelId, trades: LineTrades | null = null): DealerPositionModel {
  if (id === 'flow') return flowModel(trades);
  return id === 'short' ? short : classic;
}

/**
 * The nearest expiry after nowMs among the selected lines (expired and unselected lines aside), or
 * null: the expiry "after the next expiry" leaves out (design: "Beyond gamma").
 */
export function nearestExpiry(chain: ChainColumns, nowMs: number, expiries?: ReadonlySet<number> | null): number | null {
  let best = Infinity;
  for (let i = 0; i < chain.length; i++) {
    const e = chain.expiryMs[i];
    if (e > nowMs && e < best && (!expiries || expiries.has(e))) best = e;
  }
  return best === Infinity ? null : best;
}

/** The ladder's horizons in hours: "through the next expiry" is the time to it (its lines drop out there). */
function resolveHorizons(req: ScenarioRequest, nextExpiryMs: number | null, nowMs: number): ScenarioAxes {
  return { ...req, hours: req.hours.map((h) => (h === 'nextExpiry' ? (nextExpiryMs === null ? 0 : (nextExpiryMs - nowMs) / 3_600_000) : h)) };
}

/**
 * Full recompute: validation with exclusion counts, expiring lines set apart, per-strike and
 * per-expiry dealer dollar gamma, delta/vanna/charm exposures, gamma profile across spot, zero gamma
 * with all crossings, hedge flow by move, key levels, and on request the scenario ladder.
 * Never throws on bad lines; they are excluded and counted. Pure: the caller owns the scratch
 * memory (`scratch`, reused between recomputes so the worker allocates no per-line constants).
 * @param chain chain columns (e.g. ChainStore.columns())
 * @param params spot, valuation time, dealer model, expiry filter, sweep/flow/scenario settings
 */
export function computeGex(chain: ChainColumns, params: ExposureParams, scratch: PreparedLines = new PreparedLines()): GexResult {
  const trades = params.trades ?? null;
  const model = dealerPositionModel(params.model, trades);
  const lines = scratch;
  const droppedExpiryMs = params.afterNextExpiry ? nearestExpiry(chain, params.nowMs, params.expiries) : null;
  const prepared = prepareLines(
    chain,
    params.nowMs,
    model,
    { expiries: params.expiries ?? null, includeExpiring: params.includeExpiring, dropExpiryMs: droppedExpiryMs },
    lines,
  );
  const spot = params.spot;

  const byStrike = exposureByStrike(chain, lines);
  const byExpiry = netGexByExpiry(chain, lines);
  let totalCallGex = 0;
  let totalPutGex = 0;
  let totalDeltaExposure = 0;
  let totalVannaExposure = 0;
  let totalCharmExposure = 0;
  for (let k = 0; k < byStrike.strikes.length; k++) {
    totalCallGex += byStrike.callGex[k];
    totalPutGex += byStrike.putGex[k];
    totalDeltaExposure += byStrike.deltaExposure[k];
    totalVannaExposure += byStrike.vannaExposure[k];
    totalCharmExposure += byStrike.charmExposure[k];
  }
  const totalNetGex = totalCallGex + totalPutGex;

  const profile = gexProfile(lines, params.profileRange ?? 0.2, params.profileSteps ?? 401);
  const profileNetGex = profile.values;
  const profileSpots = new Float64Array(profile.xs.length);
  for (let k = 0; k < profile.xs.length; k++) profileSpots[k] = spot * (1 + profile.xs[k]);

  const zg = zeroGammaCrossings(lines, spot, {
    range: params.zeroGammaRange ?? 0.5,
    tolerance: params.zeroGammaTolerance ?? 1e-4,
    known: profile,
  });

  const flow = hedgeFlowByMove(lines, spot, params.moves ?? DEFAULT_MOVES);
  const nextExpiryMs = byExpiry.expiries.length > 0 ? byExpiry.expiries[0] : null;
  const depth = params.visibleDepth ?? null;

  return {
    spot,
    nowMs: params.nowMs,
    model: model.id,
    strikes: byStrike.strikes,
    callGex: byStrike.callGex,
    putGex: byStrike.putGex,
    netGex: byStrike.netGex,
    deltaExposure: byStrike.deltaExposure,
    vannaExposure: byStrike.vannaExposure,
    charmExposure: byStrike.charmExposure,
    totalDeltaExposure,
    totalVannaExposure,
    totalCharmExposure,
    expiries: byExpiry.expiries,
    netGexByExpiry: byExpiry.netGex,
    netGexByStrikeExpiry: netGexByStrikeExpiry(chain, lines, byStrike.strikes, byExpiry.expiries),
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
    excluded: prepared.excluded,
    expiring: prepared.expiring,
    nextExpiryMs,
    droppedExpiryMs,
    positioning: model.id === 'flow' ? summarisePositioning(chain, trades, lines.idx, lines.count) : null,
    classicNetGex: model.id === 'flow' ? netGexByStrikeAs(chain, lines, byStrike.strikes, params.nowMs, classic) : null,
    scenarios: params.scenarios ? scenarioLadder(lines, spot, resolveHorizons(params.scenarios, nextExpiryMs, params.nowMs)) : null,
    feedback: depth && params.feedbackShocks ? params.feedbackShocks.map((m) => feedbackEstimate(lines, depth, m)) : null,
  };
}
