/**
 * Key levels (design: "key levels"): call wall, put wall, largest absolute-gamma strike, regime.
 */
import type { GammaRegime } from './types.ts';

/**
 * Call wall: the strike with the largest positive signed dealer call exposure; null if no strike has
 * positive call exposure (e.g. the `short` model, where every dealer call exposure is negative).
 */
export function callWall(strikes: Float64Array, callGex: Float64Array): number | null {
  let best = 0;
  let at: number | null = null;
  for (let k = 0; k < strikes.length; k++) {
    if (callGex[k] > best) {
      best = callGex[k];
      at = strikes[k];
    }
  }
  return at;
}

/** Put wall: the strike with the largest put exposure in magnitude; null if all are zero. */
export function putWall(strikes: Float64Array, putGex: Float64Array): number | null {
  return argMaxAbs(strikes, putGex);
}

/** The strike with the largest absolute net dealer gamma; null if all are zero. */
export function largestAbsGammaStrike(strikes: Float64Array, netGex: Float64Array): number | null {
  return argMaxAbs(strikes, netGex);
}

/** Gamma regime at spot: the sign of total net dealer gamma ('flat' when exactly 0 or empty). */
export function gammaRegime(totalNetGexAtSpot: number): GammaRegime {
  if (totalNetGexAtSpot > 0) return 'positive';
  if (totalNetGexAtSpot < 0) return 'negative';
  return 'flat';
}

function argMaxAbs(strikes: Float64Array, v: Float64Array): number | null {
  let best = 0;
  let at: number | null = null;
  for (let k = 0; k < strikes.length; k++) {
    const a = Math.abs(v[k]);
    if (a > best) {
      best = a;
      at = strikes[k];
    }
  }
  return at;
}
