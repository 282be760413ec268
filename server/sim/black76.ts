/**
 * Black-76 (r = 0) for the simulator's marks and Deribit-style greeks: the engine's own functions
 * (double-precision normal CDF), gathered into the shape the simulated ticker frames need.
 */
import { delta, gamma, price, theta, vega } from '../../src/engine/black76.ts';

export interface Black76 {
  price: number;
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
}

/** Undiscounted Black-76 on forward f; vega per vol point, theta per calendar day (Deribit's units). */
export function black76(f: number, k: number, t: number, sigma: number, isCall: boolean): Black76 {
  return {
    price: Math.max(price(f, k, sigma, t, isCall), 0),
    delta: delta(f, k, sigma, t, isCall),
    gamma: gamma(f, k, sigma, t),
    vega: vega(f, k, sigma, t),
    theta: theta(f, k, sigma, t),
  };
}
