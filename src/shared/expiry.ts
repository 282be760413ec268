/**
 * Expiry labels, once: `27DEC24`, `3JAN25` (day without a leading zero, as Deribit names expiries),
 * at 08:00 UTC, the crypto option expiry time.
 */
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;

/** The crypto venues' options expire at 08:00 UTC. */
export const EXPIRY_HOUR_UTC = 8;

/** Epoch ms -> `27DEC24`. */
export function expiryLabel(expiryMs: number): string {
  const d = new Date(expiryMs);
  return `${d.getUTCDate()}${MONTHS[d.getUTCMonth()]}${String(d.getUTCFullYear() % 100).padStart(2, '0')}`;
}

/**
 * `27DEC24` -> epoch ms at 08:00 UTC; null when it is not a label or not a real date (31FEB25: Date.UTC
 * would roll it over into March).
 */
export function parseExpiryLabel(label: string): number | null {
  const m = /^(\d{1,2})([A-Z]{3})(\d{2})$/.exec(label);
  if (!m) return null;
  const month = (MONTHS as readonly string[]).indexOf(m[2]);
  const day = Number(m[1]);
  if (month < 0 || day < 1) return null;
  const ms = Date.UTC(2000 + Number(m[3]), month, day, EXPIRY_HOUR_UTC);
  return new Date(ms).getUTCDate() === day ? ms : null;
}
