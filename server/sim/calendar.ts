/**
 * Deribit's option expiry calendar (all at 08:00 UTC): dailies for the next 3 days, weeklies on the
 * next 4 Fridays, monthlies (last Friday of the month) for 3 months, quarterlies (last Friday of
 * Mar/Jun/Sep/Dec) for 4 quarters. The listed set is a pure function of the time t.
 */

const DAY = 86_400_000;

export function at0800(y: number, m: number, d: number): number {
  return Date.UTC(y, m, d, 8, 0, 0, 0);
}

/** Last Friday of month m (0-based) of year y, 08:00 UTC. */
export function lastFriday(y: number, m: number): number {
  const last = new Date(Date.UTC(y, m + 1, 0));
  const back = (last.getUTCDay() - 5 + 7) % 7;
  return at0800(y, m, last.getUTCDate() - back);
}

/** The expiries listed at time t (ms), strictly after t, sorted ascending. */
export function listedExpiries(t: number): number[] {
  const out = new Set<number>();
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  let first = at0800(y, mo, d.getUTCDate());
  if (first <= t) first += DAY;
  for (let i = 0; i < 3; i++) out.add(first + i * DAY);
  // weeklies: next 4 Fridays at 08:00
  let fri = first;
  while (new Date(fri).getUTCDay() !== 5) fri += DAY;
  for (let i = 0; i < 4; i++) out.add(fri + i * 7 * DAY);
  // monthlies: next 3 month-end Fridays
  let n = 0;
  for (let k = 0; n < 3 && k < 6; k++) {
    const e = lastFriday(y, mo + k);
    if (e > t) {
      out.add(e);
      n++;
    }
  }
  // quarterlies: next 4 quarter-end Fridays
  n = 0;
  for (let k = 0; n < 4 && k < 18; k++) {
    const m = mo + k;
    if ((((m % 12) + 12) % 12) % 3 !== 2) continue;
    const e = lastFriday(y, m);
    if (e > t) {
      out.add(e);
      n++;
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Deribit's expiry code (`27DEC24`, `5JAN25`): the one label of src/shared/expiry.ts. */
import { expiryLabel as expiryCode, parseExpiryLabel } from '../../src/shared/expiry.ts';
export { expiryCode };

/** Strike in a Deribit name: integers plain, decimals with `d` (linear USDC options: `1d02`). */
export function strikeCode(k: number): string {
  return Number.isInteger(k) ? String(k) : String(k).replace('.', 'd');
}

export function optionName(currency: string, expiryMs: number, strike: number, isCall: boolean): string {
  return `${currency}-${expiryCode(expiryMs)}-${strikeCode(strike)}-${isCall ? 'C' : 'P'}`;
}

export interface ParsedName {
  currency: string;
  kind: 'option' | 'future';
  expiryMs?: number;
  strike?: number;
  isCall?: boolean;
  perpetual?: boolean;
}

/** Parse `BTC-24SEP21-40000-P`, `BTC-24SEP21`, `BTC-PERPETUAL`, `MATIC_USDC-9MAR24-1d02-C`. */
export function parseInstrumentName(name: string): ParsedName | undefined {
  const p = name.split('-');
  if (p.length === 2 && p[1] === 'PERPETUAL') return { currency: p[0], kind: 'future', perpetual: true };
  if (p.length === 2) {
    const e = parseExpiryLabel(p[1]);
    return e === null ? undefined : { currency: p[0], kind: 'future', expiryMs: e };
  }
  if (p.length === 4 && (p[3] === 'C' || p[3] === 'P')) {
    const e = parseExpiryLabel(p[1]);
    const k = Number(p[2].replace('d', '.'));
    if (e === null || !Number.isFinite(k) || k <= 0) return undefined;
    return { currency: p[0], kind: 'option', expiryMs: e, strike: k, isCall: p[3] === 'C' };
  }
  return undefined;
}
