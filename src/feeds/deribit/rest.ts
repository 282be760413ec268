/**
 * Pure parsing of Deribit JSON-RPC results (feeds.md §1.3-1.4): instrument names, `public/get_instruments`
 * and `public/get_book_summary_by_currency`. Used by the live client (over the websocket) and by the CLI
 * (on saved responses). Bad rows are dropped and counted by reason, never thrown.
 */
import type { Currency, OptionInstrument, OptionLineUpdate } from '../../chain/model.ts';
import { MAX_IV_DECIMAL } from '../limits.ts';

/** Beyond these a number is not a plausible venue value (drop, never clamp). */
const MAX_PRICE_USD = 1e8;
const MAX_OPEN_INTEREST = 1e9;
/** 2000-01-01 .. 2200-01-01: timestamps outside are not plausible venue times. */
const MIN_TS = 946_684_800_000;
const MAX_TS = 7_258_118_400_000;


const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Split a JSON-RPC 2.0 response frame (object or JSON text) into its result or its error.
 * Deribit errors look like `{"jsonrpc":"2.0","id":N,"error":{"code":-32601,"message":"Method not found"}}`.
 */
export function unwrapJsonRpc(
  frame: unknown,
): { ok: true; result: unknown; id: number | null } | { ok: false; code: number | null; message: string } {
  let f = frame;
  if (typeof f === 'string') {
    try {
      f = JSON.parse(f) as unknown;
    } catch {
      return { ok: false, code: null, message: 'not JSON' };
    }
  }
  if (!isRecord(f)) return { ok: false, code: null, message: 'not a JSON-RPC frame' };
  const id = finite(f.id) ? f.id : null;
  if ('error' in f) {
    const e = f.error;
    if (isRecord(e)) {
      const code = finite(e.code) ? e.code : null;
      const message = typeof e.message === 'string' ? e.message : 'error';
      const data = 'data' in e && e.data !== undefined ? ` ${JSON.stringify(e.data)}` : '';
      return { ok: false, code, message: message + data };
    }
    return { ok: false, code: null, message: typeof e === 'string' ? e : 'error' };
  }
  if ('result' in f) return { ok: true, result: f.result, id };
  return { ok: false, code: null, message: 'neither result nor error' };
}

/** Deribit names expiries with the shared label (`27DEC24`, 08:00 UTC). */
export { expiryLabel, parseExpiryLabel } from '../../shared/expiry.ts';
import { parseExpiryLabel } from '../../shared/expiry.ts';

/**
 * Parse any Deribit option name: `BTC-27DEC24-100000-C` (inverse) or `MATIC_USDC-9MAR24-1d02-C`
 * (linear USDC, `d` = decimal point). Expiry at 08:00 UTC. `underlying` is the name's first part
 * (`BTC`, `SOL`, `MATIC_USDC`).
 * @returns null for futures, perpetuals, combos and anything malformed
 */
export function parseAnyOptionName(name: string): { underlying: string; expiryMs: number; strike: number; isCall: boolean } | null {
  if (typeof name !== 'string') return null;
  const parts = name.split('-');
  if (parts.length !== 4) return null;
  const [underlying, date, strikeText, type] = parts;
  if (!/^[A-Z0-9]+(_[A-Z0-9]+)?$/.test(underlying)) return null;
  if (type !== 'C' && type !== 'P') return null;
  const expiryMs = parseExpiryLabel(date);
  if (expiryMs === null) return null;
  if (!/^\d+(d\d+)?$/.test(strikeText)) return null;
  const strike = Number(strikeText.replace('d', '.'));
  if (!(strike > 0) || !Number.isFinite(strike)) return null;
  return { underlying, expiryMs, strike, isCall: type === 'C' };
}

/**
 * Parse the name of an inverse option of one of our currencies (`BTC-27DEC24-100000-C`).
 * Linear (`BTC_USDC-...`, `MATIC_USDC-...`) and other-currency names parse with parseAnyOptionName
 * but give null here, so they can never be mistaken for a line of the BTC or ETH chain.
 */
export function parseOptionName(name: string): ParsedOptionName | null {
  // Every ticker frame names its instrument: the listed names are a small set, so remember them
  // (a bounded cache, emptied when full, so a days-long session or a junk flood cannot grow it).
  const hit = nameCache.get(name);
  if (hit !== undefined) return hit;
  const p = parseAnyOptionName(name);
  const parsed: ParsedOptionName | null =
    !p || (p.underlying !== 'BTC' && p.underlying !== 'ETH')
      ? null
      : Object.freeze({ currency: p.underlying, expiryMs: p.expiryMs, strike: p.strike, isCall: p.isCall });
  if (typeof name === 'string') {
    if (nameCache.size >= NAME_CACHE_MAX) nameCache.clear();
    nameCache.set(name, parsed);
  }
  return parsed;
}

export type ParsedOptionName = Readonly<{ currency: Currency; expiryMs: number; strike: number; isCall: boolean }>;
const NAME_CACHE_MAX = 8192;
const nameCache = new Map<string, ParsedOptionName | null>();

function bump(d: Record<string, number>, reason: string): void {
  d[reason] = (d[reason] ?? 0) + 1;
}

