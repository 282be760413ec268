/** How the venues write numbers and dates in their frames and names. */

/** A number as the venues write it: a decimal string without exponent noise. */
export function num(x: number, maxDecimals = 8): string {
  if (!Number.isFinite(x)) return String(x);
  const s = x.toFixed(maxDecimals);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** `YYMMDD` of a UTC date (OKX and Binance option names). */
export function yymmdd(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}
