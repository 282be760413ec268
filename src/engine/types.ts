/**
 * The engine's data contract. Plain data and typed arrays only; no behaviour, no side effects.
 * Every number's meaning is fixed by shared/design.md ("Number conventions").
 */

/** Dealer sign model id (design: "Dealer sign model"). Part of shared links. */
export type { DealerModelId } from '../shared/policy.ts';
import type { DealerModelId } from '../shared/policy.ts';

/**
 * One option chain in struct-of-arrays form, so the worker can update lines in place and the engine
 * can loop over contiguous memory. Line i is described by index i of every column.
 * Lines may be invalid (NaN IV, negative OI, ...): the engine excludes and counts them, it never throws.
 */
export interface ChainColumns {
  /** Number of lines in use (columns may be longer: capacity). */
  length: number;
  /** Strike in USD. */
  strike: Float64Array;
  /** Expiry, epoch milliseconds (08:00 UTC on the crypto venues). */
  expiryMs: Float64Array;
  /** 1 for a call, 0 for a put. */
  isCall: Uint8Array;
  /** Mark implied volatility as a decimal (0.6 = 60 %). NaN when unknown. */
  markIv: Float64Array;
  /** The expiry's forward F in USD (Deribit's `underlying_price`). NaN when unknown. */
  forward: Float64Array;
  /** Open interest in the venue's contracts. NaN when unknown. */
  openInterest: Float64Array;
  /** Underlying units per contract (Deribit BTC options: 1). */
  multiplier: Float64Array;
  /**
   * When the instrument was listed, epoch ms (Deribit `creation_timestamp`); NaN when unknown. Only
   * the `flow` model reads it (a line listed inside the trade window was seen whole). Optional so
   * that chains without listing times stay valid: they count as listed before any window.
   */
  listedMs?: Float64Array;
}

/**
 * Trades of the public tape aggregated per chain line over a lookback window, for the `flow` dealer
 * model (design: "Dealer positions from the trade tape"). Index i describes chain line i. Each trade
 * is counted once (by its venue trade id) before it gets here.
 */
export interface LineTrades {
  /** W0: start of the lookback window, epoch ms (the window ends at the valuation time). */
  windowStartMs: number;
  /** B: contracts bought by takers in the window. */
  bought: Float64Array;
  /** S: contracts sold by takers in the window. */
  sold: Float64Array;
  /** Trades counted, block trades included. */
  trades: Float64Array;
  /** Of those, block trades (counted apart on screen). */
  blockTrades: Float64Array;
  /**
   * Per line, since when its venue's tape is complete up to now (>= windowStartMs): a line listed at or
   * after it was seen whole. Absent: windowStartMs for every line (the tape covers the whole window).
   * Several venues summed each cover their own stretch (one venue's history reaches back 7 days,
   * another's recent trades an hour).
   */
  seenFromMs?: Float64Array;
}

/** Why a line was left out of the sums (design: "Invalid input"). */
export type ExclusionReason =
  | 'expired' // T <= 0
  | 'ivMissing' // NaN / not yet received
  | 'ivNonPositive'
  | 'ivAbsurd' // below MIN_IV or above MAX_IV
  | 'oiMissing'
  | 'oiNegative'
  | 'strikeInvalid' // <= 0 or non-finite
  | 'forwardInvalid' // <= 0 or non-finite
  | 'multiplierInvalid';

export type ExclusionCounts = Record<ExclusionReason, number>;

