/**
 * OKX v5 public frames -> the normalised chain model. Pure: no sockets, no clock.
 *
 * Units (shared/feeds.md §2, verified on the recorded 2023 opt-summary push and 2022 instrument lists):
 * - Two option families per coin: the coin-margined `C-USD` (inverse, coin-settled; instIds
 *   `BTC-USD-261225-100000-C`) and, since 2025, the USD-margined `C-USD_UM` (settled in USD stablecoins;
 *   `BTC-USD_UM-261225-100000-C`). Both are options on the same `C-USD` index, so their lines are summed
 *   side by side. One contract = ctVal x ctMult coin from the instruments answer (the coin family:
 *   1 x 0.1 = 0.1 BTC); `multiplier` carries that, so OI(contracts) x multiplier = coin.
 * - `open-interest` pushes `oi` (contracts) and `oiCcy` (coin). The 2022 ETH instrument list says
 *   ctMult 1 while ETH OI pushes of 2021 and 2023 have oiCcy = oi x 0.1, so the coin figure is the one
 *   trusted: openInterest is emitted as oiCcy / multiplier, and a disagreement is reported.
 * - `opt-summary`: markVol is DECIMAL, fwdPx is the USD forward of the row's expiry (one per expiry).
 * - Expiry 08:00 UTC (`expTime`; the instId's YYMMDD at 08:00 agrees).
 * - Perpetual `C-USDT-SWAP` is linear, sizes in contracts of ctVal coin (BTC 0.01, ETH 0.1);
 *   `open-interest` oiCcy is coin. Funding is per funding interval (8 h unless the push says otherwise).
 */
import type { Currency, ForwardUpdate, OptionInstrument, OptionLineUpdate } from '../../chain/model.ts';
import type { DropReason } from '../frame-guard.ts';
import { isRecord } from '../frame-guard.ts';
import { MAX_IV_DECIMAL } from '../limits.ts';
import { readNonNegative, readNum, readPriceLevels, readPositive, readTsMs, yymmddAt0800 } from '../num.ts';
import type { Level } from '../level-book.ts';

const EIGHT_HOURS_MS = 8 * 3_600_000;

export interface OkxOptionName {
  currency: Currency;
  /** e.g. BTC-USD, BTC-USD_UM */
  family: string;
  expiryMs: number;
  strike: number;
  isCall: boolean;
}

/** `BTC-USD-231229-40000-P`, `BTC-USD_UM-261225-100000-C` -> parts; null for anything else (swaps, futures, other coins). */
export function parseOkxOptionName(name: string): OkxOptionName | null {
  const m = /^(BTC|ETH)-(USD|USDC|USD_UM)-(\d{6})-(\d+(?:\.\d+)?)-([CP])$/.exec(name);
  if (!m) return null;
  const expiryMs = yymmddAt0800(m[3]);
  const strike = Number(m[4]);
  if (expiryMs === null || !(strike > 0)) return null;
  return { currency: m[1] as Currency, family: `${m[1]}-${m[2]}`, expiryMs, strike, isCall: m[5] === 'C' };
}

/** The coin-margined option family of a currency. */
export function okxFamily(currency: Currency): string {
  return `${currency}-USD`;
}

/** The option families charted per currency, summed: coin-margined first, then USD-margined. */
export function okxFamilies(currency: Currency): string[] {
  return [`${currency}-USD`, `${currency}-USD_UM`];
}

/** The currency of a charted family (`BTC-USD`, `BTC-USD_UM`), or null. */
export function okxFamilyCurrency(family: unknown): Currency | null {
  const m = typeof family === 'string' ? /^(BTC|ETH)-USD(?:_UM)?$/.exec(family) : null;
  return m ? (m[1] as Currency) : null;
}

/** The perpetual used for the hedge side: the linear USDT swap (the most traded one). */
export function okxPerpId(currency: Currency): string {
  return `${currency}-USDT-SWAP`;
}

export interface ParsedList<T> {
  list: T[];
  drops: DropReason[];
  /** Set when the body is not a successful OKX response at all. */
  error: string | null;
  /** The error is OKX's own answer (an error code), not a malformed body. */
  refused?: boolean;
}

