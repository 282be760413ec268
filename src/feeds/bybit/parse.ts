/**
 * Bybit v5 public frames -> the normalised chain model. Pure.
 *
 * Units (shared/feeds.md §3, greeks verified on the recorded 2023 option tickers):
 * - Options are linear (USDC-settled `BTC-27DEC24-100000-C`, USDT-settled `...-C-USDT`), one
 *   contract = 1 underlying coin: multiplier 1, `openInterest` is coin.
 * - Option `tickers.{symbol}`: `markPriceIv` DECIMAL, `underlyingPrice` = the expiry's USD forward,
 *   `indexPrice` = spot index; snapshot-only pushes, envelope `ts` is the event time.
 * - Linear perpetual `tickers.{C}USDT`: snapshot then deltas with only the changed fields;
 *   `openInterest` is coin, documented as both sides; `singleOpenInterest` (added 2026-06-11) is one
 *   side, as Deribit and OKX count open interest, and is used when present; `fundingRate` per
 *   `fundingIntervalHour` (8 unless stated).
 * - `orderbook.{depth}.{C}USDT`: snapshot then deltas, sizes in coin.
 * - Expiry: `deliveryTime` (ms, 08:00 UTC); the symbol's date at 08:00 agrees.
 */
import type { Currency, ForwardUpdate, OptionInstrument, OptionLineUpdate } from '../../chain/model.ts';
import type { DropReason } from '../frame-guard.ts';
import { isRecord } from '../frame-guard.ts';
import { MAX_IV_DECIMAL } from '../limits.ts';
import { dMMMyyAt0800, readNonNegative, readNum, readPriceLevels, readPositive, readTsMs } from '../num.ts';

export interface BybitOptionName {
  currency: Currency;
  expiryMs: number;
  strike: number;
  isCall: boolean;
  /** USDC for the unsuffixed (original) family, else the suffix. */
  settle: 'USDC' | 'USDT';
}

/** `BTC-27DEC24-100000-C` or `BTC-13FEB25-89000-P-USDT` -> parts; null otherwise. */
export function parseBybitOptionName(symbol: string): BybitOptionName | null {
  const m = /^(BTC|ETH)-(\d{1,2}[A-Z]{3}\d{2})-(\d+(?:\.\d+)?)-([CP])(?:-(USDT|USDC))?$/.exec(symbol);
  if (!m) return null;
  const expiryMs = dMMMyyAt0800(m[2]);
  const strike = Number(m[3]);
  if (expiryMs === null || !(strike > 0)) return null;
  return { currency: m[1] as Currency, expiryMs, strike, isCall: m[4] === 'C', settle: m[5] === 'USDT' ? 'USDT' : 'USDC' };
}

export function bybitPerpSymbol(currency: Currency): string {
  return `${currency}USDT`;
}

export interface BybitInstrumentPage {
  list: OptionInstrument[];
  drops: DropReason[];
  /** Cursor of the next page, or null when this was the last. */
  nextCursor: string | null;
  error: string | null;
}

