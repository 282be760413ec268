/**
 * Number readers for venues that send numbers as strings (OKX, Bybit, Binance); the shared
 * frame-guard readers accept JSON numbers only (Deribit). A reader returns null for anything that is
 * not a finite number, so callers drop the row with a reason instead of letting NaN reach the chain.
 */
import { MAX_BOOK_LEVELS_PER_SIDE } from './limits.ts';

/** A finite number from a JSON string or number; '' / null / garbage -> null. */
export function readNum(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || v.length === 0 || v.length > 40) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** A finite number > 0. */
export function readPositive(v: unknown): number | null {
  const n = readNum(v);
  return n !== null && n > 0 ? n : null;
}

/** A finite number >= 0. */
export function readNonNegative(v: unknown): number | null {
  const n = readNum(v);
  return n !== null && n >= 0 ? n : null;
}

/** A millisecond timestamp: an integer between 2009 and 2100. */
export function readTsMs(v: unknown): number | null {
  const n = readNum(v);
  return n !== null && Number.isInteger(n) && n > 1_230_000_000_000 && n < 4_102_444_800_000 ? n : null;
}


/** `YYMMDD` -> that day at 08:00 UTC (the crypto option expiry time) or null. */
export function yymmddAt0800(s: string): number | null {
  if (!/^\d{6}$/.test(s)) return null;
  const y = 2000 + Number(s.slice(0, 2));
  const m = Number(s.slice(2, 4)) - 1;
  const d = Number(s.slice(4, 6));
  return validDay(y, m, d);
}

/** `27DEC24` / `6JAN23` -> that day at 08:00 UTC or null (the shared label). */
export { parseExpiryLabel as dMMMyyAt0800 } from '../shared/expiry.ts';

function validDay(y: number, m: number, d: number): number | null {
  if (m < 0 || m > 11 || d < 1 || d > 31) return null;
  const t = Date.UTC(y, m, d, 8);
  // Reject 31FEB and the like: Date.UTC silently rolls over.
  return new Date(t).getUTCDate() === d ? t : null;
}

/**
 * One side of a book as the string venues send it, `[[price, size, ...], ...]`: kept as strings (the
 * level book keys on them), each checked to be a positive price and a non-negative size; the whole side
 * is refused (null) on one bad level or more than MAX_BOOK_LEVELS_PER_SIDE levels.
 */
export function readPriceLevels(v: unknown): [string, string][] | null {
  if (!Array.isArray(v) || v.length > MAX_BOOK_LEVELS_PER_SIDE) return null;
  const out: [string, string][] = [];
  for (const l of v) {
    if (!Array.isArray(l) || typeof l[0] !== 'string' || typeof l[1] !== 'string') return null;
    if (readPositive(l[0]) === null || readNonNegative(l[1]) === null) return null;
    out.push([l[0], l[1]]);
  }
  return out;
}
