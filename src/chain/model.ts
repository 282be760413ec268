/**
 * The one normalised chain model every venue adapter produces. Venue folders translate their frames
 * into these updates; the worker applies them to a ChainStore; the engine reads the store's columns.
 */
import type { ChainColumns } from '../engine/types.ts';

export type { VenueId } from '../shared/venues.ts';
export type { Currency } from '../shared/policy.ts';
import type { VenueId } from '../shared/venues.ts';
import type { Currency } from '../shared/policy.ts';

/** Static description of an option instrument (from instrument discovery). */
export interface OptionInstrument {
  venue: VenueId;
  /** Venue's own instrument name, e.g. BTC-27DEC24-100000-C. */
  name: string;
  currency: Currency;
  strike: number;
  expiryMs: number;
  isCall: boolean;
  /**
   * The venue's option family when it lists several for a currency that are summed together (OKX
   * `BTC-USD` and `BTC-USD_UM`): the status line counts lines per family.
   */
  family?: string;
  /** Settlement currency of the family, as the venue names it (OKX `settleCcy`). */
  settleCurrency?: string;
  /** Underlying units per contract (Deribit inverse options: contract_size = 1 coin). */
  multiplier: number;
  /** When the venue listed it, epoch ms (Deribit `creation_timestamp`), where the venue says. */
  listedMs?: number;
}

/**
 * One trade of a venue's public tape, normalised (design: "Dealer positions from the trade tape").
 * The taker's side is what the venue publishes; the passive side is taken to be a dealer.
 */
export interface TapeTrade {
  venue: VenueId;
  instrument: string;
  /** The venue's trade id: a trade is counted once by it. */
  tradeId: string;
  timestampMs: number;
  takerSide: 'buy' | 'sell';
  /** Size in the unit of the chain's open interest for that line. */
  contracts: number;
  /** Part of a block trade (counted apart on screen). */
  block: boolean;
}

/**
 * A partial update of one option line; fields left undefined are unchanged.
 * `timestampMs` is the venue's own event time: an update older than what the line already holds
 * for that field group is ignored (out-of-order frames never overwrite newer data).
 */
export interface OptionLineUpdate {
  name: string;
  timestampMs: number;
  /** Decimal (0.6 = 60 %). */
  markIv?: number;
  /** USD forward of the line's expiry. */
  forward?: number;
  /** Contracts. */
  openInterest?: number;
}

/** Per-expiry forward (when a venue gives one forward for a whole expiry). */
export interface ForwardUpdate {
  expiryMs: number;
  forward: number;
  timestampMs: number;
}

/** Perpetual quote for the hedge side. Depth is the resting size within a band around mid, coin. */
export interface PerpQuote {
  venue: VenueId;
  instrument: string;
  timestampMs: number;
  markPrice: number;
  indexPrice: number;
  /** Current funding rate as a fraction per 8 h (Deribit funding_8h). */
  funding8h: number | null;
  /** Open interest in underlying units (converted from USD for inverse perps). */
  openInterestCoin: number | null;
  bestBid: number | null;
  bestAsk: number | null;
  /** Book depth within +-0.5 %, 1 %, 2 % of mid, in underlying units: bids below mid, asks above. */
  depth: { bandPct: number; bidCoin: number; askCoin: number }[];
}

export type { ChainColumns };
