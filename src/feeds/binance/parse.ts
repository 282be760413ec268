/**
 * Binance frames (European options on the new fstream layout, USD-M perpetual) -> the chain model. Pure.
 *
 * Units (shared/feeds.md §4; greeks verified on the docs example and recorded frames):
 * - Options are USDT-margined (linear); one contract = `unit` underlyings (`u` in `!optionSymbol`,
 *   `unit` in exchangeInfo; 1 for BTC/ETH in every example seen, UNVERIFIED live). `mp` is per
 *   contract, OI `o` is contracts, so OI x multiplier(unit) = coin.
 * - `<underlying>@optionMarkPrice`: the whole chain every second; `vo` = mark IV DECIMAL ("-1.0" or
 *   0 = none), `i` = the spot index. Binance gives NO forward: its greeks use S = index and r = 0, so
 *   no ForwardUpdate is produced and lines carry no forward; the host uses the index.
 * - `<underlying>@optionOpenInterest@<YYMMDD>`: per expiry, every 60 s.
 * - Expiry: the symbol's YYMMDD at 08:00 UTC (the exchangeInfo docs example shows 00:00; every greek
 *   check needs 08:00; UNVERIFIED live).
 * - USD-M `markPriceUpdate`: `p` mark, `i` index, `r` funding rate per funding interval (8 h assumed:
 *   the stream does not carry the interval), `E` event time.
 * - USD-M partial depth `@depth20@100ms`: top 20 levels each push (a snapshot), sizes in coin.
 */
import type { Currency, OptionInstrument, OptionLineUpdate } from '../../chain/model.ts';
import type { DropReason } from '../frame-guard.ts';
import { isRecord } from '../frame-guard.ts';
import { MAX_IV_DECIMAL } from '../limits.ts';
import { readNonNegative, readNum, readPriceLevels, readPositive, readTsMs, yymmddAt0800 } from '../num.ts';

export interface BinanceOptionName {
  currency: Currency;
  /** YYMMDD as in the symbol and the OI stream name. */
  expiryCode: string;
  expiryMs: number;
  strike: number;
  isCall: boolean;
}

/** `BTC-251219-89000-C` -> parts; null otherwise. */
export function parseBinanceOptionName(symbol: string): BinanceOptionName | null {
  const m = /^(BTC|ETH)-(\d{6})-(\d+(?:\.\d+)?)-([CP])$/.exec(symbol);
  if (!m) return null;
  const expiryMs = yymmddAt0800(m[2]);
  const strike = Number(m[3]);
  if (expiryMs === null || !(strike > 0)) return null;
  return { currency: m[1] as Currency, expiryCode: m[2], expiryMs, strike, isCall: m[4] === 'C' };
}

export function binanceUnderlying(currency: Currency): string {
  return `${currency.toLowerCase()}usdt`;
}

export function binanceInstrument(name: BinanceOptionName, symbol: string, unit: number): OptionInstrument {
  return { venue: 'binance', name: symbol, currency: name.currency, strike: name.strike, expiryMs: name.expiryMs, isCall: name.isCall, multiplier: unit };
}

/** `GET /eapi/v1/exchangeInfo` body -> symbol -> unit (underlyings per contract) for one currency. */
export function parseBinanceExchangeInfo(body: unknown, currency: Currency): { units: Map<string, number>; drops: DropReason[]; error: string | null } {
  const units = new Map<string, number>();
  const drops: DropReason[] = [];
  if (!isRecord(body) || !Array.isArray(body.optionSymbols)) return { units, drops, error: 'malformed exchangeInfo body' };
  for (const row of body.optionSymbols) {
    if (!isRecord(row) || typeof row.symbol !== 'string') {
      drops.push('malformed');
      continue;
    }
    const name = parseBinanceOptionName(row.symbol);
    if (!name || name.currency !== currency) continue;
    const unit = readPositive(row.unit);
    const strike = readPositive(row.strikePrice);
    if (unit === null || strike === null || strike !== name.strike) {
      drops.push('badNumber');
      continue;
    }
    units.set(row.symbol, unit);
  }
  return { units, drops, error: null };
}

export interface BinanceMarkRow {
  name: BinanceOptionName;
  update: OptionLineUpdate;
}

export type BinanceMessage =
  | { kind: 'result'; id: number | null }
  | { kind: 'error'; code: number | null; message: string }
  | { kind: 'marks'; rows: BinanceMarkRow[]; index: { price: number; timestampMs: number } | null; drops: DropReason[] }
  | { kind: 'openInterest'; updates: OptionLineUpdate[]; drops: DropReason[] }
  | { kind: 'newSymbol'; symbol: string; name: BinanceOptionName; unit: number }
  | { kind: 'perpMark'; symbol: string; markPrice: number; indexPrice: number; funding8h: number | null; timestampMs: number }
  | { kind: 'depth'; symbol: string; bids: [string, string][]; asks: [string, string][]; timestampMs: number }
  /** One `<underlying>@optionTrade` event, parsed by ./trades.ts. */
  | { kind: 'trade'; event: unknown }
  | { kind: 'ignored' }
  | { kind: 'dropped'; reason: DropReason };

const dropped = (reason: DropReason): BinanceMessage => ({ kind: 'dropped', reason });

