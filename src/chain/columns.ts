/**
 * Chain columns side by side: several venues' chains as one, so the engine sums by strike (each
 * venue's strikes kept as they are) and finds one zero gamma for the total. Beside the column list
 * (engine/types.ts ChainColumns), so a new column is added in one place.
 */
import type { ChainColumns } from '../engine/types.ts';

const FLOAT_COLUMNS = ['strike', 'expiryMs', 'markIv', 'forward', 'openInterest', 'multiplier'] as const;

/** Empty columns with room for `cap` lines. */
export function allocColumns(cap: number): ChainColumns {
  return {
    length: 0,
    strike: new Float64Array(cap),
    expiryMs: new Float64Array(cap),
    isCall: new Uint8Array(cap),
    markIv: new Float64Array(cap),
    forward: new Float64Array(cap),
    openInterest: new Float64Array(cap),
    multiplier: new Float64Array(cap),
    listedMs: new Float64Array(cap),
  };
}

/**
 * `parts` one after another in `scratch` (reused while big enough, else a new one twice the size is
 * returned: keep the result as the next scratch). A part without listing times gets NaN (unknown).
 */
export function concatColumns(parts: readonly ChainColumns[], scratch: ChainColumns | null): ChainColumns {
  let n = 0;
  for (const p of parts) n += p.length;
  const s = scratch && scratch.strike.length >= n ? scratch : allocColumns(Math.max(64, n * 2));
  let o = 0;
  for (const p of parts) {
    const k = p.length;
    for (const c of FLOAT_COLUMNS) s[c].set(p[c].subarray(0, k), o);
    s.isCall.set(p.isCall.subarray(0, k), o);
    if (p.listedMs) s.listedMs!.set(p.listedMs.subarray(0, k), o);
    else s.listedMs!.fill(NaN, o, o + k);
    o += k;
  }
  s.length = n;
  return s;
}