/**
 * `GET /api/v5/public/instruments?instType=OPTION&instFamily=F` body -> the instruments of family F
 * (default the coin-margined `C-USD`), each with its family and settlement currency. Contract size
 * (ctVal x ctMult) must be in the coin. Rows that fail validation are dropped with a reason, never thrown.
 */
export function parseOkxOptionInstruments(body: unknown, currency: Currency, family = okxFamily(currency)): ParsedList<OptionInstrument> {
  const drops: DropReason[] = [];
  if (!isRecord(body) || !Array.isArray(body.data)) return { list: [], drops, error: 'malformed instruments body' };
  if (body.code !== '0' && body.code !== 0) return { list: [], drops, error: `okx error ${String(body.code)}: ${String(body.msg ?? '')}`, refused: true };
  const list: OptionInstrument[] = [];
  for (const row of body.data) {
    if (!isRecord(row) || typeof row.instId !== 'string') {
      drops.push('malformed');
      continue;
    }
    if (row.instType !== 'OPTION' || (row.state !== undefined && row.state !== 'live' && row.state !== 'suspend')) continue;
    const name = parseOkxOptionName(row.instId);
    if (!name || name.currency !== currency || name.family !== family) {
      drops.push('unknownInstrument');
      continue;
    }
    const strike = readPositive(row.stk);
    const expiryMs = readTsMs(row.expTime);
    const ctVal = readPositive(row.ctVal);
    const ctMult = readPositive(row.ctMult);
    // The contract must be denominated in the coin, or multiplier would not be "coin per contract".
    if (strike === null || expiryMs === null || ctVal === null || ctMult === null || row.ctValCcy !== currency) {
      drops.push('badNumber');
      continue;
    }
    if (row.optType !== 'C' && row.optType !== 'P') {
      drops.push('malformed');
      continue;
    }
    list.push({
      venue: 'okx',
      name: row.instId,
      currency,
      strike,
      expiryMs,
      isCall: row.optType === 'C',
      multiplier: ctVal * ctMult,
      family,
      settleCurrency: typeof row.settleCcy === 'string' && row.settleCcy !== '' ? row.settleCcy.slice(0, 12) : undefined,
    });
  }
  return { list, drops, error: null };
}

export interface OkxSwapSpec {
  instId: string;
  /** Coin per contract (linear swaps: ctVal in ctValCcy = the coin). */
  coinPerContract: number;
}

/** `GET /api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP` body -> contract size in coin. */
export function parseOkxSwapSpec(body: unknown, instId: string, currency: Currency): OkxSwapSpec | null {
  if (!isRecord(body) || !Array.isArray(body.data)) return null;
  for (const row of body.data) {
    if (!isRecord(row) || row.instId !== instId) continue;
    const ctVal = readPositive(row.ctVal);
    const ctMult = readPositive(row.ctMult) ?? 1;
    // Only a linear contract in coin is handled; an inverse (USD) contract needs a price to convert.
    if (ctVal === null || row.ctType !== 'linear' || row.ctValCcy !== currency) return null;
    return { instId, coinPerContract: ctVal * ctMult };
  }
  return null;
}

export type OkxMessage =
  | { kind: 'subscribed'; channel: string }
  | { kind: 'error'; code: number | null; message: string }
  /** event:notice, e.g. 64008 "service upgrade: reconnect" 30 s before the server closes. */
  | { kind: 'notice'; code: number | null; message: string }
  | {
      kind: 'options';
      currency: Currency;
      updates: OptionLineUpdate[];
      forwards: ForwardUpdate[];
      drops: DropReason[];
      /**
       * Instruments whose oiCcy/oi disagrees with ctVal x ctMult (the coin figure was used), with the coin
       * per contract the push showed (null when it cannot tell: oi 0 beside a non-zero oiCcy).
       */
      multiplierMismatch: { name: string; coinPerContract: number | null }[];
    }
  /** An `option-trades` push of a charted family: its rows, parsed by ./trades.ts. */
  | { kind: 'trades'; currency: Currency; family: string; rows: unknown[] }
  | { kind: 'index'; instId: string; price: number; timestampMs: number }
  | { kind: 'perpMark'; instId: string; markPrice: number; timestampMs: number }
  | { kind: 'perpFunding'; instId: string; funding8h: number; timestampMs: number }
  | { kind: 'perpOi'; instId: string; oiCoin: number; timestampMs: number }
  | {
      kind: 'book';
      instId: string;
      action: 'snapshot' | 'update';
      bids: [string, string][];
      asks: [string, string][];
      timestampMs: number;
      checksum: number | null;
      seqId: number | null;
      prevSeqId: number | null;
    }
  | { kind: 'ignored' }
  | { kind: 'dropped'; reason: DropReason };