/** `GET /v5/market/instruments-info?category=option&baseCoin=C[&cursor=]` body -> one page. */
export function parseBybitInstruments(body: unknown, currency: Currency): BybitInstrumentPage {
  const drops: DropReason[] = [];
  if (!isRecord(body)) return { list: [], drops, nextCursor: null, error: 'malformed instruments body' };
  if (body.retCode !== 0) return { list: [], drops, nextCursor: null, error: `bybit error ${String(body.retCode)}: ${String(body.retMsg ?? '')}` };
  const result = body.result;
  if (!isRecord(result) || !Array.isArray(result.list)) return { list: [], drops, nextCursor: null, error: 'malformed instruments body' };
  const list: OptionInstrument[] = [];
  for (const row of result.list) {
    if (!isRecord(row) || typeof row.symbol !== 'string') {
      drops.push('malformed');
      continue;
    }
    if (row.status !== undefined && row.status !== 'Trading') continue;
    const name = parseBybitOptionName(row.symbol);
    if (!name || name.currency !== currency || (row.baseCoin !== undefined && row.baseCoin !== currency)) {
      drops.push('unknownInstrument');
      continue;
    }
    const expiryMs = readTsMs(row.deliveryTime);
    if (expiryMs === null) {
      drops.push('badNumber');
      continue;
    }
    const type = row.optionsType;
    if (type !== undefined && type !== (name.isCall ? 'Call' : 'Put')) {
      drops.push('malformed');
      continue;
    }
    // Bybit options are 1 underlying per contract (both settle families).
    list.push({ venue: 'bybit', name: row.symbol, currency, strike: name.strike, expiryMs, isCall: name.isCall, multiplier: 1 });
  }
  const cursor = typeof result.nextPageCursor === 'string' && result.nextPageCursor.length > 0 ? result.nextPageCursor : null;
  return { list, drops, nextCursor: cursor, error: null };
}

export interface BybitLinearTickerFields {
  markPrice?: number;
  indexPrice?: number;
  /** Per 8 h. */
  funding8h?: number;
  /** `singleOpenInterest`: one side, coin. */
  openInterestCoin?: number;
  /** `openInterest`: both sides, coin (used only when the venue sends no single side). */
  openInterestBothSides?: number;
  bid1?: number;
  ask1?: number;
}

export type BybitMessage =
  | { kind: 'pong' }
  | { kind: 'subscribed'; success: string[]; failed: string[] }
  | { kind: 'error'; message: string }
  | {
      kind: 'option';
      currency: Currency;
      update: OptionLineUpdate;
      forward: ForwardUpdate | null;
      indexPrice: number | null;
      timestampMs: number;
    }
  | { kind: 'linearTicker'; symbol: string; snapshot: boolean; fields: BybitLinearTickerFields; timestampMs: number }
  | { kind: 'book'; symbol: string; snapshot: boolean; bids: [string, string][]; asks: [string, string][]; updateId: number; timestampMs: number }
  /** A `publicTrade.{coin}` push of the option socket: its rows, parsed by ./trades.ts. */
  | { kind: 'trades'; currency: Currency; rows: unknown }
  | { kind: 'ignored' }
  | { kind: 'dropped'; reason: DropReason };

const dropped = (reason: DropReason): BybitMessage => ({ kind: 'dropped', reason });

export function parseBybitMessage(msg: unknown): BybitMessage {
  if (!isRecord(msg)) return dropped('malformed');
  // Pong: option socket `{"op":"pong","args":[ts]}`, linear socket `{"op":"ping","ret_msg":"pong",...}`.
  if (msg.op === 'pong' || (msg.op === 'ping' && msg.ret_msg === 'pong')) return { kind: 'pong' };
  if (msg.type === 'COMMAND_RESP' || msg.op === 'subscribe' || msg.op === 'unsubscribe') return parseAck(msg);
  if (typeof msg.topic !== 'string') return dropped('malformed');
  const ts = readTsMs(msg.ts);
  if (ts === null) return dropped('badNumber');
  const dot = msg.topic.indexOf('.');
  const head = dot < 0 ? msg.topic : msg.topic.slice(0, dot);
  if (head === 'tickers') {
    const symbol = msg.topic.slice(dot + 1);
    return symbol.includes('-') ? parseOptionTicker(symbol, msg.data, ts) : parseLinearTicker(symbol, msg.type, msg.data, ts);
  }
  if (head === 'orderbook') return parseBook(msg.type, msg.data, ts);
  if (head === 'publicTrade') {
    const coin = msg.topic.slice(dot + 1);
    return coin === 'BTC' || coin === 'ETH' ? { kind: 'trades', currency: coin, rows: msg.data } : dropped('unknownChannel');
  }
  return dropped('unknownChannel');
}

