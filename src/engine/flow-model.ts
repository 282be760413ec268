/**
 * The `flow` dealer model (design: "Dealer positions from the trade tape"). Public trades carry the
 * taker's side; the passive side is taken to be a dealer. Per line, over the window [W0, now]:
 *   B, S = contracts bought, sold by takers; N = B - S; G = B + S.
 *   G = 0                      -> q = classic sign * OI                 ("assumed")
 *   listed at or after W0      -> q = -clamp(N, -OI, +OI)              ("seen whole": its whole life seen)
 *     (W0 of that line: where its venue's tape is complete from, when the tape says so: `seenFromMs`)
 *   listed before W0 (or unknown) -> q = -OI * N / G                  ("seen in part")
 * A line whose listing time is unknown counts as listed before the window: claiming its whole life
 * was seen would be a stronger statement than the data allows.
 */
import { classicSign, DEALER_MODEL_LABELS, type DealerPositionModel } from './dealer-sign.ts';
import type { ChainColumns, LineTrades, Positioning } from './types.ts';

/** How a line's position was found. */
export type Seen = 'assumed' | 'whole' | 'inPart';

/** Position and provenance of chain line i under the flow model. */
export function flowPosition(chain: ChainColumns, trades: LineTrades | null, i: number): { q: number; seen: Seen } {
  const oi = chain.openInterest[i];
  const B = trades ? trades.bought[i] : 0;
  const S = trades ? trades.sold[i] : 0;
  const G = B + S;
  if (!(G > 0)) return { q: classicSign(chain, i) * oi, seen: 'assumed' };
  const N = B - S;
  const listed = chain.listedMs ? chain.listedMs[i] : NaN;
  if (trades && listed >= (trades.seenFromMs ? trades.seenFromMs[i] : trades.windowStartMs)) return { q: -Math.min(oi, Math.max(-oi, N)), seen: 'whole' };
  return { q: (-oi * N) / G, seen: 'inPart' };
}

/** The flow model over one tape (a model is built per recompute; it holds no state of its own). */
export function flowModel(trades: LineTrades | null): DealerPositionModel {
  return {
    id: 'flow',
    label: DEALER_MODEL_LABELS.flow,
    fillPositions(chain, lines, count, out) {
      for (let j = 0; j < count; j++) out[j] = flowPosition(chain, trades, lines[j]).q;
    },
  };
}

/**
 * What the view shows of the flow model over the lines in the sums: window, trades counted (block
 * trades apart) and the shares of dealer contracts (sum of |q|) seen whole, seen in part and assumed.
 * @param lines the lines in the sums, first `count` used
 */
export function summarisePositioning(chain: ChainColumns, trades: LineTrades | null, lines: Int32Array, count: number): Positioning {
  let tradesCounted = 0;
  let blockTrades = 0;
  const abs: Record<Seen, number> = { assumed: 0, whole: 0, inPart: 0 };
  for (let j = 0; j < count; j++) {
    const i = lines[j];
    const p = flowPosition(chain, trades, i);
    abs[p.seen] += Math.abs(p.q);
    if (trades) {
      tradesCounted += trades.trades[i];
      blockTrades += trades.blockTrades[i];
    }
  }
  const total = abs.assumed + abs.whole + abs.inPart;
  const share = (x: number) => (total > 0 ? x / total : 0);
  return {
    windowStartMs: trades ? trades.windowStartMs : null,
    trades: tradesCounted,
    blockTrades,
    seenWhole: share(abs.whole),
    seenInPart: share(abs.inPart),
    assumed: share(abs.assumed),
  };
}
