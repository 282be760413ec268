/**
 * Deribit's public option trades (the `trades.option.{CURRENCY}.100ms` channel and
 * `public/get_last_trades_by_currency_and_time`), parsed into the normalised tape trade. Fields
 * (Deribit `public_trade`): `direction` is the taker's side; `amount` is in base coin for options,
 * the unit of `open_interest` in the book summary; `block_trade_id` marks a leg of a block trade.
 * Bad rows are dropped and counted by reason, never thrown.
 */
import type { Currency, TapeTrade } from '../../chain/model.ts';
import { isRecord } from '../frame-guard.ts';
import { MAX_TRADE_AMOUNT, collectTrades, readTradeId } from '../tape-rows.ts';
import { parseOptionName } from './rest.ts';

const MIN_TS = 946_684_800_000; // 2000-01-01
const MAX_TS = 7_258_118_400_000; // 2200-01-01

/**
 * One `public_trade` row -> a tape trade of `currency`'s options, or the reason it is dropped:
 * malformed, notOption (futures, other currencies), badTradeId, badTimestamp, badSide, badAmount.
 */
export function parseTrade(row: unknown, currency: Currency): TapeTrade | string {
  if (!isRecord(row) || typeof row.instrument_name !== 'string') return 'malformed';
  const p = parseOptionName(row.instrument_name);
  if (!p || p.currency !== currency) return 'notOption';
  const id = readTradeId(row.trade_id);
  if (id === null) return 'badTradeId';
  const ts = row.timestamp;
  if (typeof ts !== 'number' || !(ts >= MIN_TS && ts <= MAX_TS)) return 'badTimestamp';
  const side = row.direction;
  if (side !== 'buy' && side !== 'sell') return 'badSide';
  const amount = row.amount;
  if (typeof amount !== 'number' || !(amount >= 0 && amount <= MAX_TRADE_AMOUNT)) return 'badAmount';
  const block = row.block_trade_id;
  return {
    venue: 'deribit',
    instrument: row.instrument_name,
    tradeId: id,
    timestampMs: ts,
    takerSide: side,
    contracts: amount,
    block: (typeof block === 'string' && block.length > 0) || typeof block === 'number',
  };
}

/** A list of `public_trade` rows (a channel notification's data, or a history page's `trades`). */
export function parseTrades(rows: unknown, currency: Currency, dropped: Record<string, number>): TapeTrade[] {
  return collectTrades(rows, (row) => parseTrade(row, currency), dropped);
}

/**
 * The result of `public/get_last_trades_by_currency_and_time`: `{trades: [...], has_more}`.
 * @returns null when the result has no `trades` array
 */
export function parseTradesPage(result: unknown, currency: Currency, dropped: Record<string, number>): { trades: TapeTrade[]; hasMore: boolean } | null {
  if (!isRecord(result) || !Array.isArray(result.trades)) return null;
  return { trades: parseTrades(result.trades, currency, dropped), hasMore: result.has_more === true };
}
