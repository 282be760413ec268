/**
 * Bybit's public option trades (the option socket's `publicTrade.{BTC|ETH}` topic, one topic per base
 * coin, and `GET /v5/market/recent-trade?category=option&baseCoin=`, recent only: at most 1,000, no
 * paging or time range), parsed into the normalised tape trade. Fields (bybit-exchange/docs v5
 * websocket/public/trade and market/recent-trade; the recorded 2023 `publicTrade.BTC` push):
 * socket `S` / REST `side` is the taker's side (`Buy`/`Sell`), `v` / `size` the size in contracts of
 * one coin (Bybit options are 1 underlying per contract: the unit of the lines' `openInterest`), `i` /
 * `execId` the trade id (a UUID, unique across the venue, the same on both), `T` / `time` the fill time
 * (ms), `BT` / `isBlockTrade` a block trade.
 */
import type { Currency, TapeTrade } from '../../chain/model.ts';
import { isRecord } from '../frame-guard.ts';
import { readTsMs } from '../num.ts';
import { collectTrades, oldestFirst, readTradeAmount, readTradeId, type TradeDropReason } from '../tape-rows.ts';
import { parseBybitOptionName } from './parse.ts';

/** The field names of one trade: the socket's short ones, or the REST answer's. */
const SOCKET = { symbol: 's', id: 'i', time: 'T', side: 'S', size: 'v', block: 'BT' } as const;
const REST = { symbol: 'symbol', id: 'execId', time: 'time', side: 'side', size: 'size', block: 'isBlockTrade' } as const;
type Fields = typeof SOCKET | typeof REST;

function parseRow(row: unknown, currency: Currency, f: Fields): TapeTrade | TradeDropReason {
  if (!isRecord(row) || typeof row[f.symbol] !== 'string') return 'malformed';
  const symbol = row[f.symbol] as string;
  const name = parseBybitOptionName(symbol);
  if (!name || name.currency !== currency) return 'unknownInstrument';
  const id = readTradeId(row[f.id]);
  if (id === null) return 'badTradeId';
  const ts = readTsMs(row[f.time]);
  if (ts === null) return 'badTimestamp';
  const side = row[f.side];
  if (side !== 'Buy' && side !== 'Sell') return 'badSide';
  const size = readTradeAmount(row[f.size]);
  if (size === null) return 'badAmount';
  return { venue: 'bybit', instrument: symbol, tradeId: id, timestampMs: ts, takerSide: side === 'Buy' ? 'buy' : 'sell', contracts: size, block: row[f.block] === true };
}

/** One `publicTrade` row -> a tape trade of `currency`'s options, or why it is dropped. */
export function parseBybitTrade(row: unknown, currency: Currency): TapeTrade | TradeDropReason {
  return parseRow(row, currency, SOCKET);
}

/** The `data` of a `publicTrade.{coin}` push (sorted by fill time, ascending). */
export function parseBybitTrades(rows: unknown, currency: Currency, dropped: Record<string, number>): TapeTrade[] {
  return collectTrades(rows, (row) => parseRow(row, currency, SOCKET), dropped);
}

/**
 * A `GET /v5/market/recent-trade?category=option&baseCoin=C` body -> its trades, oldest first, or the
 * reason the whole answer is unusable (a Bybit error code, a malformed body).
 */
export function parseBybitTradesBody(body: unknown, currency: Currency, dropped: Record<string, number>): { trades: TapeTrade[] } | { error: string } {
  if (!isRecord(body)) return { error: 'malformed recent-trade body' };
  if (body.retCode !== 0) return { error: `bybit error ${String(body.retCode)}: ${String(body.retMsg ?? '').slice(0, 120)}` };
  const result = body.result;
  if (!isRecord(result) || !Array.isArray(result.list)) return { error: 'malformed recent-trade body' };
  return { trades: oldestFirst(collectTrades(result.list, (row) => parseRow(row, currency, REST), dropped)) };
}
