/**
 * One venue's own listing on the shared simulated market (sim mode): a subset of the simulator's
 * expiries and strikes under the venue's names, so venues share some strikes and not others and
 * nothing is interpolated.
 */
import { CURRENCIES, type MarketSim, type Currency, type OptionDef } from '../sim/market.ts';

/** One venue's own listing on the shared market: its expiries, strikes and names. */
export interface ChainSpec {
  /** The venue's name for an option. */
  name(d: OptionDef): string;
  /** Keep expiry `e` (i = its position among the simulator's listed expiries). */
  keepExpiry(e: number, i: number, all: readonly number[]): boolean;
  /** Keep strike `k` (i = its position in that expiry's sorted strike grid of n strikes). */
  keepStrike(k: number, i: number, n: number, atmIndex: number): boolean;
}

/** Cached per-venue option list; recomputed when the simulator relists (its array changes). */
export class VenueChain {
  private cache = new Map<Currency, { src: readonly OptionDef[]; list: OptionDef[] }>();
  private names = new Map<Currency, { list: OptionDef[]; byName: Map<string, OptionDef> }>();
  constructor(
    private readonly sim: MarketSim,
    private readonly spec: ChainSpec,
  ) {}

  options(c: Currency): OptionDef[] {
    const src = this.sim.instruments(c);
    const hit = this.cache.get(c);
    if (hit && hit.src === src) return hit.list;
    const all = this.sim.listedExpiries();
    const keepE = new Set(all.filter((e, i) => this.spec.keepExpiry(e, i, all)));
    const byExpiry = new Map<number, number[]>();
    for (const d of src) {
      if (!keepE.has(d.expiryMs)) continue;
      const ks = byExpiry.get(d.expiryMs) ?? [];
      if (ks[ks.length - 1] !== d.strike) ks.push(d.strike);
      byExpiry.set(d.expiryMs, ks);
    }
    const keepK = new Map<number, Set<number>>();
    for (const [e, ks] of byExpiry) {
      const f = this.sim.forward(c, e);
      let atm = 0;
      for (let i = 1; i < ks.length; i++) if (Math.abs(ks[i] - f) < Math.abs(ks[atm] - f)) atm = i;
      keepK.set(e, new Set(ks.filter((k, i) => this.spec.keepStrike(k, i, ks.length, atm))));
    }
    const list = src.filter((d) => keepK.get(d.expiryMs)?.has(d.strike) === true);
    this.cache.set(c, { src, list });
    return list;
  }

  /** Venue name -> option of the current listing (cached per listing). */
  byName(c: Currency): Map<string, OptionDef> {
    const list = this.options(c);
    const hit = this.names.get(c);
    if (hit && hit.list === list) return hit.byName;
    const byName = new Map(list.map((d) => [this.spec.name(d), d]));
    this.names.set(c, { list, byName });
    return byName;
  }

  /** The listed option of either currency with this venue name. */
  find(name: string): OptionDef | undefined {
    for (const c of CURRENCIES) {
      const d = this.byName(c).get(name);
      if (d) return d;
    }
    return undefined;
  }
}
