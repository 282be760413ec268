/**
 * What the venues' trade parsers share (src/feeds/<venue>/trades.ts): the row readers, the drop
 * reasons, and the walk over a list of rows. A bad row is dropped and counted by reason, never thrown:
 * malformed (not an object, no instrument), unknownInstrument (a name we do not chart: another coin,
 * a family we leave out), badTradeId, badTimestamp, badSide, badAmount (non-finite, negative or
 * implausibly large). Deribit's parser names its unknown instruments `notOption`, as its other
 * parsers and the CLI do.
 */
import type { TapeTrade } from '../chain/model.ts';
import { countDrop } from './frame-guard.ts';
import { readNum } from './num.ts';

export type TradeDropReason = 'malformed' | 'unknownInstrument' | 'badTradeId' | 'badTimestamp' | 'badSide' | 'badAmount';

/** Beyond this a trade's size is not a plausible venue value (drop, never clamp). */
export const MAX_TRADE_AMOUNT = 1e9;

/** A venue trade id: a non-empty string of at most 64 characters or a safe integer, as text; else null. */
export function readTradeId(v: unknown): string | null {
  if (typeof v === 'string') return v.length > 0 && v.length <= 64 ? v : null;
  return typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : null;
}

/** A trade size (number or numeric string) in [0, MAX_TRADE_AMOUNT], else null. */
export function readTradeAmount(v: unknown): number | null {
  const n = readNum(v);
  return n !== null && n >= 0 && n <= MAX_TRADE_AMOUNT ? n : null;
}

/** Every row of `rows` through `parseRow`: the trades, in the rows' order; each drop counted into `dropped`. */
export function collectTrades(rows: unknown, parseRow: (row: unknown) => TapeTrade | string, dropped: Record<string, number>): TapeTrade[] {
  const out: TapeTrade[] = [];
  if (!Array.isArray(rows)) {
    countDrop(dropped, 'malformed');
    return out;
  }
  for (const row of rows) {
    const t = parseRow(row);
    if (typeof t === 'string') countDrop(dropped, t);
    else out.push(t);
  }
  return out;
}

/** Oldest first (a history page's order); trades of one millisecond keep their order. */
export function oldestFirst(trades: TapeTrade[]): TapeTrade[] {
  return trades.sort((a, b) => a.timestampMs - b.timestampMs);
}
