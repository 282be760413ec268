/**
 * Black-76 greeks on the forward, rate 0 (design: "Number conventions", "Beyond gamma"), in their
 * literal form: used by the tests, the simulator and the expiring-line summary. The hot path
 * (exposure.ts, sweep.ts, flows.ts, scenarios.ts) runs the same algebra precomputed per line, and
 * its tests compare the two.
 * F forward (USD), K strike (USD), sigma decimal IV, T years (365-day, from design).
 * All greeks are per 1 unit of underlying (Deribit quotes its greeks the same way, feeds.md 1.6).
 */
import { Phi, phi } from './normal.ts';

/** d1 = (ln(F/K) + sigma^2 T / 2) / (sigma sqrt T). */
export function d1(F: number, K: number, sigma: number, T: number): number {
  const s = sigma * Math.sqrt(T);
  return (Math.log(F / K) + 0.5 * s * s) / s;
}

/** Delta: N(d1) for a call, N(d1) - 1 for a put. */
export function delta(F: number, K: number, sigma: number, T: number, isCall: boolean): number {
  const n = Phi(d1(F, K, sigma, T));
  return isCall ? n : n - 1;
}

/** Gamma = phi(d1) / (F sigma sqrt T), per 1 USD of the underlying; identical for calls and puts. */
export function gamma(F: number, K: number, sigma: number, T: number): number {
  const s = sigma * Math.sqrt(T);
  return phi(d1(F, K, sigma, T)) / (F * s);
}

/** Vanna = d delta / d sigma = -phi(d1) d2 / sigma, per 1.00 of sigma (same for call and put). */
export function vanna(F: number, K: number, sigma: number, T: number): number {
  const a = d1(F, K, sigma, T);
  return (-phi(a) * (a - sigma * Math.sqrt(T))) / sigma;
}

/** Charm = the drift of delta as time passes, -d delta / dT = phi(d1) d2 / (2T), per year (same for call and put). */
export function charm(F: number, K: number, sigma: number, T: number): number {
  const a = d1(F, K, sigma, T);
  return (phi(a) * (a - sigma * Math.sqrt(T))) / (2 * T);
}

/** Vega in USD per 1 vol point (0.01 of sigma): F phi(d1) sqrt T / 100 (Deribit's unit). */
export function vega(F: number, K: number, sigma: number, T: number): number {
  return (F * phi(d1(F, K, sigma, T)) * Math.sqrt(T)) / 100;
}

/** Theta in USD per calendar day, r = 0: -F phi(d1) sigma / (2 sqrt T) / 365 (same for call and put). */
export function theta(F: number, K: number, sigma: number, T: number): number {
  return (-F * phi(d1(F, K, sigma, T)) * sigma) / (2 * Math.sqrt(T)) / 365;
}

/** Undiscounted Black-76 price in USD (r = 0): F N(d1) - K N(d2) for a call, K N(-d2) - F N(-d1) for a put. */
export function price(F: number, K: number, sigma: number, T: number, isCall: boolean): number {
  const s = sigma * Math.sqrt(T);
  const a = d1(F, K, sigma, T);
  const b = a - s;
  return isCall ? F * Phi(a) - K * Phi(b) : K * Phi(-b) - F * Phi(-a);
}

/** Time to expiry in years, 365-day basis (design: "Time to expiry"). */
export function yearFraction(expiryMs: number, nowMs: number): number {
  return (expiryMs - nowMs) / (365 * 86_400_000);
}
