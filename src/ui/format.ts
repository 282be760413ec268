/**
 * Number formatting for traders, in one place so every view (and the e2e tests) agree.
 * ASCII '-' for negatives so figures paste cleanly into spreadsheets and compare in tests.
 * Anything non-finite renders as an em dash rather than "NaN".
 */

const DASH = '—';

const group = (digits: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: true });
const G0 = group(0);
const G1 = group(1);
const G2 = group(2);

/** Three significant figures with a K/M/B/T suffix: 1.23M, 12.3M, 123M. */
function compact(abs: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [size, suffix] of units) {
    if (abs >= size * 0.9995) {
      const v = abs / size;
      // Rounding 999.6K up must become 1.00M, not 1000K.
      if (v >= 999.5 && size < 1e12) continue;
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${suffix}`;
    }
  }
  return abs >= 100 ? abs.toFixed(0) : abs >= 10 ? abs.toFixed(1) : abs.toFixed(2);
}

/** USD with K/M/B: "$1.23M", "-$456K". */
export function fmtUsd(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  return `${v < 0 ? '-' : ''}$${compact(Math.abs(v))}`;
}

/** Signed USD flow: "+$1.23M" (buy) / "-$1.23M" (sell); zero unsigned. */
export function fmtSignedUsd(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  const body = `$${compact(Math.abs(v))}`;
  if (body === '$0.00') return body;
  return `${v < 0 ? '-' : '+'}${body}`;
}

/** Strike with thousands separators, no decimals above 100: "100,000". */
export function fmtStrike(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  return Math.abs(v) >= 100 ? G0.format(v) : G2.format(v);
}

/** A price level (zero gamma, walls): whole dollars above 1,000, cents below. */
export function fmtLevel(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  return Math.abs(v) >= 1000 ? G0.format(v) : G2.format(v);
}

/** Spot: always two decimals with separators: "97,123.45". */
export function fmtSpot(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  return G2.format(v);
}

/** Fraction as a signed percentage: 0.0123 -> "+1.23%". */
export function fmtSignedPct(fraction: number | null | undefined, digits = 2): string {
  if (fraction == null || !Number.isFinite(fraction)) return DASH;
  const s = (fraction * 100).toFixed(digits);
  if (Number(s) === 0) return `${(0).toFixed(digits)}%`;
  return `${fraction > 0 ? '+' : ''}${s}%`;
}

/** Fraction as a percentage: 0.2 -> "20.0%". */
export function fmtPct(fraction: number | null | undefined, digits = 1): string {
  if (fraction == null || !Number.isFinite(fraction)) return DASH;
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** A move written as a fraction in data, as a percentage on screen: 0.01 -> "+1%". */
export function fmtMove(m: number): string {
  const pct = Math.round(m * 1000) / 10;
  if (pct === 0) return '0%';
  return `${pct > 0 ? '+' : ''}${pct}%`;
}

/** Coin amount: "12.35 BTC"; signed variant for flows: "+12.35 BTC". */
export function fmtCoin(v: number | null | undefined, coin: string, signed = false): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  const abs = Math.abs(v);
  const body = abs >= 1e4 ? G0.format(abs) : abs >= 100 ? G1.format(abs) : G2.format(abs);
  const sign = v < 0 ? '-' : signed && Number(body.replace(/,/g, '')) !== 0 ? '+' : '';
  return `${sign}${body} ${coin}`;
}

/** Data age for people: "0.4 s", "12 s", "3 m 05 s", "2 h 03 m". */
export function fmtAge(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return DASH;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

/** UTC clock time of an epoch ms: "14:03:07". */
export function fmtTimeUtc(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return DASH;
  return new Date(ms).toISOString().slice(11, 19);
}

/** Funding per 8 h as a percentage with 4 decimals: 0.0001 -> "+0.0100%". */
export function fmtFunding(v: number | null | undefined): string {
  return fmtSignedPct(v, 4);
}

/** A horizon in hours: "now", "+1 h", "+2 d 3 h" past a day. */
export function fmtHorizon(hours: number): string {
  if (!Number.isFinite(hours)) return DASH;
  if (hours === 0) return 'now';
  if (hours < 48) return `+${Math.round(hours * 10) / 10} h`;
  const d = Math.floor(hours / 24);
  const h = Math.round(hours - 24 * d);
  return `+${d} d${h > 0 ? ` ${h} h` : ''}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An expiry's date and time: "27 Dec 08:00 UTC" (month names by table: toLocaleString with a time zone costs ~0.5 ms a call). */
export function fmtExpiryTime(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return DASH;
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.toISOString().slice(11, 16)} UTC`;
}
