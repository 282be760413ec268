/**
 * A venue's own hidden book and trade tape on the shared simulated market (sim mode): its lines are
 * its listing (one or more option families, each a VenueChain with its unit, lot and share of the
 * open interest), its trading a share of Deribit's (../sim/trade-book.ts). The venue's sim reads its
 * open interest here and publishes the trades on its own channel and REST method.
 */
import type { Currency, MarketSim, OptionDef } from '../sim/market.ts';
import { CURRENCIES } from '../sim/market.ts';
import { freshTrades, type BookLine, type SimTrade, type TradeBook } from '../sim/trade-book.ts';
import type { VenueChain } from './chain-subset.ts';

/** One option family of a venue: its listing, names, unit (coin per contract), lot (contracts) and share of the open interest. */
export interface TapeFamily {
  chain: VenueChain;
  name(d: OptionDef): string;
  share: number;
  unitCoin(c: Currency): number;
  lotUnits(c: Currency): number;
}

export class VenueTape {
  readonly book: TradeBook;
  private cache = new Map<Currency, { srcs: readonly OptionDef[][]; lines: BookLine[]; byName: Map<string, BookLine> }>();
  private sentTo = new Map<Currency, number>();

  constructor(
    readonly sim: MarketSim,
    venue: string,
    rateShare: number,
    private readonly families: readonly TapeFamily[],
  ) {
    this.book = sim.tradeBook(venue, rateShare, (c) => this.listing(c).lines);
    for (const c of CURRENCIES) this.sentTo.set(c, sim.timeMs);
  }

  private listing(c: Currency): { lines: BookLine[]; byName: Map<string, BookLine> } {
    const srcs = this.families.map((f) => f.chain.options(c));
    const hit = this.cache.get(c);
    if (hit && hit.srcs.every((s, i) => s === srcs[i])) return hit;
    const lines: BookLine[] = [];
    this.families.forEach((f, i) => {
      for (const d of srcs[i]) {
        const name = f.name(d);
        lines.push(hit?.byName.get(name) ?? this.sim.bookLine(d, name, { share: f.share, unitCoin: f.unitCoin(c), lotUnits: f.lotUnits(c) }));
      }
    });
    const out = { srcs, lines, byName: new Map(lines.map((l) => [l.name, l])) };
    this.cache.set(c, out);
    return out;
  }

  /** Open interest of a listed line by its venue name, in its unit (0 when not listed). */
  openInterest(c: Currency, name: string): number {
    const l = this.listing(c).byName.get(name);
    return l ? this.book.openInterest(l) : 0;
  }

  /** The trades since the previous call, per currency (what the live channel publishes this tick). */
  fresh(): Map<Currency, SimTrade[]> {
    return freshTrades(this.book, this.sentTo, this.sim.timeMs);
  }
}
