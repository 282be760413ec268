/** Small seeded PRNGs written for the simulator: same seed -> same stream, on every platform. */

/** mulberry32, shared with the tests: src/shared/prng.ts. */
export { mulberry32 } from '../../src/shared/prng.ts';

/** Stateless 32-bit hash of a list of numbers/strings -> [0,1). Used for per-instrument constants
 * (open interest, basis) so they do not depend on the order in which instruments were listed. */
export function hash01(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = typeof p === 'number' ? p.toString(36) : p;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Standard normal from two uniforms (Box-Muller); u1 is clamped away from 0. */
export function gaussian(rand: () => number): number {
  const u1 = Math.max(rand(), 1e-12);
  const u2 = rand();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Normal deviate from a hash value pair (stateless). */
export function hashGaussian(...parts: (number | string)[]): number {
  const u1 = Math.max(hash01(...parts, 'g1'), 1e-12);
  const u2 = hash01(...parts, 'g2');
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
