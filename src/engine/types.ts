/**
 * The engine's data contract. Plain data and typed arrays only; no behaviour, no side effects.
 * Every number's meaning is fixed by shared/design.md ("Number conventions").
 */

/** Dealer sign model id (design: "Dealer sign model"). Part of shared links. */
export type DealerModelId = 'classic' | 'short';

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
}

/** Why a line was left out of the sums (design: "Invalid input"). */
export type ExclusionReason =
  | 'expired' // T <= 0
  | 'ivMissing' // NaN / not yet received
  | 'ivNonPositive'
  | 'ivAbsurd' // above MAX_IV
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
  /** Gamma profile across spot: x from -profileRange to +profileRange in profileSteps points. Default 0.2, 401. */
  profileRange?: number;
  profileSteps?: number;
  /** Zero-gamma search: within +-zeroGammaRange (default 0.5), refined to zeroGammaTolerance of S (default 1e-4). */
  zeroGammaRange?: number;
  zeroGammaTolerance?: number;
  /** Moves for hedge flow as fractions; default -0.10 ... +0.10 in 0.01 steps (21 moves). */
  moves?: readonly number[];
}

export type GammaRegime = 'positive' | 'negative' | 'flat';

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
  /** Net signed dealer dollar gamma per expiry (ascending expiry). */
  expiries: Float64Array;
  netGexByExpiry: Float64Array;
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
}
