/**
 * A price-level book for the perpetual's hedge-side depth, and the depth-in-band summary of PerpQuote.
 * Venue-neutral: each venue keeps its book integrity check beside it (Deribit's change_id chain, OKX's
 * seqId chain and checksum) and stores the levels here.
 *
 * Levels keep the venue's original price/size strings where it sends strings, because OKX's checksum
 * is computed over them.
 */
import { readNum } from './num.ts';

/** The bands of PerpQuote.depth, percent of mid. */
export const DEPTH_BANDS_PCT = [0.5, 1, 2] as const;

export interface Level {
  price: number;
  size: number;
  /** The venue's own text of price and size (OKX's checksum is computed over them); '' where it sends numbers. */
  priceText: string;
  sizeText: string;
}

export class LevelBook {
  // Keyed by numeric value, so "5.16" and "5.160" are the same level.
  private readonly bidMap = new Map<number, Level>();
  private readonly askMap = new Map<number, Level>();
  private trimmed = false;

  clear(): void {
    this.bidMap.clear();
    this.askMap.clear();
    this.trimmed = false;
  }

  get levelCount(): number {
    return this.bidMap.size + this.askMap.size;
  }

  /**
   * Levels were trimmed since the last clear: the far edge of the book is ours, not the venue's (see
   * `trim` and depthWithinBands' `wholeBook`).
   */
  get truncated(): boolean {
    return this.trimmed;
  }

  /** Set a level; size 0 deletes it. Returns false on a malformed level (caller drops the frame). */
  apply(side: 'bid' | 'ask', priceText: unknown, sizeText: unknown): boolean {
    if (typeof priceText !== 'string' || typeof sizeText !== 'string') return false;
    const price = readNum(priceText);
    const size = readNum(sizeText);
    if (price === null || price <= 0 || size === null || size < 0) return false;
    this.set(side, price, size, priceText, sizeText);
    return true;
  }

  /** Set a level from numbers the venue's parser already checked (price > 0, size >= 0); size 0 deletes it. */
  set(side: 'bid' | 'ask', price: number, size: number, priceText = '', sizeText = ''): void {
    const map = side === 'bid' ? this.bidMap : this.askMap;
    if (size === 0) map.delete(price);
    else map.set(price, { price, size, priceText, sizeText });
  }

  /**
   * Keeps at most `maxPerSide` levels a side, dropping those farthest from the touch (memory stays
   * bounded on a venue that sends its whole book). Returns how many levels went.
   */
  trim(maxPerSide: number): number {
    const dropped = trimSide(this.bidMap, maxPerSide, bestBidFirst) + trimSide(this.askMap, maxPerSide, bestAskFirst);
    if (dropped > 0) this.trimmed = true;
    return dropped;
  }

  /** Bids best (highest) first. */
  bids(): Level[] {
    return [...this.bidMap.values()].sort(bestBidFirst);
  }

  /** Asks best (lowest) first. */
  asks(): Level[] {
    return [...this.askMap.values()].sort(bestAskFirst);
  }
}

const bestBidFirst = (a: Level, b: Level) => b.price - a.price;
const bestAskFirst = (a: Level, b: Level) => a.price - b.price;

/** Drops the levels past the `max` nearest the touch (one sort, not one scan per level). */
function trimSide(side: Map<number, Level>, max: number, nearestFirst: (a: Level, b: Level) => number): number {
  if (side.size <= max) return 0;
  const far = [...side.entries()].sort((a, b) => nearestFirst(a[1], b[1])).slice(max);
  for (const [key] of far) side.delete(key);
  return far.length;
}

/**
 * Resting size within +-band % of mid, converted to underlying units by `coinPerUnit` (contract size,
 * or 1 when sizes are already coin). By default a band is reported only when the received book reaches
 * past its edge on both sides: venues send 50-1000 levels, which for BTC often spans well under 2 %,
 * and a partial sum would understate the hedge-side liquidity silently. `wholeBook`: the venue sent
 * every level it has (Deribit's raw book, untrimmed), so a band past the book's edge is complete.
 */
export function depthWithinBands(
  bids: readonly Level[],
  asks: readonly Level[],
  coinPerUnit: number,
  options: { wholeBook?: boolean; bandsPct?: readonly number[] } = {},
): { mid: number | null; depth: { bandPct: number; bidCoin: number; askCoin: number }[] } {
  if (bids.length === 0 || asks.length === 0) return { mid: null, depth: [] };
  const bestBid = bids[0].price;
  const bestAsk = asks[0].price;
  if (!(bestBid < bestAsk)) return { mid: null, depth: [] }; // crossed book: no trustworthy mid
  const mid = (bestBid + bestAsk) / 2;
  const lowestBid = bids[bids.length - 1].price;
  const highestAsk = asks[asks.length - 1].price;
  const depth: { bandPct: number; bidCoin: number; askCoin: number }[] = [];
  for (const band of options.bandsPct ?? DEPTH_BANDS_PCT) {
    const lo = mid * (1 - band / 100);
    const hi = mid * (1 + band / 100);
    if (!options.wholeBook && (lowestBid > lo || highestAsk < hi)) continue; // the book we hold does not reach this band
    let bidCoin = 0;
    for (const l of bids) {
      if (l.price < lo) break;
      bidCoin += l.size * coinPerUnit;
    }
    let askCoin = 0;
    for (const l of asks) {
      if (l.price > hi) break;
      askCoin += l.size * coinPerUnit;
    }
    depth.push({ bandPct: band, bidCoin, askCoin });
  }
  return { mid, depth };
}
