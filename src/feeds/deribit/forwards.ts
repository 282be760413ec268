/**
 * Which option's ticker gives each expiry's forward. One `ticker.{option}.100ms` per expiry (client.ts
 * header): its `underlying_price` is that expiry's forward, and any option of the expiry carries the
 * same one, so the listed call nearest the money, the liveliest, is taken. The choice is pure
 * (`pickForwardInstruments`); `ForwardTickers` keeps the current picks and says when spot moved enough
 * to choose again.
 */
import type { OptionInstrument } from '../../chain/model.ts';
import { expiredAt } from '../venue-time.ts';
import { FORWARD_REPICK_MOVE } from './limits.ts';

export const forwardChannel = (instrument: string) => `ticker.${instrument}.100ms`;

/** Expiry (ms) -> the instrument whose ticker gives that expiry's forward. */
export type ForwardPicks = ReadonlyMap<number, string>;

/**
 * Per expiry not expired at venue time (unknown venue time expires nothing), the listed call with the
 * strike nearest `spot`, the lower strike on a tie. Returns the new picks and the instruments whose
 * tickers to subscribe (`add`) and unsubscribe (`remove`) against `current`: an unchanged pick is in
 * neither.
 */
export function pickForwardInstruments(
  instruments: Iterable<OptionInstrument>,
  spot: number,
  venueNow: number | null,
  current: ForwardPicks,
): { picks: Map<number, string>; add: string[]; remove: string[] } {
  const best = new Map<number, OptionInstrument>();
  for (const inst of instruments) {
    if (!inst.isCall || expiredAt(inst.expiryMs, venueNow)) continue;
    const cur = best.get(inst.expiryMs);
    if (!cur) {
      best.set(inst.expiryMs, inst);
      continue;
    }
    const d = Math.abs(inst.strike - spot);
    const dc = Math.abs(cur.strike - spot);
    if (d < dc || (d === dc && inst.strike < cur.strike)) best.set(inst.expiryMs, inst);
  }
  const picks = new Map(current);
  const add: string[] = [];
  const remove: string[] = [];
  for (const [expiry, name] of current) {
    if (best.get(expiry)?.name === name) continue;
    picks.delete(expiry);
    remove.push(name);
  }
  for (const [expiry, inst] of best) {
    if (picks.get(expiry) === inst.name) continue;
    picks.set(expiry, inst.name);
    add.push(inst.name);
  }
  return { picks, add, remove };
}

/** The current picks, and the spot they were chosen at. */
export class ForwardTickers {
  private picks: ForwardPicks = new Map();
  private spotAtPick: number | null = null;

  /** No pick was made yet (no spot before). */
  get unpicked(): boolean {
    return this.spotAtPick === null;
  }

  /** Spot moved more than FORWARD_REPICK_MOVE since the last pick: the nearest calls may have changed. */
  spotMoved(spot: number): boolean {
    return this.spotAtPick === null || Math.abs(spot / this.spotAtPick - 1) > FORWARD_REPICK_MOVE;
  }

  /** Chooses again; the instruments whose tickers to subscribe and unsubscribe. */
  repick(instruments: Iterable<OptionInstrument>, spot: number, venueNow: number | null): { add: string[]; remove: string[] } {
    const { picks, add, remove } = pickForwardInstruments(instruments, spot, venueNow, this.picks);
    this.picks = picks;
    this.spotAtPick = spot;
    return { add, remove };
  }

  /** Drops the pick whose ticker channel is `channel`: its instrument, or null when no pick has it. */
  forget(channel: string): string | null {
    for (const [expiry, name] of this.picks) {
      if (forwardChannel(name) !== channel) continue;
      const picks = new Map(this.picks);
      picks.delete(expiry);
      this.picks = picks;
      return name;
    }
    return null;
  }
}
