/**
 * OKX's public option trades (the `option-trades` channel by instrument family, and
 * `GET /api/v5/public/option-trades?instFamily=`, the latest 100), parsed into the normalised tape
 * trade. Fields (OKX v5 docs, "WS / Option trades channel", "GET / Option trades"; no recorded sample
 * exists, the tests use the documented examples): `side` is the taker's side ("trade side of taker"
 * on the trades channels; the option page says only "trade side", inferred the same), `sz` is in
 * contracts, the unit the client's `open-interest` lines are in (oiCcy / multiplier, ./parse.ts), so
 * a trade needs no conversion unless OKX's own OI pushes showed the contract to be another size than
 * the listing says (`oiUnitsPerContract`, by family). `tradeId` counts per instrument (small numbers),
 * so the tape's id is `instId:tradeId`: unique across the venue, the same live and from history. Block
 * trades are published elsewhere (`public-block-trades`, per instrument): every trade here is `block: false`.
 */
import type { Currency, TapeTrade } from '../../chain/model.ts';
import { isRecord } from '../frame-guard.ts';
import { readTsMs } from '../num.ts';
import { collectTrades, oldestFirst, readTradeAmount, readTradeId, type TradeDropReason } from '../tape-rows.ts';
import { okxFamilies, parseOkxOptionName } from './parse.ts';

export interface OkxTradeContext {
  /** OI units per traded contract for a family: 1 unless the OI pushes disagreed with the listing. */
  oiUnitsPerContract?: (family: string) => number;
}

/** One `option-trades` row of `currency`'s charted families -> a tape trade, or why it is dropped. */
export function parseOkxTrade(row: unknown, currency: Currency, ctx: OkxTradeContext = {}): TapeTrade | TradeDropReason {
  if (!isRecord(row) || typeof row.instId !== 'string') return 'malformed';
  const name = parseOkxOptionName(row.instId);
  if (!name || name.currency !== currency || !okxFamilies(currency).includes(name.family)) return 'unknownInstrument';
  const id = readTradeId(row.tradeId);
  if (id === null) return 'badTradeId';
  const ts = readTsMs(row.ts);
  if (ts === null) return 'badTimestamp';
  if (row.side !== 'buy' && row.side !== 'sell') return 'badSide';
  const sz = readTradeAmount(row.sz);
  const scale = ctx.oiUnitsPerContract?.(name.family) ?? 1;
  if (sz === null || !(scale > 0)) return 'badAmount';
  return { venue: 'okx', instrument: row.instId, tradeId: `${row.instId}:${id}`, timestampMs: ts, takerSide: row.side, contracts: sz * scale, block: false };
}

/** The `data` of an `option-trades` push (one trade per push, documented; more are taken the same way). */
export function parseOkxTrades(rows: unknown, currency: Currency, dropped: Record<string, number>, ctx: OkxTradeContext = {}): TapeTrade[] {
  return collectTrades(rows, (row) => parseOkxTrade(row, currency, ctx), dropped);
}

/**
 * A `GET /api/v5/public/option-trades?instFamily=F` body -> its trades, oldest first, or the reason the
 * whole answer is unusable (an OKX error code, a malformed body).
 */
export function parseOkxTradesBody(body: unknown, currency: Currency, dropped: Record<string, number>, ctx: OkxTradeContext = {}): { trades: TapeTrade[] } | { error: string } {
  if (!isRecord(body) || !Array.isArray(body.data)) return { error: 'malformed option-trades body' };
  if (body.code !== '0' && body.code !== 0) return { error: `okx error ${String(body.code)}: ${String(body.msg ?? '').slice(0, 120)}` };
  return { trades: oldestFirst(parseOkxTrades(body.data, currency, dropped, ctx)) };
}