export interface OkxParseContext {
  /** Option instId -> coin per contract, from the instruments REST call. */
  multipliers: ReadonlyMap<string, number>;
}

const dropped = (reason: DropReason): OkxMessage => ({ kind: 'dropped', reason });

/** One parsed JSON frame -> what it means. The literal text `pong` is handled before JSON by the client. */
export function parseOkxMessage(msg: unknown, ctx: OkxParseContext): OkxMessage {
  if (!isRecord(msg)) return dropped('malformed');
  if (typeof msg.event === 'string') return parseEvent(msg);
  const arg = msg.arg;
  if (!isRecord(arg) || typeof arg.channel !== 'string' || !Array.isArray(msg.data)) return dropped('malformed');
  switch (arg.channel) {
    case 'opt-summary':
      return parseOptSummary(arg, msg.data);
    case 'open-interest':
      return parseOpenInterest(msg.data, ctx);
    case 'index-tickers':
      return parseIndex(msg.data);
    case 'mark-price':
      return parseMark(msg.data);
    case 'funding-rate':
      return parseFunding(msg.data);
    case 'books':
      return parseBook(arg, msg.action, msg.data);
    case 'option-trades': {
      const currency = okxFamilyCurrency(arg.instFamily);
      return currency === null ? dropped('unknownInstrument') : { kind: 'trades', currency, family: arg.instFamily as string, rows: msg.data };
    }
    default:
      return dropped('unknownChannel');
  }
}

function parseEvent(msg: Record<string, unknown>): OkxMessage {
  const code = msg.code === undefined ? null : readNum(msg.code);
  const message = typeof msg.msg === 'string' ? msg.msg.slice(0, 300) : '';
  switch (msg.event) {
    case 'subscribe':
      return isRecord(msg.arg) && typeof msg.arg.channel === 'string' ? { kind: 'subscribed', channel: msg.arg.channel } : dropped('malformed');
    case 'unsubscribe':
      return { kind: 'ignored' };
    case 'error':
      return { kind: 'error', code, message };
    case 'notice':
      return { kind: 'notice', code, message };
    default:
      // e.g. channel-conn-count: informational.
      return { kind: 'ignored' };
  }
}

function parseOptSummary(arg: Record<string, unknown>, data: unknown[]): OkxMessage {
  // The 2021 protocol keyed the family as `uly`, the current one as `instFamily`.
  const family = typeof arg.instFamily === 'string' ? arg.instFamily : typeof arg.uly === 'string' ? arg.uly : null;
  const currency = okxFamilyCurrency(family);
  if (currency === null) return dropped('unknownInstrument');
  const updates: OptionLineUpdate[] = [];
  const forwards = new Map<number, ForwardUpdate>();
  const drops: DropReason[] = [];
  for (const row of data) {
    if (!isRecord(row) || typeof row.instId !== 'string') {
      drops.push('malformed');
      continue;
    }
    const name = parseOkxOptionName(row.instId);
    if (!name || name.currency !== currency || name.family !== family) {
      drops.push('unknownInstrument');
      continue;
    }
    const ts = readTsMs(row.ts);
    const iv = readPositive(row.markVol);
    // fwdPx is absent in 2021 pushes (then the forward comes from elsewhere); present but bad drops the row.
    const fwd = row.fwdPx === undefined ? undefined : readPositive(row.fwdPx);
    if (ts === null || iv === null || iv > MAX_IV_DECIMAL || fwd === null) {
      drops.push('badNumber');
      continue;
    }
    if (fwd === undefined) {
      updates.push({ name: row.instId, timestampMs: ts, markIv: iv });
      continue;
    }
    updates.push({ name: row.instId, timestampMs: ts, markIv: iv, forward: fwd });
    const prev = forwards.get(name.expiryMs);
    if (!prev || prev.timestampMs < ts) forwards.set(name.expiryMs, { expiryMs: name.expiryMs, forward: fwd, timestampMs: ts });
  }
  return { kind: 'options', currency, updates, forwards: [...forwards.values()], drops, multiplierMismatch: [] };
}

