/**
 * The public trade tape aggregated per chain line over a window (design: "Dealer positions from the
 * trade tape"): B and S per line, each trade counted once by its venue trade id, trades outside
 * [W0, now] or on instruments the chain does not list left out and counted by reason.
 */
import type { LineTrades } from '../engine/types.ts';
import type { TapeTrade } from './model.ts';

export interface TapeSkips {
  duplicate: number;
  outsideWindow: number;
  unknownInstrument: number;
}

/**
 * @param lineOf the chain line of a trade's instrument, undefined when not listed
 * @param length the chain's number of lines
 */
export function aggregateTape(
  trades: Iterable<TapeTrade>,
  lineOf: (t: TapeTrade) => number | undefined,
  length: number,
  windowStartMs: number,
  nowMs: number,
): { lines: LineTrades; counted: number; skipped: TapeSkips } {
  const lines: LineTrades = {
    windowStartMs,
    bought: new Float64Array(length),
    sold: new Float64Array(length),
    trades: new Float64Array(length),
    blockTrades: new Float64Array(length),
  };
  const skipped: TapeSkips = { duplicate: 0, outsideWindow: 0, unknownInstrument: 0 };
  const seen = new Set<string>();
  let counted = 0;
  for (const t of trades) {
    const key = `${t.venue}\u0000${t.tradeId}`;
    if (seen.has(key)) {
      skipped.duplicate++;
      continue;
    }
    seen.add(key);
    if (!(t.timestampMs >= windowStartMs && t.timestampMs <= nowMs)) {
      skipped.outsideWindow++;
      continue;
    }
    const i = lineOf(t);
    if (i === undefined) {
      skipped.unknownInstrument++;
      continue;
    }
    if (t.takerSide === 'buy') lines.bought[i] += t.contracts;
    else lines.sold[i] += t.contracts;
    lines.trades[i]++;
    if (t.block) lines.blockTrades[i]++;
    counted++;
  }
  return { lines, counted, skipped };
}