function parseAck(msg: Record<string, unknown>): BybitMessage {
  if (msg.op === 'unsubscribe') return { kind: 'ignored' };
  if (msg.success !== true) return { kind: 'error', message: typeof msg.ret_msg === 'string' ? msg.ret_msg.slice(0, 300) : 'subscribe failed' };
  const data = msg.data;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  if (isRecord(data)) return { kind: 'subscribed', success: strings(data.successTopics), failed: strings(data.failTopics) };
  // Linear acks do not list topics.
  return { kind: 'subscribed', success: [], failed: [] };
}

function parseOptionTicker(symbol: string, data: unknown, ts: number): BybitMessage {
  if (!isRecord(data) || data.symbol !== symbol) return dropped('malformed');
  const name = parseBybitOptionName(symbol);
  if (!name) return dropped('unknownInstrument');
  const iv = readPositive(data.markPriceIv);
  const fwd = readPositive(data.underlyingPrice);
  const oi = readNonNegative(data.openInterest);
  const idx = data.indexPrice === undefined ? null : readPositive(data.indexPrice);
  if (iv === null || iv > MAX_IV_DECIMAL || fwd === null || oi === null || (data.indexPrice !== undefined && idx === null)) return dropped('badNumber');
  return {
    kind: 'option',
    currency: name.currency,
    update: { name: symbol, timestampMs: ts, markIv: iv, forward: fwd, openInterest: oi },
    forward: { expiryMs: name.expiryMs, forward: fwd, timestampMs: ts },
    indexPrice: idx,
    timestampMs: ts,
  };
}

function parseLinearTicker(symbol: string, type: unknown, data: unknown, ts: number): BybitMessage {
  if (!isRecord(data) || data.symbol !== symbol || (type !== 'snapshot' && type !== 'delta')) return dropped('malformed');
  const fields: BybitLinearTickerFields = {};
  // A delta carries only changed fields: absent -> unchanged; present but bad -> the frame is dropped.
  const take = (key: string, read: (v: unknown) => number | null, set: (n: number) => void): boolean => {
    if (data[key] === undefined || data[key] === '') return true;
    const n = read(data[key]);
    if (n === null) return false;
    set(n);
    return true;
  };
  let interval = 8;
  const ok =
    take('markPrice', readPositive, (n) => (fields.markPrice = n)) &&
    take('indexPrice', readPositive, (n) => (fields.indexPrice = n)) &&
    take('singleOpenInterest', readNonNegative, (n) => (fields.openInterestCoin = n)) &&
    take('openInterest', readNonNegative, (n) => (fields.openInterestBothSides = n)) &&
    take('bid1Price', readPositive, (n) => (fields.bid1 = n)) &&
    take('ask1Price', readPositive, (n) => (fields.ask1 = n)) &&
    take('fundingIntervalHour', readPositive, (n) => (interval = n)) &&
    take('fundingRate', readNum, (n) => (fields.funding8h = n));
  if (!ok || interval > 24 || (fields.funding8h !== undefined && Math.abs(fields.funding8h) > 0.1)) return dropped('badNumber');
  if (fields.funding8h !== undefined) fields.funding8h = (fields.funding8h * 8) / interval;
  return { kind: 'linearTicker', symbol, snapshot: type === 'snapshot', fields, timestampMs: ts };
}


function parseBook(type: unknown, data: unknown, ts: number): BybitMessage {
  if (!isRecord(data) || typeof data.s !== 'string' || (type !== 'snapshot' && type !== 'delta')) return dropped('malformed');
  const bids = readPriceLevels(data.b);
  const asks = readPriceLevels(data.a);
  const u = readNum(data.u);
  if (bids === null || asks === null || u === null) return dropped('badNumber');
  // u = 1 is a fresh snapshot after a service restart, even when typed as delta.
  return { kind: 'book', symbol: data.s, snapshot: type === 'snapshot' || u === 1, bids, asks, updateId: u, timestampMs: ts };
}
