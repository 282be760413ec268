/**
 * How a Binance recording is replayed (see ../../replay/venue-source.ts): data frames are `{stream, data}`
 * keyed by stream, on the path they were recorded on (a stream subscribed on the other path stays
 * silent, as on Binance); depth streams are whole top-N snapshots, so nothing is folded; exchangeInfo
 * not in the recording is derived from the option symbols it names (unit 1, as every BTC/ETH listing).
 */
import type { RestAnswer } from '../../http/rest-relay.ts';
import type { ReplaySpec } from '../../replay/venue-source.ts';
import { firstRow, venueTime } from '../../replay/venue-clock.ts';
import { BINANCE_MARKET_PATH, BINANCE_PUBLIC_PATH, BINANCE_REST_PREFIX, parseStream } from './protocol.ts';

const SYMBOL = /^([A-Z0-9]+)-(\d{2})(\d{2})(\d{2})-(\d+(?:\.\d+)?)-([CP])$/;

/** `GET /eapi/v1/exchangeInfo` from the option symbols a recording names (unexpired at `nowMs`). */
function deriveExchangeInfo(known: ReadonlySet<string>, nowMs: number): RestAnswer {
  const optionSymbols: Record<string, unknown>[] = [];
  for (const sym of [...known].sort()) {
    const m = SYMBOL.exec(sym);
    if (!m) continue;
    const expiryDate = Date.UTC(2000 + Number(m[2]), Number(m[3]) - 1, Number(m[4]), 8);
    if (expiryDate <= nowMs) continue;
    optionSymbols.push({ symbol: sym, expiryDate, strikePrice: m[5], side: m[6] === 'C' ? 'CALL' : 'PUT', underlying: `${m[1]}USDT`, unit: 1, quoteAsset: 'USDT', status: 'TRADING' });
  }
  return { status: 200, body: { timezone: 'UTC', serverTime: Math.floor(nowMs), optionContracts: [], optionAssets: [], optionSymbols, rateLimits: [] } };
}

/** The venue time of a Binance push: its (first) event's `E`. */
export const binanceStamp = (f: Record<string, unknown>): number | null => venueTime(firstRow(f.data)?.E);

/** A captured push's path: USD-M book streams are served on /public, everything else on /market. */
export const binanceCapturePath = (f: Record<string, unknown>): string => (/@depth/.test(String(f.stream)) ? BINANCE_PUBLIC_PATH : BINANCE_MARKET_PATH);

export const BINANCE_REPLAY: ReplaySpec = {
  venue: 'binance',
  restPrefix: BINANCE_REST_PREFIX,
  tradeHistoryPaths: new Set(['/eapi/v1/trades', '/eapi/v1/blockTrades']),
  timeFields: new Set(['E', 'T']),
  idFields: new Set(['s', 'symbol']),
  topicOf: (f) => (typeof f.stream === 'string' && f.data !== undefined ? f.stream : null),
  servable: (key) => parseStream(key) !== null,
  deriveRest(path, _q, known, nowMs) {
    if (path !== '/eapi/v1/exchangeInfo') return { status: 404, body: { code: -1, msg: 'not found' } };
    return deriveExchangeInfo(known, nowMs);
  },
};