export interface ExposureParams {
  /** Spot S: the index price, USD. */
  spot: number;
  /** Valuation instant, epoch ms (time is injected, never read from a clock). */
  nowMs: number;
  model: DealerModelId;
  /** Expiries (epoch ms) to include; null or undefined = all. */
  expiries?: ReadonlySet<number> | null;
  /** Gamma profile across spot: x from -profileRange to +profileRange in profileSteps points, evenly spaced in ln(1 + x) on each side of x = 0. Default 0.2, 401. */
  profileRange?: number;
  profileSteps?: number;
  /** Zero-gamma search: within +-zeroGammaRange (default 0.5), refined to zeroGammaTolerance of S (default 1e-4). */
  zeroGammaRange?: number;
  zeroGammaTolerance?: number;
  /** Moves for hedge flow as fractions; default -0.10 ... +0.10 in 0.01 steps (21 moves). */
  moves?: readonly number[];
  /**
   * Include lines under one hour to expiry in the sums (design: "Expiring lines"; `expiring=1` in a
   * link). Default false: they are counted and described apart in `GexResult.expiring`.
   */
  includeExpiring?: boolean;
  /** "After the next expiry" (design: "Beyond gamma"): leave out the nearest selected expiry's lines. */
  afterNextExpiry?: boolean;
  /** The tape per chain line, for model `flow`; without it every line counts as "assumed". */
  trades?: LineTrades | null;
  /** Scenario ladder to compute (design: "Beyond gamma"); none when absent. */
  scenarios?: ScenarioRequest | null;
  /** The summed visible perpetual books, for the feedback estimate (design: "Beyond gamma"). */
  visibleDepth?: VisibleDepth | null;
  /** Shocks to estimate the feedback of (fractions, e.g. -0.02); needs `visibleDepth`. */
  feedbackShocks?: readonly number[];
}

/**
 * The visible book as cumulative depth, units of the underlying, at distances from mid in percent
 * (e.g. 0.5, 1, 2), ascending; the sum over the selected venues' perpetuals.
 */
export interface VisibleDepth {
  bandPct: readonly number[];
  /** Resting bids between mid and mid (1 - band), cumulative. */
  bidUnits: readonly number[];
  /** Resting asks between mid and mid (1 + band), cumulative. */
  askUnits: readonly number[];
}

export type FeedbackStatus = 'converged' | 'runaway' | 'unsettled';

/** One shock's feedback estimate (design: "Feedback estimate"). */
export interface FeedbackEstimate {
  shock: number;
  /** The move after dealer hedging (fraction), when converged; the last round's otherwise. */
  move: number;
  /** Dealer flow at that move, units of the underlying (+ = buy). */
  flowUnits: number;
  rounds: number;
  status: FeedbackStatus;
}

/** A horizon of the ladder: hours ahead, or "through the next expiry" (the nearest expiry in the sums). */
export type Horizon = number | 'nextExpiry';

/** The axes a ladder is asked for; 'nextExpiry' is resolved to hours by the engine. */
export interface ScenarioRequest {
  moves: readonly number[];
  hours: readonly Horizon[];
  volShifts: readonly number[];
}

/** The axes of a scenario ladder: spot moves x horizons x vol shifts. */
export interface ScenarioAxes {
  /** Spot moves as fractions (0.01 = +1 %). */
  moves: readonly number[];
  /** Horizons in hours from the valuation time (0 = now). */
  hours: readonly number[];
  /** Implied vol shifts as decimals (0.01 = one vol point). */
  volShifts: readonly number[];
}

/**
 * Hedge flow of every scenario, flattened move-major: index (m * hours.length + h) * volShifts.length + v
 * (design: "Beyond gamma": -(D(S(1+m), t+h, sigma+dsigma) - D(S, t, sigma))).
 */
export interface ScenarioGrid extends ScenarioAxes {
  /** Units of the underlying dealers must trade, + = buy. */
  units: Float64Array;
  /** USD notional: units * S (1 + m). */
  usd: Float64Array;
}

/** Lines under one hour to expiry (design: "Expiring lines"). */
export interface ExpiringLines {
  /** Valid lines with 0 < T < 1/8760 among the selected expiries. */
  lines: number;
  /** Whether they are in the sums (`includeExpiring`). */
  included: boolean;
  /** Their gross (unsigned) dealer dollar gamma over the gross of every valid selected line, 0..1. */
  grossGammaShare: number;
  /** "The pin": the strike holding the largest gross dollar gamma among them; null when none. */
  pinStrike: number | null;
}

