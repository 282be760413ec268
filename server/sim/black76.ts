/** Minimal Black-76 (r = 0) for the simulator's marks and greeks; the app computes its own. */

export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Normal CDF via erfc (W. J. Cody style rational approximation through Math functions). */
export function normCdf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for greeks checks; use a continued erfc series.
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  // Numerical Recipes erfcc, fractional error < 1.2e-7 everywhere: enough for simulated marks.
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r / 2 : r / 2;
}

export interface Black76 {
  price: number;
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
}

/** Undiscounted Black-76 on forward f; vega per vol point, theta per calendar day (Deribit's units). */
export function black76(f: number, k: number, t: number, sigma: number, isCall: boolean): Black76 {
  const sq = sigma * Math.sqrt(t);
  const d1 = (Math.log(f / k) + 0.5 * sq * sq) / sq;
  const d2 = d1 - sq;
  const nd1 = normCdf(d1);
  const price = isCall ? f * nd1 - k * normCdf(d2) : k * normCdf(-d2) - f * normCdf(-d1);
  const pdf = normPdf(d1);
  return {
    price: Math.max(price, 0),
    delta: isCall ? nd1 : nd1 - 1,
    gamma: pdf / (f * sq),
    vega: (f * pdf * Math.sqrt(t)) / 100,
    theta: -(f * pdf * sigma) / (2 * Math.sqrt(t)) / 365,
  };
}