/** One parsed JSON frame of a combined stream (`{"stream","data"}`) or a request response. */
export function parseBinanceMessage(msg: unknown): BinanceMessage {
  if (!isRecord(msg)) return dropped('malformed');
  if ('result' in msg && 'id' in msg) return { kind: 'result', id: readNum(msg.id) };
  if (isRecord(msg.error)) return { kind: 'error', code: readNum(msg.error.code), message: String(msg.error.msg ?? '').slice(0, 300) };
  if (typeof msg.code === 'number' && typeof msg.msg === 'string') return { kind: 'error', code: msg.code, message: msg.msg.slice(0, 300) };
  if (typeof msg.stream !== 'string') return dropped('malformed');
  const stream = msg.stream;
  const data = msg.data;
  if (stream.endsWith('@optionMarkPrice')) return parseMarks(data);
  if (stream.includes('@optionOpenInterest@')) return parseOpenInterest(data);
  if (stream === '!optionSymbol') return parseNewSymbol(data);
  if (/@markPrice(@1s)?$/.test(stream)) return parsePerpMark(data);
  if (/@depth(5|10|20)(@\d+ms)?$/.test(stream)) return parseDepth(data);
  if (stream.endsWith('@optionTrade')) return { kind: 'trade', event: data };
  return dropped('unknownChannel');
}

function parseMarks(data: unknown): BinanceMessage {
  if (!Array.isArray(data)) return dropped('malformed');
  const rows: BinanceMarkRow[] = [];
  const drops: DropReason[] = [];
  let index: { price: number; timestampMs: number } | null = null;
  for (const r of data) {
    if (!isRecord(r) || typeof r.s !== 'string') {
      drops.push('malformed');
      continue;
    }
    const name = parseBinanceOptionName(r.s);
    if (!name) {
      drops.push('unknownInstrument');
      continue;
    }
    const ts = readTsMs(r.E);
    const vo = readNum(r.vo);
    const idx = readPositive(r.i);
    if (ts === null || vo === null || idx === null || vo > MAX_IV_DECIMAL) {
      drops.push('badNumber');
      continue;
    }
    if (!index || ts > index.timestampMs) index = { price: idx, timestampMs: ts };
    // "-1.0" (or 0) means no mark IV for that symbol right now: nothing to update, not an error.
    if (!(vo > 0)) continue;
    rows.push({ name, update: { name: r.s, timestampMs: ts, markIv: vo } });
  }
  return { kind: 'marks', rows, index, drops };
}

function parseOpenInterest(data: unknown): BinanceMessage {
  if (!Array.isArray(data)) return dropped('malformed');
  const updates: OptionLineUpdate[] = [];
  const drops: DropReason[] = [];
  for (const r of data) {
    if (!isRecord(r) || typeof r.s !== 'string') {
      drops.push('malformed');
      continue;
    }
    if (!parseBinanceOptionName(r.s)) {
      drops.push('unknownInstrument');
      continue;
    }
    const ts = readTsMs(r.E);
    const oi = readNonNegative(r.o);
    if (ts === null || oi === null) {
      drops.push('badNumber');
      continue;
    }
    updates.push({ name: r.s, timestampMs: ts, openInterest: oi });
  }
  return { kind: 'openInterest', updates, drops };
}

function parseNewSymbol(data: unknown): BinanceMessage {
  if (!isRecord(data) || typeof data.s !== 'string') return dropped('malformed');
  const name = parseBinanceOptionName(data.s);
  // The listing stream is market-wide: other coins' options are expected, not errors.
  if (!name) return /^[A-Z0-9]+-\d{6}-\d+(\.\d+)?-[CP]$/.test(data.s) ? { kind: 'ignored' } : dropped('unknownInstrument');
  const unit = readPositive(data.u);
  const strike = readPositive(data.sp);
  if (unit === null || strike === null) return dropped('badNumber');
  // The pushed strike must agree with the symbol's, or the row is not what it claims to be.
  if (strike !== name.strike) return dropped('malformed');
  return { kind: 'newSymbol', symbol: data.s, name, unit };
}

function parsePerpMark(data: unknown): BinanceMessage {
  if (!isRecord(data) || data.e !== 'markPriceUpdate' || typeof data.s !== 'string') return dropped('malformed');
  const mark = readPositive(data.p);
  const index = readPositive(data.i);
  const ts = readTsMs(data.E);
  if (mark === null || index === null || ts === null) return dropped('badNumber');
  // Delivery contracts send r: "" (no funding).
  let funding: number | null = null;
  if (data.r !== undefined && data.r !== '') {
    funding = readNum(data.r);
    if (funding === null || Math.abs(funding) > 0.1) return dropped('badNumber');
  }
  return { kind: 'perpMark', symbol: data.s, markPrice: mark, indexPrice: index, funding8h: funding, timestampMs: ts };
}


function parseDepth(data: unknown): BinanceMessage {
  if (!isRecord(data) || typeof data.s !== 'string') return dropped('malformed');
  const bids = readPriceLevels(data.b);
  const asks = readPriceLevels(data.a);
  const ts = readTsMs(data.E);
  if (bids === null || asks === null || ts === null) return dropped('badNumber');
  return { kind: 'depth', symbol: data.s, bids, asks, timestampMs: ts };
}