/** What the `flow` model read from the tape (design: "Dealer positions from the trade tape"). */
export interface Positioning {
  /** W0; null when no tape was given (every line is then "assumed"). */
  windowStartMs: number | null;
  /** Trades counted on the lines in the sums (block trades included). */
  trades: number;
  blockTrades: number;
  /** Shares of dealer contracts (sum of |q|) seen whole, seen in part, assumed; 0 each when that sum is 0. */
  seenWhole: number;
  seenInPart: number;
  assumed: number;
}

/** 'invalid': the total is not a finite number (an error shown as such, never 'flat'). */
export type GammaRegime = 'positive' | 'negative' | 'flat' | 'invalid';

/** Everything the views and the CLI show. Per-strike arrays share one index and are sorted by strike. */
export interface GexResult {
  spot: number;
  nowMs: number;
  model: DealerModelId;
  /** Distinct strikes of the included lines, ascending, USD. */
  strikes: Float64Array;
  /** Signed dealer dollar gamma per 1 % move, USD, per strike (design: "Dollar gamma per 1% move"). */
  callGex: Float64Array;
  putGex: Float64Array;
  netGex: Float64Array;
  /**
   * Change of dealer delta per strike, units of the underlying (design: "Beyond gamma"): delta
   * exposure q mult delta, vanna exposure per vol point q mult vanna 0.01, charm exposure per day
   * q mult charm / 365. USD: times spot.
   */
  deltaExposure: Float64Array;
  vannaExposure: Float64Array;
  charmExposure: Float64Array;
  totalDeltaExposure: number;
  totalVannaExposure: number;
  totalCharmExposure: number;
  /** Net signed dealer dollar gamma per expiry (ascending expiry). */
  expiries: Float64Array;
  netGexByExpiry: Float64Array;
  /**
   * Net signed dealer dollar gamma per strike and expiry, strike-major: cell k * expiries.length + e
   * is strike `strikes[k]` of expiry `expiries[e]` (the strike x expiry heatmap).
   */
  netGexByStrikeExpiry: Float64Array;
  totalCallGex: number;
  totalPutGex: number;
  totalNetGex: number;
  /** Gamma profile: hypothetical spots S(1+x) and total net GEX there (design: "Spot sweep"). */
  profileSpots: Float64Array;
  profileNetGex: Float64Array;
  /** Zero gamma: the sign change nearest to spot as a price, or null if none in range (never invented). */
  zeroGammaLevel: number | null;
  /** Every sign change in the zero-gamma search range, as prices, nearest to spot first. */
  zeroGammaCrossings: number[];
  /** Hedge flow by move (design: "Hedge flow"): units of underlying dealers must trade (+ buy), USD notional. */
  moves: Float64Array;
  hedgeFlowUnits: Float64Array;
  hedgeFlowUsd: Float64Array;
  /** The gamma-only approximation of the same flow, for comparison. */
  hedgeFlowUnitsGammaApprox: Float64Array;
  callWall: number | null;
  putWall: number | null;
  largestAbsGammaStrike: number | null;
  regime: GammaRegime;
  includedLines: number;
  excluded: ExclusionCounts;
  expiring: ExpiringLines;
  /** The nearest expiry still in the sums (after any `afterNextExpiry`), epoch ms; null when none. */
  nextExpiryMs: number | null;
  /** The expiry left out by `afterNextExpiry`, epoch ms; null otherwise. */
  droppedExpiryMs: number | null;
  /** Set for model `flow`, null otherwise. */
  positioning: Positioning | null;
  /**
   * For model `flow`: the classic model's net GEX per strike (same strikes), so a view can draw it as a
   * ghost beside the flow figure and show where the assumption was wrong; null for other models.
   */
  classicNetGex: Float64Array | null;
  /** Set when `scenarios` was asked for; hours resolved ("through the next expiry" = hours to nextExpiryMs). */
  scenarios: ScenarioGrid | null;
  /** Set when `visibleDepth` and `feedbackShocks` were given. */
  feedback: FeedbackEstimate[] | null;
}