/**
 * `public/get_instruments` result -> option instruments of `currency` (multiplier = contract_size).
 * Drop reasons: notArray, malformed, notOption, badName, currencyMismatch, badStrike, badExpiry,
 * badContractSize, badOptionType.
 */
export function parseInstrumentsResult(result: unknown, currency: Currency): { instruments: OptionInstrument[]; dropped: Record<string, number> } {
  const dropped: Record<string, number> = {};
  const instruments: OptionInstrument[] = [];
  if (!Array.isArray(result)) {
    bump(dropped, 'notArray');
    return { instruments, dropped };
  }
  for (const row of result) {
    if (!isRecord(row) || typeof row.instrument_name !== 'string') {
      bump(dropped, 'malformed');
      continue;
    }
    if (row.kind !== 'option') {
      bump(dropped, 'notOption');
      continue;
    }
    const name = row.instrument_name;
    const p = parseAnyOptionName(name);
    if (!p) {
      bump(dropped, 'badName');
      continue;
    }
    if (p.underlying !== currency) {
      bump(dropped, 'currencyMismatch');
      continue;
    }
    const strike = row.strike;
    if (!finite(strike) || strike <= 0 || strike > MAX_PRICE_USD || Math.abs(strike - p.strike) > 1e-9 * strike) {
      bump(dropped, 'badStrike');
      continue;
    }
    const expiryMs = row.expiration_timestamp;
    if (!finite(expiryMs) || expiryMs !== p.expiryMs) {
      bump(dropped, 'badExpiry');
      continue;
    }
    const size = row.contract_size;
    if (!finite(size) || size <= 0 || size > 1e6) {
      bump(dropped, 'badContractSize');
      continue;
    }
    const ot = row.option_type;
    if ((ot !== 'call' && ot !== 'put') || (ot === 'call') !== p.isCall) {
      bump(dropped, 'badOptionType');
      continue;
    }
    // creation_timestamp here is the listing time (in the book summary it is the row's time)
    const created = row.creation_timestamp;
    const listedMs = finite(created) && created >= MIN_TS && created <= MAX_TS ? created : undefined;
    instruments.push({ venue: 'deribit', name, currency, strike, expiryMs, isCall: p.isCall, multiplier: size, ...(listedMs !== undefined && { listedMs }) });
  }
  return { instruments, dropped };
}

/**
 * `public/get_book_summary_by_currency {kind: "option"}` result -> line updates
 * (markIv = mark_iv / 100, forward = underlying_price, openInterest = open_interest in coin,
 * timestampMs = creation_timestamp). `indexPrice` is the `estimated_delivery_price` of the newest row.
 * A row with any implausible number is dropped whole, with the first reason found:
 * malformed, notOption, badTimestamp, badMarkIv, badForward, badOpenInterest.
 */
export function parseBookSummaryResult(result: unknown): {
  lines: OptionLineUpdate[];
  indexPrice: number | null;
  /** The row whose `estimated_delivery_price` is `indexPrice`. */
  indexRow: string | null;
  newestTimestampMs: number | null;
  dropped: Record<string, number>;
} {
  const dropped: Record<string, number> = {};
  const lines: OptionLineUpdate[] = [];
  let indexPrice: number | null = null;
  let indexRow: string | null = null;
  let newest: number | null = null;
  if (!Array.isArray(result)) {
    bump(dropped, 'notArray');
    return { lines, indexPrice, indexRow, newestTimestampMs: newest, dropped };
  }
  for (const row of result) {
    if (!isRecord(row) || typeof row.instrument_name !== 'string') {
      bump(dropped, 'malformed');
      continue;
    }
    const name = row.instrument_name;
    if (!parseAnyOptionName(name)) {
      bump(dropped, 'notOption');
      continue;
    }
    const ts = row.creation_timestamp;
    if (!finite(ts) || ts < MIN_TS || ts > MAX_TS) {
      bump(dropped, 'badTimestamp');
      continue;
    }
    const iv = row.mark_iv;
    if (!finite(iv) || iv <= 0 || iv / 100 > MAX_IV_DECIMAL) {
      bump(dropped, 'badMarkIv');
      continue;
    }
    const fwd = row.underlying_price;
    if (!finite(fwd) || fwd <= 0 || fwd > MAX_PRICE_USD) {
      bump(dropped, 'badForward');
      continue;
    }
    const oi = row.open_interest;
    if (!finite(oi) || oi < 0 || oi > MAX_OPEN_INTEREST) {
      bump(dropped, 'badOpenInterest');
      continue;
    }
    lines.push({ name, timestampMs: ts, markIv: iv / 100, forward: fwd, openInterest: oi });
    const idx = row.estimated_delivery_price;
    // the index of the newest row wins; "expired" (a string) or junk is simply not an index
    if (finite(idx) && idx > 0 && idx <= MAX_PRICE_USD && (newest === null || ts >= newest)) {
      indexPrice = idx;
      indexRow = name;
    }
    if (newest === null || ts > newest) newest = ts;
  }
  return { lines, indexPrice, indexRow, newestTimestampMs: newest, dropped };
}
