/**
 * Pure parsers from Deribit websocket frames (already JSON-parsed by frame-guard) to the chain model.
 * Each returns the data or a drop reason; nothing throws. Units are converted here, once:
 * - `markprice.options.*` carries `iv` as a DECIMAL (0.3706); `ticker.*` carries `mark_iv` in PERCENT.
 * - option `ticker.*` `underlying_price` is the forward of that instrument's expiry.
 * - the inverse perpetual's `open_interest` is USD: coin = USD / mark_price.
 * Bounds: non-finite numbers, negative OI, iv <= 0 or > 1000 %, prices <= 0 are dropped (badNumber).
 */
import type { Currency, OptionLineUpdate, TapeTrade } from '../../chain/model.ts';
import {
  countDrop,
  drop,
  isRecord,
  ok,
  readNumber,
  readOptionalNumber,
  readPrice,
  readString,
  readTimestampMs,
  type DropReason,
  type Read,
} from '../frame-guard.ts';
import { MAX_IV_DECIMAL } from '../limits.ts';
import { parseBookData, type BookData } from './book.ts';
import { parseOptionName, unwrapJsonRpc } from './rest.ts';
import { parseTrades } from './trades.ts';

/** Rows in one markprice.options frame beyond which it is dropped (the whole BTC chain is ~1,000). */
export const MAX_MARKPRICE_ROWS = 20_000;

export interface DeribitPerpTicker {
  instrument: string;
  currency: Currency;
  timestampMs: number;
  markPrice: number;
  indexPrice: number;
  /** Fraction per 8 h. */
  funding8h: number | null;
  currentFunding: number | null;
  openInterestCoin: number | null;
  bestBid: number | null;
  bestAsk: number | null;
}

export interface DeribitOptionTicker {
  name: string;
  currency: Currency;
  expiryMs: number;
  strike: number;
  isCall: boolean;
  timestampMs: number;
  /** `state: closed` or `estimated_delivery_price: "expired"`: the instrument has expired; no figures. */
  expired: boolean;
  /** Null when expired. */
  update: OptionLineUpdate | null;
}

export type DeribitMessage =
  | { kind: 'heartbeat'; testRequest: boolean }
  | { kind: 'response'; id: number | null; result: unknown }
  | { kind: 'error'; id: number | null; code: number | null; message: string }
  | { kind: 'markprice'; currency: Currency; updates: OptionLineUpdate[]; dropped: Record<string, number> }
  | { kind: 'index'; currency: Currency; price: number; timestampMs: number }
  | { kind: 'optionTicker'; ticker: DeribitOptionTicker }
  | { kind: 'perpTicker'; ticker: DeribitPerpTicker }
  | { kind: 'book'; channel: string; book: BookData }
  | { kind: 'instrumentState'; name: string; state: string; timestampMs: number }
  /** `trades.option.{CURRENCY}.{interval}`: the currency's public option trades (./trades.ts). */
  | { kind: 'trades'; currency: Currency; trades: TapeTrade[]; dropped: Record<string, number> };

export function isCurrency(c: string): c is Currency {
  return c === 'BTC' || c === 'ETH';
}

/** `btc_usd` -> BTC. Only the indices gexdesk values. */
export function currencyOfIndex(indexName: string): Currency | null {
  if (indexName === 'btc_usd') return 'BTC';
  if (indexName === 'eth_usd') return 'ETH';
  return null;
}

export function indexNameOf(currency: Currency): string {
  return currency === 'BTC' ? 'btc_usd' : 'eth_usd';
}

/** `BTC-PERPETUAL` -> BTC (inverse perps only; `BTC_USDC-PERPETUAL` is linear and not ours). */
export function currencyOfPerp(instrument: string): Currency | null {
  if (instrument === 'BTC-PERPETUAL') return 'BTC';
  if (instrument === 'ETH-PERPETUAL') return 'ETH';
  return null;
}

/** Decimal implied vol within (0, 10]. */
function checkIv(iv: number): boolean {
  return iv > 0 && iv <= MAX_IV_DECIMAL;
}

/** `markprice.options.{index}` data: an array of rows; bad rows are dropped one by one. */
export function parseMarkprice(currency: Currency, data: unknown): Read<DeribitMessage> {
  if (!Array.isArray(data)) return drop('malformed');
  if (data.length > MAX_MARKPRICE_ROWS) return drop('oversize');
  const updates: OptionLineUpdate[] = [];
  const dropped: Record<string, number> = {};
  for (const row of data) {
    const r = parseMarkpriceRow(row);
    if (r.ok) updates.push(r.value);
    else countDrop(dropped, r.reason);
  }
  return ok({ kind: 'markprice', currency, updates, dropped });
}

