/**
 * Deribit's channel names as the simulator serves them: which names are valid (the documented
 * intervals, book groups and depths, and currency enum), what each one carries and how often (in
 * 100 ms ticks). Name tables are Maps: a plain object would answer `constructor` or `__proto__` with
 * its prototype's members.
 */
import type { Currency } from '../../sim/market.ts';
import { parseInstrumentName } from '../../sim/calendar.ts';

export type Channel =
  | { t: 'ticker'; inst: string; every: number }
  | { t: 'book'; inst: Currency; every: number }
  | { t: 'bookGrouped'; inst: Currency; group: number; depth: number; every: number }
  | { t: 'markprice'; c: Currency; every: number }
  | { t: 'index'; c: Currency; every: number }
  | { t: 'estimated'; c: Currency; every: number }
  | { t: 'perpetual'; c: Currency; every: number }
  | { t: 'trades'; c: Currency; every: number }
  | { t: 'state'; kind: string; cur: string }
  | { t: 'platform' };

const INTERVAL_TICKS: ReadonlyMap<string, number> = new Map([
  ['raw', 1],
  ['100ms', 1],
  ['agg2', 20],
]);
export const IDX: ReadonlyMap<string, Currency> = new Map([
  ['btc_usd', 'BTC'],
  ['eth_usd', 'ETH'],
]);
export const PERP: ReadonlyMap<string, Currency> = new Map([
  ['BTC-PERPETUAL', 'BTC'],
  ['ETH-PERPETUAL', 'ETH'],
]);
/** Grouped-book groups Deribit documents per currency (ETH's are hundredths: `5` groups by 0.05). */
const BOOK_GROUPS: ReadonlyMap<Currency, ReadonlyMap<string, number>> = new Map([
  ['BTC', new Map([['none', 0], ['1', 1], ['2', 2], ['5', 5], ['10', 10]])],
  ['ETH', new Map([['none', 0], ['5', 0.05], ['10', 0.1], ['25', 0.25], ['100', 1], ['250', 2.5]])],
]);

/** A channel name read, or null when the simulator does not serve it. */
export function parseChannel(ch: string): Channel | null {
  const parts = ch.split('.');
  const every = (iv: string | undefined) => (iv !== undefined ? INTERVAL_TICKS.get(iv) : undefined);
  switch (parts[0]) {
    case 'ticker': {
      const e = every(parts[2]);
      if (parts.length !== 3 || e === undefined) return null;
      const pn = parseInstrumentName(parts[1]);
      if (!pn || (pn.currency !== 'BTC' && pn.currency !== 'ETH')) return null;
      return { t: 'ticker', inst: parts[1], every: e };
    }
    case 'book': {
      const c = PERP.get(parts[1]);
      if (!c) return null;
      if (parts.length === 3 && every(parts[2]) !== undefined) return { t: 'book', inst: c, every: every(parts[2])! };
      if (parts.length === 5 && every(parts[4]) !== undefined && ['1', '10', '20'].includes(parts[3])) {
        const group = BOOK_GROUPS.get(c)!.get(parts[2]);
        if (group === undefined) return null;
        return { t: 'bookGrouped', inst: c, group, depth: Number(parts[3]), every: every(parts[4])! };
      }
      return null;
    }
    case 'markprice': {
      const c = IDX.get(parts[2]);
      return parts.length === 3 && parts[1] === 'options' && c ? { t: 'markprice', c, every: 10 } : null;
    }
    case 'deribit_price_index': {
      const c = IDX.get(parts[1]);
      return parts.length === 2 && c ? { t: 'index', c, every: 1 } : null;
    }
    case 'estimated_expiration_price': {
      const c = IDX.get(parts[1]);
      return parts.length === 2 && c ? { t: 'estimated', c, every: 10 } : null;
    }
    case 'perpetual': {
      const c = PERP.get(parts[1]);
      const e = every(parts[2]);
      return parts.length === 3 && c && e !== undefined ? { t: 'perpetual', c, every: e } : null;
    }
    case 'trades': {
      // `trades.option.{BTC|ETH}.{100ms|raw}`: every option trade of the currency (agg2 would batch them, not served)
      const c = parts[2] === 'BTC' || parts[2] === 'ETH' ? parts[2] : undefined;
      return parts.length === 4 && parts[1] === 'option' && c && (parts[3] === '100ms' || parts[3] === 'raw') ? { t: 'trades', c, every: 1 } : null;
    }
    case 'instrument': {
      if (parts.length !== 4 || parts[1] !== 'state') return null;
      const kind = parts[2];
      const cur = parts[3];
      // Deribit's documented currency enum, case and all: `instrument.state.option.btc` is refused.
      if (!['option', 'future', 'any', 'spot', 'combo'].includes(kind) || !['BTC', 'ETH', 'USDC', 'USDT', 'any'].includes(cur)) return null;
      return { t: 'state', kind, cur };
    }
    case 'platform_state':
      return parts.length === 1 ? { t: 'platform' } : null;
    default:
      return null;
  }
}
