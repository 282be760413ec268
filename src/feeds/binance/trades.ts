/**
 * Binance's public option trades (the `<underlying>@optionTrade` stream on the `/public` path, and
 * `GET /eapi/v1/trades?symbol=`, the latest 500 of one symbol), parsed into the normalised tape
 * trade. Fields (Binance options docs "Trade Streams" and "Recent Trades List"; the recorded 2025
 * `@optionTrade` frames): the stream's `m` is "is the buyer the market maker?", so the taker sold when
 * it is true and bought when false (the recorded frames pair m:false with S:"BUY" and m:true with
 * S:"SELL"; `S` is documented only as "direction" and not used); the REST answer's `side` is the
 * aggressor's (1 buy, -1 sell). `q` / `qty` is in contracts, the unit of the lines' open interest
 * (`o` of `optionOpenInterest`). `X` is `MARKET` or `BLOCK`. REST keeps the two apart: `/eapi/v1/trades`
 * (order-book trades, `block: false`) and `/eapi/v1/blockTrades` (block trades of every symbol when none
 * is named; `qty` signed by the side in the docs' example, so its size is |qty|). The trade id (`t` / `tradeId`; the REST `id` is a 64-bit number JSON
 * cannot carry exactly) counts per symbol, so the tape's id is `symbol:t`: unique across the venue,
 * the same live and from history.
 */
import type { Currency, TapeTrade } from '../../chain/model.ts';
import { isRecord } from '../frame-guard.ts';
import { readNum, readTsMs } from '../num.ts';
import { collectTrades, oldestFirst, readTradeAmount, readTradeId, type TradeDropReason } from '../tape-rows.ts';
import { parseBinanceOptionName } from './parse.ts';

function trade(symbol: string, id: string, ts: number, takerSide: 'buy' | 'sell', contracts: number, block: boolean): TapeTrade {
  return { venue: 'binance', instrument: symbol, tradeId: `${symbol}:${id}`, timestampMs: ts, takerSide, contracts, block };
}

/** A symbol of `currency`'s options, or the drop reason. */
function checkSymbol(s: unknown, currency: Currency): TradeDropReason | null {
  if (typeof s !== 'string') return 'malformed';
  const name = parseBinanceOptionName(s);
  return name && name.currency === currency ? null : 'unknownInstrument';
}

/** One `optionTrade` event (`e: "trade"`) -> a tape trade of `currency`'s options, or why it is dropped. */
export function parseBinanceTrade(event: unknown, currency: Currency): TapeTrade | TradeDropReason {
  if (!isRecord(event)) return 'malformed';
  const bad = checkSymbol(event.s, currency);
  if (bad !== null) return bad;
  const id = readTradeId(event.t);
  if (id === null) return 'badTradeId';
  const ts = readTsMs(event.T);
  if (ts === null) return 'badTimestamp';
  if (typeof event.m !== 'boolean') return 'badSide';
  const q = readTradeAmount(event.q);
  if (q === null) return 'badAmount';
  return trade(event.s as string, id, ts, event.m ? 'sell' : 'buy', q, event.X === 'BLOCK');
}

/** One row of `GET /eapi/v1/trades` (or, `block`, of `/eapi/v1/blockTrades`) -> a tape trade, or why it is dropped. */
export function parseBinanceRestTrade(row: unknown, currency: Currency, block = false): TapeTrade | TradeDropReason {
  if (!isRecord(row)) return 'malformed';
  const bad = checkSymbol(row.symbol, currency);
  if (bad !== null) return bad;
  const id = readTradeId(row.tradeId);
  if (id === null) return 'badTradeId';
  const ts = readTsMs(row.time);
  if (ts === null) return 'badTimestamp';
  const side = row.side === 1 || row.side === '1' ? 'buy' : row.side === -1 || row.side === '-1' ? 'sell' : null;
  if (side === null) return 'badSide';
  const qty = readNum(row.qty);
  const q = readTradeAmount(block && qty !== null ? Math.abs(qty) : row.qty);
  if (q === null) return 'badAmount';
  return trade(row.symbol as string, id, ts, side, q, block);
}

/**
 * A `GET /eapi/v1/trades?symbol=S` body (an array of rows) -> its trades, oldest first, or the reason
 * the whole answer is unusable (Binance's `{code, msg}` error, a malformed body).
 */
export function parseBinanceTradesBody(body: unknown, currency: Currency, dropped: Record<string, number>): { trades: TapeTrade[] } | { error: string } {
  if (isRecord(body) && body.code !== undefined) return { error: `binance error ${String(body.code)}: ${String(body.msg ?? '').slice(0, 120)}` };
  if (!Array.isArray(body)) return { error: 'malformed trades body' };
  return { trades: oldestFirst(collectTrades(body, (row) => parseBinanceRestTrade(row, currency), dropped)) };
}

/**
 * A `GET /eapi/v1/blockTrades` body (every symbol's block trades when none was named) -> the block
 * trades of `currency`'s options, oldest first; other coins' options are expected there and skipped
 * uncounted. An error answer or a malformed body is an error.
 */
export function parseBinanceBlockTradesBody(body: unknown, currency: Currency, dropped: Record<string, number>): { trades: TapeTrade[] } | { error: string } {
  if (isRecord(body) && body.code !== undefined) return { error: `binance error ${String(body.code)}: ${String(body.msg ?? '').slice(0, 120)}` };
  if (!Array.isArray(body)) return { error: 'malformed blockTrades body' };
  const ours = body.filter((row) => {
    const symbol = isRecord(row) ? row.symbol : undefined;
    const other = typeof symbol === 'string' && /^[A-Z0-9]+-\d{6}-\d+(\.\d+)?-[CP]$/.test(symbol) && !symbol.startsWith(`${currency}-`);
    return !other;
  });
  return { trades: oldestFirst(collectTrades(ours, (row) => parseBinanceRestTrade(row, currency, true), dropped)) };
}