function parseMarkpriceRow(row: unknown): Read<OptionLineUpdate> {
  if (!isRecord(row)) return drop('malformed');
  const name = readString(row, 'instrument_name');
  if (!name.ok) return name;
  const ts = readTimestampMs(row, 'timestamp');
  if (!ts.ok) return ts;
  const iv = readNumber(row, 'iv');
  if (!iv.ok) return iv;
  if (!checkIv(iv.value)) return drop('badNumber');
  // mark_price is not used, but a garbage one says the row is garbage.
  const mark = readOptionalNumber(row, 'mark_price', { ge: 0 });
  if (!mark.ok) return mark;
  return ok({ name: name.value, timestampMs: ts.value, markIv: iv.value });
}

/** `deribit_price_index.{index}` data. */
export function parseIndex(expected: Currency, data: unknown): Read<DeribitMessage> {
  if (!isRecord(data)) return drop('malformed');
  const name = readString(data, 'index_name');
  if (!name.ok) return name;
  if (currencyOfIndex(name.value) !== expected) return drop('malformed');
  const price = readPrice(data, 'price');
  if (!price.ok) return price;
  const ts = readTimestampMs(data, 'timestamp');
  if (!ts.ok) return ts;
  return ok({ kind: 'index', currency: expected, price: price.value, timestampMs: ts.value });
}

/** Option `ticker.{name}.{interval}` data: forward, mark IV (percent -> decimal), open interest. */
export function parseOptionTicker(channelInstrument: string, data: unknown): Read<DeribitMessage> {
  const parsed = parseOptionName(channelInstrument);
  // Linear USDC options and other currencies parse as names but are not the inverse chain we value.
  if (!parsed || !isCurrency(parsed.currency)) return drop('unknownInstrument');
  if (!isRecord(data)) return drop('malformed');
  const name = readString(data, 'instrument_name');
  if (!name.ok) return name;
  if (name.value !== channelInstrument) return drop('malformed');
  const ts = readTimestampMs(data, 'timestamp');
  if (!ts.ok) return ts;
  const base = {
    name: name.value,
    currency: parsed.currency,
    expiryMs: parsed.expiryMs,
    strike: parsed.strike,
    isCall: parsed.isCall,
    timestampMs: ts.value,
  };
  if (data.estimated_delivery_price === 'expired' || data.state === 'closed') {
    return ok({ kind: 'optionTicker', ticker: { ...base, expired: true, update: null } });
  }
  const fwd = readPrice(data, 'underlying_price');
  if (!fwd.ok) return fwd;
  const ivPct = readNumber(data, 'mark_iv');
  if (!ivPct.ok) return ivPct;
  const iv = ivPct.value / 100;
  if (!checkIv(iv)) return drop('badNumber');
  const oi = readNumber(data, 'open_interest', { ge: 0 });
  if (!oi.ok) return oi;
  return ok({
    kind: 'optionTicker',
    ticker: {
      ...base,
      expired: false,
      update: { name: name.value, timestampMs: ts.value, markIv: iv, forward: fwd.value, openInterest: oi.value },
    },
  });
}

/** `ticker.{C}-PERPETUAL.{interval}` data (inverse perp: OI in USD -> coin via mark). */
export function parsePerpTicker(channelInstrument: string, data: unknown): Read<DeribitMessage> {
  const currency = currencyOfPerp(channelInstrument);
  if (!currency) return drop('unknownInstrument');
  if (!isRecord(data)) return drop('malformed');
  const name = readString(data, 'instrument_name');
  if (!name.ok) return name;
  if (name.value !== channelInstrument) return drop('malformed');
  const ts = readTimestampMs(data, 'timestamp');
  if (!ts.ok) return ts;
  const mark = readPrice(data, 'mark_price');
  if (!mark.ok) return mark;
  const index = readPrice(data, 'index_price');
  if (!index.ok) return index;
  // Funding is a small signed fraction; |rate| > 1 per 8 h is nonsense.
  const f8 = readOptionalNumber(data, 'funding_8h', { ge: -1, le: 1 });
  if (!f8.ok) return f8;
  const cf = readOptionalNumber(data, 'current_funding', { ge: -1, le: 1 });
  if (!cf.ok) return cf;
  const oiUsd = readOptionalNumber(data, 'open_interest', { ge: 0 });
  if (!oiUsd.ok) return oiUsd;
  const bid = readOptionalNumber(data, 'best_bid_price', { ge: 0 });
  if (!bid.ok) return bid;
  const ask = readOptionalNumber(data, 'best_ask_price', { ge: 0 });
  if (!ask.ok) return ask;
  return ok({
    kind: 'perpTicker',
    ticker: {
      instrument: name.value,
      currency,
      timestampMs: ts.value,
      markPrice: mark.value,
      indexPrice: index.value,
      funding8h: f8.value,
      currentFunding: cf.value,
      openInterestCoin: oiUsd.value === null ? null : oiUsd.value / mark.value,
      // Deribit sends 0 for an empty side.
      bestBid: bid.value ? bid.value : null,
      bestAsk: ask.value ? ask.value : null,
    },
  });
}

