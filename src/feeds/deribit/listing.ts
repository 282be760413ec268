/**
 * Deribit's option listing for one currency: the instrument map from `public/get_instruments` (on
 * each connection and every 10 min), kept current between refreshes by `instrument.state`, and pruned
 * by venue time (FeedOptions.venueNow; never the wall clock, so a replay of 2021 lists 2021). Every
 * change goes to the sink: the whole list when lines left, a created line alone.
 */
import type { Currency, OptionInstrument } from '../../chain/model.ts';
import type { FeedSink } from '../adapter.ts';
import { expiredAt } from '../venue-time.ts';
import { parseOptionName } from './rest.ts';

/** Instrument states that end an option's life, and those of a live one (Deribit instrument.state). */
const ENDED_STATES = new Set(['settled', 'closed', 'deactivated', 'terminated', 'delivered', 'inactive']);
const LIVE_STATES = new Set(['created', 'started', 'open']);

export interface ListingOptions {
  currency: Currency;
  sink: FeedSink;
  /** The host's venue time for this feed; null when unknown (then nothing expires). */
  venueNow: () => number | null;
}

export class DeribitListing {
  private readonly byName = new Map<string, OptionInstrument>();

  constructor(private readonly o: ListingOptions) {}

  values(): Iterable<OptionInstrument> {
    return this.byName.values();
  }

  /** A `public/get_instruments` answer replaces the listing (what expired at venue time stays out). */
  replace(instruments: readonly OptionInstrument[]): void {
    this.byName.clear();
    const venueNow = this.o.venueNow();
    for (const inst of instruments) if (!expiredAt(inst.expiryMs, venueNow)) this.byName.set(inst.name, inst);
    this.publish();
  }

  /**
   * An `instrument.state` notification: a live state lists a new option, an ending one delists it.
   * 'foreign': not an option of this currency (futures share the channel's name space).
   */
  onState(name: string, state: string): 'changed' | 'unchanged' | 'foreign' {
    const p = parseOptionName(name);
    if (!p || p.currency !== this.o.currency) return 'foreign';
    if (LIVE_STATES.has(state)) {
      if (this.byName.has(name) || expiredAt(p.expiryMs, this.o.venueNow())) return 'unchanged';
      const inst: OptionInstrument = { venue: 'deribit', name, currency: this.o.currency, strike: p.strike, expiryMs: p.expiryMs, isCall: p.isCall, multiplier: 1 };
      this.byName.set(name, inst);
      this.o.sink.instruments('deribit', this.o.currency, [inst], false);
      return 'changed';
    }
    return ENDED_STATES.has(state) && this.remove(name) ? 'changed' : 'unchanged';
  }

  /** Delists one option (the venue says it is over); false when it was not listed. */
  remove(name: string): boolean {
    if (!this.byName.delete(name)) return false;
    this.publish();
    return true;
  }

  /** Drops what expired at venue time (the host also excludes it by valuation time); true when any went. */
  pruneExpired(): boolean {
    const now = this.o.venueNow();
    if (now === null) return false;
    let removed = false;
    for (const [name, inst] of this.byName) {
      if (!expiredAt(inst.expiryMs, now)) continue;
      this.byName.delete(name);
      removed = true;
    }
    if (removed) this.publish();
    return removed;
  }

  private publish(): void {
    this.o.sink.instruments('deribit', this.o.currency, [...this.byName.values()], true);
  }
}
