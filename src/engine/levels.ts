/**
 * Key levels (design: "key levels"): call wall, put wall, largest absolute-gamma strike, regime.
 */
import type { GammaRegime } from './types.ts';

/**
 * Call wall: the strike with the largest call exposure in magnitude; null if all are zero.
 * Under `classic` this is the largest positive dealer call exposure (the definition). Under
 * `short` every dealer call exposure is negative, but the strike where call gamma concentrates — the
 * level a desk calls the call wall — is the same, so the wall is taken by magnitude, like the put wall.
 */
export function callWall(strikes: Float64Array, callGex: Float64Array): number | null {
  return argMaxAbs(strikes, callGex);
}

/** Put wall: the strike with the largest put exposure in magnitude; null if all are zero. */
export function putWall(strikes: Float64Array, putGex: Float64Array): number | null {
  return argMaxAbs(strikes, putGex);
}

/** The strike with the largest absolute net dealer gamma; null if all are zero. */
export function largestAbsGammaStrike(strikes: Float64Array, netGex: Float64Array): number | null {
  return argMaxAbs(strikes, netGex);
}

/**
 * Gamma regime at spot: the sign of total net dealer gamma ('flat' when exactly 0 or empty).
 * A non-finite total is 'invalid', never 'flat' (design: "Invalid input").
 */
export function gammaRegime(totalNetGexAtSpot: number): GammaRegime {
  if (!Number.isFinite(totalNetGexAtSpot)) return 'invalid';
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