/** `instrument.state.{kind}.{currency}` data: `{timestamp, state, instrument_name}`. */
export function parseInstrumentState(data: unknown): Read<DeribitMessage> {
  if (!isRecord(data)) return drop('malformed');
  const name = readString(data, 'instrument_name');
  if (!name.ok) return name;
  const state = readString(data, 'state', 32);
  if (!state.ok) return state;
  const ts = readTimestampMs(data, 'timestamp');
  if (!ts.ok) return ts;
  return ok({ kind: 'instrumentState', name: name.value, state: state.value, timestampMs: ts.value });
}

/** A `subscription` notification, routed by channel. */
export function parseNotification(channel: string, data: unknown): Read<DeribitMessage> {
  const parts = channel.split('.');
  switch (parts[0]) {
    case 'markprice': {
      if (parts.length !== 3 || parts[1] !== 'options') return drop('unknownChannel');
      const c = currencyOfIndex(parts[2]);
      return c ? parseMarkprice(c, data) : drop('unknownChannel');
    }
    case 'deribit_price_index': {
      const c = parts.length === 2 ? currencyOfIndex(parts[1]) : null;
      return c ? parseIndex(c, data) : drop('unknownChannel');
    }
    case 'ticker': {
      if (parts.length !== 3) return drop('unknownChannel');
      const inst = parts[1];
      return inst.endsWith('-PERPETUAL') || inst.endsWith('_PERP') ? parsePerpTicker(inst, data) : parseOptionTicker(inst, data);
    }
    case 'book': {
      if (parts.length !== 3 && parts.length !== 5) return drop('unknownChannel');
      const b = parseBookData(data);
      if (!b.ok) return b;
      if (b.value.instrument !== parts[1]) return drop('malformed');
      return ok({ kind: 'book', channel, book: b.value });
    }
    case 'instrument':
      return parts.length === 4 && parts[1] === 'state' ? parseInstrumentState(data) : drop('unknownChannel');
    case 'trades': {
      if (parts.length !== 4 || parts[1] !== 'option' || !isCurrency(parts[2])) return drop('unknownChannel');
      if (!Array.isArray(data)) return drop('malformed');
      const dropped: Record<string, number> = {};
      return ok({ kind: 'trades', currency: parts[2], trades: parseTrades(data, parts[2], dropped), dropped });
    }
    default:
      return drop('unknownChannel');
  }
}

function readId(frame: Record<string, unknown>): number | null {
  return typeof frame.id === 'number' && Number.isFinite(frame.id) ? frame.id : null;
}

/**
 * Classifies one parsed frame: heartbeat, RPC response or error, or a notification's data.
 * Responses keep the raw `result`; the caller routes them by `id` to the REST result parsers.
 */
export function parseDeribitFrame(frame: unknown): Read<DeribitMessage> {
  if (!isRecord(frame)) return drop('malformed');
  if (frame.jsonrpc !== undefined && frame.jsonrpc !== '2.0') return drop('malformed');
  const method = frame.method;
  if (method === 'heartbeat') {
    const params = frame.params;
    if (!isRecord(params)) return drop('malformed');
    if (params.type === 'test_request') return ok({ kind: 'heartbeat', testRequest: true });
    if (params.type === 'heartbeat') return ok({ kind: 'heartbeat', testRequest: false });
    return drop('malformed');
  }
  if (method === 'subscription') {
    const params = frame.params;
    if (!isRecord(params)) return drop('malformed');
    const channel = readString(params, 'channel');
    if (!channel.ok) return channel;
    return parseNotification(channel.value, params.data);
  }
  if (method !== undefined) return drop('unknownChannel');
  const r = unwrapJsonRpc(frame);
  if (r.ok) return ok({ kind: 'response', id: r.id, result: r.result });
  // unwrapJsonRpc also says no for shapes that are neither a result nor an error.
  if (!('error' in frame)) return drop('malformed');
  return ok({ kind: 'error', id: readId(frame), code: r.code, message: r.message });
}

export type { DropReason };