function parseOpenInterest(data: unknown[], ctx: OkxParseContext): OkxMessage {
  const row = data[0];
  if (data.length !== 1 || !isRecord(row) || typeof row.instId !== 'string') return dropped('malformed');
  const ts = readTsMs(row.ts);
  const oi = readNonNegative(row.oi);
  const oiCcy = row.oiCcy === undefined ? null : readNonNegative(row.oiCcy);
  if (ts === null || oi === null || (row.oiCcy !== undefined && oiCcy === null)) return dropped('badNumber');
  if (row.instType === 'SWAP') {
    if (oiCcy === null) return dropped('malformed');
    return { kind: 'perpOi', instId: row.instId, oiCoin: oiCcy, timestampMs: ts };
  }
  const name = parseOkxOptionName(row.instId);
  if (!name) return dropped('unknownInstrument');
  const multiplier = ctx.multipliers.get(row.instId);
  if (multiplier === undefined) return dropped('unknownInstrument');
  let contracts = oi;
  const multiplierMismatch: { name: string; coinPerContract: number | null }[] = [];
  if (oiCcy !== null && (oi === 0 ? oiCcy !== 0 : Math.abs(oiCcy / oi - multiplier) > 0.01 * multiplier)) {
    // Coin is what GEX needs: express it in contracts of the listed multiplier so OI x multiplier = oiCcy.
    contracts = oiCcy / multiplier;
    multiplierMismatch.push({ name: row.instId, coinPerContract: oi > 0 ? oiCcy / oi : null });
  }
  return {
    kind: 'options',
    currency: name.currency,
    updates: [{ name: row.instId, timestampMs: ts, openInterest: contracts }],
    forwards: [],
    drops: [],
    multiplierMismatch,
  };
}

function parseIndex(data: unknown[]): OkxMessage {
  const row = data[0];
  if (!isRecord(row) || typeof row.instId !== 'string') return dropped('malformed');
  const price = readPositive(row.idxPx);
  const ts = readTsMs(row.ts);
  if (price === null || ts === null) return dropped('badNumber');
  return { kind: 'index', instId: row.instId, price, timestampMs: ts };
}

function parseMark(data: unknown[]): OkxMessage {
  const row = data[0];
  if (!isRecord(row) || typeof row.instId !== 'string') return dropped('malformed');
  // Option marks (coin) are not used: we price from markVol and the forward.
  if (row.instType !== 'SWAP') return { kind: 'ignored' };
  const price = readPositive(row.markPx);
  const ts = readTsMs(row.ts);
  if (price === null || ts === null) return dropped('badNumber');
  return { kind: 'perpMark', instId: row.instId, markPrice: price, timestampMs: ts };
}

function parseFunding(data: unknown[]): OkxMessage {
  const row = data[0];
  if (!isRecord(row) || typeof row.instId !== 'string') return dropped('malformed');
  // A push may carry only nextFundingRate (recorded: SOS-USDT-SWAP); no current rate, nothing to use.
  if (row.fundingRate === undefined || row.fundingRate === '') return { kind: 'ignored' };
  const rate = readNum(row.fundingRate);
  const fundingTime = readTsMs(row.fundingTime);
  if (rate === null || Math.abs(rate) > 0.1 || fundingTime === null) return dropped('badNumber');
  const next = row.nextFundingTime === undefined ? null : readTsMs(row.nextFundingTime);
  const interval = next !== null ? next - fundingTime : EIGHT_HOURS_MS;
  // Rates are per funding interval; the model wants per 8 h. Assume 8 h when the push does not say.
  const intervalMs = interval >= 3_600_000 && interval <= 24 * 3_600_000 ? interval : EIGHT_HOURS_MS;
  const ts = readTsMs(row.ts) ?? fundingTime;
  return { kind: 'perpFunding', instId: row.instId, funding8h: (rate * EIGHT_HOURS_MS) / intervalMs, timestampMs: ts };
}


