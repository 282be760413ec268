/**
 * A price-level book for the perpetual's hedge-side depth, and the depth-in-band summary of PerpQuote.
 * Venue-neutral (Bybit and Binance use it too); it lives in the okx folder until the shared feed
 * utilities have a home for it.
 *
 * Levels keep the venue's original price/size strings, because OKX's checksum is computed over them.
 */
import { readNum } from './num.ts';

export const DEPTH_BANDS_PCT = [0.5, 1, 2] as const;

export interface Level {
  price: number;
  size: number;
  priceText: string;
  sizeText: string;
}

export class LevelBook {
  private readonly bidMap = new Map<string, Level>();
  private readonly askMap = new Map<string, Level>();

  clear(): void {
    this.bidMap.clear();
    this.askMap.clear();
  }

  get levelCount(): number {
    return this.bidMap.size + this.askMap.size;
  }

  /** Set a level; size 0 deletes it. Returns false on a malformed level (caller drops the frame). */
  apply(side: 'bid' | 'ask', priceText: unknown, sizeText: unknown): boolean {
    if (typeof priceText !== 'string' || typeof sizeText !== 'string') return false;
    const price = readNum(priceText);
    const size = readNum(sizeText);
    if (price === null || price <= 0 || size === null || size < 0) return false;
    const map = side === 'bid' ? this.bidMap : this.askMap;
    // Key by numeric value so "5.16" and "5.160" are the same level.
    const key = String(price);
    if (size === 0) map.delete(key);
    else map.set(key, { price, size, priceText, sizeText });
    return true;
  }

  /** Bids best (highest) first. */
  bids(): Level[] {
    return [...this.bidMap.values()].sort((a, b) => b.price - a.price);
  }

  /** Asks best (lowest) first. */
  asks(): Level[] {
    return [...this.askMap.values()].sort((a, b) => a.price - b.price);
  }
}

/**
 * Resting size within +-band % of mid, converted to underlying units by `coinPerUnit` (contract size,
 * or 1 when sizes are already coin). A band is reported only when the received book reaches past its
 * edge on both sides: venues send 50-1000 levels, which for BTC often spans well under 2 %, and a
 * partial sum would understate the hedge-side liquidity silently.
 */
export function depthWithinBands(
  bids: readonly Level[],
  asks: readonly Level[],
  coinPerUnit: number,
  bandsPct: readonly number[] = DEPTH_BANDS_PCT,
): { mid: number | null; depth: { bandPct: number; bidCoin: number; askCoin: number }[] } {
  if (bids.length === 0 || asks.length === 0) return { mid: null, depth: [] };
  const bestBid = bids[0].price;
  const bestAsk = asks[0].price;
  if (!(bestBid < bestAsk)) return { mid: null, depth: [] }; // crossed book: no trustworthy mid
  const mid = (bestBid + bestAsk) / 2;
  const lowestBid = bids[bids.length - 1].price;
  const highestAsk = asks[asks.length - 1].price;
  const depth: { bandPct: number; bidCoin: number; askCoin: number }[] = [];
  for (const band of bandsPct) {
    const lo = mid * (1 - band / 100);
    const hi = mid * (1 + band / 100);
    if (lowestBid > lo || highestAsk < hi) continue; // the book we hold does not reach this band
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
