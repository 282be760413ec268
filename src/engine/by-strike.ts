/**
 * The sums over prepared lines the views draw: per strike (gamma by strike and the beyond-gamma
 * exposures), per expiry, and per strike and expiry (design: "Net GEX of a strike", "Beyond gamma").
 */
import type { ChainColumns, GexResult } from './types.ts';
import { dollarGammaAtSpot, type PreparedLines } from './exposure.ts';
import type { DealerPositionModel } from './dealer-sign.ts';

/** The per-strike part of the result: its arrays, units and design references are GexResult's. */
export type StrikeExposure = Pick<GexResult, 'strikes' | 'callGex' | 'putGex' | 'netGex' | 'deltaExposure' | 'vannaExposure' | 'charmExposure'>;

/**
 * Per strike, strikes ascending: signed dealer dollar gamma (call, put, net; design: "Net GEX of a
 * strike") and the delta, vanna (per vol point) and charm (per day) exposures (design: "Beyond gamma").
 */
export function exposureByStrike(chain: ChainColumns, lines: PreparedLines): StrikeExposure {
  const n = lines.count;
  const keys: number[] = [];
  const pos = new Map<number, number>();
  for (let j = 0; j < n; j++) {
    const K = chain.strike[lines.idx[j]];
    if (!pos.has(K)) {
      pos.set(K, 0);
      keys.push(K);
    }
  }
  keys.sort((x, y) => x - y);
  for (let k = 0; k < keys.length; k++) pos.set(keys[k], k);
  const len = keys.length;
  const out: StrikeExposure = {
    strikes: Float64Array.from(keys),
    callGex: new Float64Array(len),
    putGex: new Float64Array(len),
    netGex: new Float64Array(len),
    deltaExposure: new Float64Array(len),
    vannaExposure: new Float64Array(len),
    charmExposure: new Float64Array(len),
  };
  for (let j = 0; j < n; j++) {
    const k = pos.get(chain.strike[lines.idx[j]]) as number;
    const g = lines.dollarGamma[j];
    if (lines.isCall[j] === 1) out.callGex[k] += g;
    else out.putGex[k] += g;
    out.deltaExposure[k] += lines.deltaUnits[j];
    out.vannaExposure[k] += lines.vannaUnits[j];
    out.charmExposure[k] += lines.charmUnits[j];
  }
  for (let k = 0; k < len; k++) out.netGex[k] = out.callGex[k] + out.putGex[k];
  return out;
}

/** Net signed dealer dollar gamma per expiry, expiries ascending (design: "Net GEX"). */
export function netGexByExpiry(chain: ChainColumns, lines: PreparedLines): { expiries: Float64Array; netGex: Float64Array } {
  const sums = new Map<number, number>();
  for (let j = 0; j < lines.count; j++) {
    const e = chain.expiryMs[lines.idx[j]];
    sums.set(e, (sums.get(e) ?? 0) + lines.dollarGamma[j]);
  }
  const keys = [...sums.keys()].sort((x, y) => x - y);
  return { expiries: Float64Array.from(keys), netGex: Float64Array.from(keys, (k) => sums.get(k) as number) };
}

/**
 * Net signed dealer dollar gamma per strike and expiry (design: "Net GEX of a strike", split by
 * expiry): cell k * expiries.length + e holds strike `strikes[k]` of expiry `expiries[e]` (both
 * ascending, as exposureByStrike and netGexByExpiry give them); summed over e it is netGex by strike,
 * over k netGex by expiry. A line whose strike or expiry is not listed adds nothing.
 */
export function netGexByStrikeExpiry(chain: ChainColumns, lines: PreparedLines, strikes: Float64Array, expiries: Float64Array): Float64Array {
  const E = expiries.length;
  const out = new Float64Array(strikes.length * E);
  if (E === 0) return out;
  const strikeAt = new Map<number, number>();
  for (let k = 0; k < strikes.length; k++) strikeAt.set(strikes[k], k);
  const expiryAt = new Map<number, number>();
  for (let e = 0; e < E; e++) expiryAt.set(expiries[e], e);
  for (let j = 0; j < lines.count; j++) {
    const i = lines.idx[j];
    const k = strikeAt.get(chain.strike[i]);
    const e = expiryAt.get(chain.expiryMs[i]);
    if (k !== undefined && e !== undefined) out[k * E + e] += lines.dollarGamma[j];
  }
  return out;
}

/**
 * Net dealer dollar gamma per strike (of `strikes`, ascending, as exposureByStrike gives them) of the
 * lines in the sums had dealers held `model`'s positions instead: the classic ghost drawn beside the
 * flow figure. Dollar gamma is linear in q, so each line's figure is rescaled; a line the first model
 * gave no position is valued afresh.
 */
export function netGexByStrikeAs(chain: ChainColumns, lines: PreparedLines, strikes: Float64Array, nowMs: number, model: DealerPositionModel): Float64Array {
  const n = lines.count;
  const q = new Float64Array(n);
  model.fillPositions(chain, lines.idx, n, q);
  const at = new Map<number, number>();
  for (let k = 0; k < strikes.length; k++) at.set(strikes[k], k);
  const out = new Float64Array(strikes.length);
  for (let j = 0; j < n; j++) {
    const i = lines.idx[j];
    const k = at.get(chain.strike[i]);
    if (k === undefined || q[j] === 0) continue;
    const p = lines.position[j];
    out[k] += p !== 0 ? lines.dollarGamma[j] * (q[j] / p) : dollarGammaAtSpot(chain, i, nowMs, q[j]);
  }
  return out;
}