function parseBook(arg: Record<string, unknown>, action: unknown, data: unknown[]): OkxMessage {
  const row = data[0];
  if (typeof arg.instId !== 'string' || data.length !== 1 || !isRecord(row)) return dropped('malformed');
  if (action !== 'snapshot' && action !== 'update') return dropped('malformed');
  const bids = readPriceLevels(row.bids);
  const asks = readPriceLevels(row.asks);
  const ts = readTsMs(row.ts);
  if (bids === null || asks === null || ts === null) return dropped('badNumber');
  // 0 is "no checksum": OKX sends it on every frame since 23 June 2026 (the seqId chain is the check).
  const checksum = typeof row.checksum === 'number' && Number.isInteger(row.checksum) && row.checksum !== 0 ? row.checksum : null;
  const seqId = typeof row.seqId === 'number' && Number.isInteger(row.seqId) ? row.seqId : null;
  const prevSeqId = typeof row.prevSeqId === 'number' && Number.isInteger(row.prevSeqId) ? row.prevSeqId : null;
  return { kind: 'book', instId: arg.instId, action, bids, asks, timestampMs: ts, checksum, seqId, prevSeqId };
}

export interface OkxBookSnapshot {
  bids: [string, string][];
  asks: [string, string][];
  timestampMs: number;
  /** The book's seqId, which the next pushed update continues; null when the answer carries none. */
  seqId: number | null;
}

/**
 * `GET /api/v5/market/books?instId=...&sz=N` body -> the snapshot the pushed `books` updates chain onto,
 * or the reason it cannot be used (shown to the user, counted as a failed snapshot request).
 */
export function parseOkxBookSnapshot(body: unknown): { snapshot: OkxBookSnapshot } | { error: string } {
  if (!isRecord(body) || !Array.isArray(body.data)) return { error: 'malformed books body' };
  if (body.code !== '0' && body.code !== 0) return { error: `okx error ${String(body.code)}: ${String(body.msg ?? '').slice(0, 120)}` };
  const row = body.data[0];
  if (body.data.length !== 1 || !isRecord(row)) return { error: 'malformed books body' };
  const bids = readPriceLevels(row.bids);
  const asks = readPriceLevels(row.asks);
  const ts = readTsMs(row.ts);
  if (bids === null || asks === null || ts === null) return { error: 'books snapshot with bad numbers' };
  const seqId = typeof row.seqId === 'number' && Number.isInteger(row.seqId) ? row.seqId : readSeqText(row.seqId);
  return { snapshot: { bids, asks, timestampMs: ts, seqId } };
}

function readSeqText(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{1,18}$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

let crcTable: Int32Array | null = null;
function crc32(text: string): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < text.length; i++) {
    // Book strings are ASCII digits, '.', ':' and '-', so UTF-16 units are the UTF-8 bytes.
    crc = crcTable[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ -1) | 0;
}

/**
 * OKX book checksum: CRC32 (signed 32-bit) of the best 25 bids and asks interleaved as
 * `bidPx:bidSz:askPx:askSz:...`, continuing with the longer side when one runs out. Uses the
 * venue's original strings. A mismatch means our book diverged: resubscribe.
 */
export function okxBookChecksum(bids: readonly Level[], asks: readonly Level[]): number {
  const parts: string[] = [];
  for (let i = 0; i < 25; i++) {
    if (i < bids.length) parts.push(bids[i].priceText, bids[i].sizeText);
    if (i < asks.length) parts.push(asks[i].priceText, asks[i].sizeText);
  }
  return crc32(parts.join(':'));
}
