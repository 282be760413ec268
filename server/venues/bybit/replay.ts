/**
 * How a Bybit recording is replayed (see ../../replay/venue-source.ts): data frames are `{topic, data}` pushes
 * keyed by topic, on the socket type (option/linear) they were recorded on; order books and the linear
 * tickers (snapshot, then deltas of changed fields) are folded so a late subscriber gets a snapshot;
 * the REST instrument list not in the recording is derived from the option symbols it names.
 */
import { parseInstrumentName } from '../../sim/calendar.ts';
import type { RestAnswer } from '../../http/rest-relay.ts';
import type { ReplaySpec } from '../../replay/venue-source.ts';
import { applyLevels, sortedLevels } from '../books.ts';
import { firstRow, venueTime } from '../../replay/venue-clock.ts';
import { BYBIT_LINEAR_PATH, BYBIT_OPTION_PATH, BYBIT_REST_PREFIX } from './protocol.ts';

type Lvl = readonly string[];

type BybitState =
  | { kind: 'book'; topic: unknown; s: unknown; bids: Map<string, Lvl>; asks: Map<string, Lvl>; u: unknown; seq: unknown; ts: unknown; cts: unknown }
  | { kind: 'ticker'; topic: unknown; data: Record<string, unknown>; cs: unknown; ts: unknown };

const isBookTopic = (key: string) => key.startsWith('orderbook.');
/** Linear tickers are snapshot + deltas; option tickers are whole snapshots (their symbols have dashes). */
const isLinearTicker = (key: string) => key.startsWith('tickers.') && !key.includes('-');

/** `GET /v5/market/instruments-info?category=option&baseCoin=C` from the symbols a recording names. */
function deriveInstruments(q: URLSearchParams, known: ReadonlySet<string>, nowMs: number): RestAnswer {
  const time = Math.floor(nowMs);
  if (q.get('category') !== 'option') return { status: 200, body: { retCode: 10001, retMsg: 'params error: category only option is served here', result: {}, retExtInfo: {}, time } };
  const coin = q.get('baseCoin') ?? 'BTC';
  const list: Record<string, string>[] = [];
  for (const sym of [...known].sort()) {
    const usdt = sym.endsWith('-USDT');
    const p = parseInstrumentName(usdt ? sym.slice(0, -5) : sym);
    if (!p || p.kind !== 'option' || p.currency !== coin || p.expiryMs === undefined || p.expiryMs <= nowMs) continue;
    list.push({ symbol: sym, optionsType: p.isCall ? 'Call' : 'Put', status: 'Trading', baseCoin: coin, quoteCoin: usdt ? 'USDT' : 'USD', settleCoin: usdt ? 'USDT' : 'USDC', launchTime: '', deliveryTime: String(p.expiryMs) });
  }
  return { status: 200, body: { retCode: 0, retMsg: 'success', result: { category: 'option', nextPageCursor: '', list }, retExtInfo: {}, time } };
}

/** The venue time of a Bybit push: its `ts` (or its data's `updatedTime`). */
export const bybitStamp = (f: Record<string, unknown>): number | null => venueTime(f.ts ?? firstRow(f.data)?.updatedTime);

/** A captured push's socket: option topics name a dashed option symbol, linear perps (BTCUSDT) go to /linear, others are not served. */
export function bybitCapturePath(f: Record<string, unknown>): string | null {
  const sym = String(f.topic).split('.').pop() ?? '';
  if (sym.includes('-')) return BYBIT_OPTION_PATH;
  return /USDT$/.test(sym) ? BYBIT_LINEAR_PATH : null;
}

export const BYBIT_REPLAY: ReplaySpec = {
  venue: 'bybit',
  restPrefix: BYBIT_REST_PREFIX,
  tradeHistoryPaths: new Set(['/v5/market/recent-trade']),
  timeFields: new Set(['ts', 'cts']),
  idFields: new Set(['symbol', 's']),
  topicOf: (f) => (typeof f.topic === 'string' && f.data !== undefined ? f.topic : null),
  servable(key, path, known) {
    const parts = key.split('.');
    const sym = parts[parts.length - 1];
    return (parts.length === 2 || parts.length === 3) && known.has(sym) && (path === BYBIT_OPTION_PATH) === sym.includes('-');
  },
  book: {
    handles: (key) => isBookTopic(key) || isLinearTicker(key),
    fold(state, f) {
      const prev = state as BybitState | undefined;
      const d = (typeof f.data === 'object' && f.data !== null ? f.data : {}) as Record<string, unknown>;
      const snapshot = f.type === 'snapshot';
      if (typeof f.topic === 'string' && isBookTopic(f.topic)) {
        const b = prev?.kind === 'book' && !snapshot ? prev : { kind: 'book' as const, topic: f.topic, s: d.s, bids: new Map<string, Lvl>(), asks: new Map<string, Lvl>(), u: undefined, seq: undefined, ts: undefined, cts: undefined };
        applyLevels(b.bids, d.b);
        applyLevels(b.asks, d.a);
        Object.assign(b, { u: d.u, seq: d.seq, ts: f.ts, cts: f.cts });
        return b;
      }
      const t = prev?.kind === 'ticker' && !snapshot ? prev : { kind: 'ticker' as const, topic: f.topic, data: {}, cs: undefined, ts: undefined };
      Object.assign(t.data, d);
      t.cs = f.cs;
      t.ts = f.ts;
      return t;
    },
    snapshot(state) {
      const st = state as BybitState;
      if (st.kind === 'ticker') return Object.keys(st.data).length === 0 ? null : { topic: st.topic, type: 'snapshot', data: st.data, cs: st.cs, ts: st.ts };
      if (st.bids.size === 0 && st.asks.size === 0) return null;
      const data: Record<string, unknown> = { s: st.s, b: sortedLevels(st.bids, true), a: sortedLevels(st.asks, false), u: st.u };
      if (st.seq !== undefined) data.seq = st.seq;
      return { topic: st.topic, type: 'snapshot', ts: st.ts, data, cts: st.cts };
    },
  },
  deriveRest(path, q, known, nowMs) {
    if (path !== '/v5/market/instruments-info') return { status: 404, body: { retCode: 10404, retMsg: 'Not Found', result: {}, time: Math.floor(nowMs) } };
    return deriveInstruments(q, known, nowMs);
  },
};
