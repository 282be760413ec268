/**
 * Binance combined-stream rules of the local server: `/binance/market/stream` (European options
 * `{u}@optionMarkPrice`, `{u}@optionOpenInterest@YYMMDD`, `!optionSymbol`, USD-M `{u}@markPrice[@1s]`)
 * and `/binance/public/stream` (USD-M `{u}@depth{5|10|20}[@100ms|@250ms|@500ms]`), live
 * `{"method":"SUBSCRIBE","params":[...],"id":n}` -> `{"result":null,"id":n}`; frames `{"stream","data"}`.
 * A stream routed to the wrong path is accepted and stays silent, as on Binance.
 * Keepalive: websocket ping frames from the server every 3 min (the hub; the client's stack answers
 * them); more than 10 incoming messages a second or 24 h of age closes the connection.
 * What is pushed comes from the source: the simulator (`./sim.ts`) or a recording (`../../replay/venue-source.ts`,
 * `./replay.ts`). Subscription keys are the stream names.
 */
import type { Currency } from '../../sim/market.ts';
import type { VenueHub, VenueHubOptions, VenueProtocol, VenueSource } from '../hub.ts';
import type { VenueSession } from '../session.ts';

export const BINANCE_MARKET_PATH = '/binance/market/stream';
export const BINANCE_PUBLIC_PATH = '/binance/public/stream';
export const BINANCE_REST_PREFIX = '/binance/rest';
export const BINANCE_LIVE_BASE = 'https://eapi.binance.com';
export const BINANCE_RELAY_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/eapi/v1/exchangeInfo', []],
  ['/eapi/v1/trades', ['symbol', 'limit']],
  ['/eapi/v1/blockTrades', ['symbol', 'limit']],
]);
export const BINANCE_PING_MS = 180_000;
/** Binance: at most 10 incoming messages a second (past it the connection is closed) and 1,024 streams per connection. */
export const BINANCE_SESSION: VenueHubOptions['session'] = { requestBurst: 10, requestsPerSec: 10, maxChannels: 1_024 };
const MAX_AGE_MS = 24 * 3_600_000;
const UND: ReadonlyMap<string, Currency> = new Map([
  ['btcusdt', 'BTC'],
  ['ethusdt', 'ETH'],
]);

export type Stream =
  | { t: 'marks'; c: Currency; path: string; every: number }
  | { t: 'oi'; c: Currency; code: string; path: string; every: number }
  | { t: 'symbols'; path: string; every: number }
  | { t: 'mark'; c: Currency; path: string; every: number }
  | { t: 'depth'; c: Currency; levels: number; path: string; every: number }
  | { t: 'trades'; c: Currency; path: string; every: number };

export function parseStream(name: string): Stream | null {
  if (name === '!optionSymbol') return { t: 'symbols', path: BINANCE_MARKET_PATH, every: 0 };
  const p = name.split('@');
  const c = UND.get(p[0]);
  if (!c) return null;
  // every option trade of the underlying, on the /public path (2025-26 layout)
  if (p.length === 2 && p[1] === 'optionTrade') return { t: 'trades', c, path: BINANCE_PUBLIC_PATH, every: 1 };
  if (p.length === 2 && p[1] === 'optionMarkPrice') return { t: 'marks', c, path: BINANCE_MARKET_PATH, every: 10 };
  if (p.length === 3 && p[1] === 'optionOpenInterest' && /^\d{6}$/.test(p[2])) return { t: 'oi', c, code: p[2], path: BINANCE_MARKET_PATH, every: 30 };
  if (p[1] === 'markPrice' && (p.length === 2 || (p.length === 3 && p[2] === '1s'))) return { t: 'mark', c, path: BINANCE_MARKET_PATH, every: p.length === 3 ? 10 : 30 };
  const dm = /^depth(5|10|20)$/.exec(p[1] ?? '');
  if (dm && (p.length === 2 || (p.length === 3 && ['100ms', '250ms', '500ms'].includes(p[2])))) {
    const every = p.length === 2 ? 3 : Number(p[2].replace('ms', '')) / 100;
    return { t: 'depth', c, levels: Number(dm[1]), path: BINANCE_PUBLIC_PATH, every: Math.round(every) };
  }
  return null;
}

export class BinanceProtocol implements VenueProtocol {
  readonly paths = [BINANCE_MARKET_PATH, BINANCE_PUBLIC_PATH];
  readonly malformed: readonly string[] = [
    '{"stream":"btcusdt@optionMarkPrice","data":{"not":"an array"}}',
    '{"stream":"nosuch@stream","data":[]}',
    '{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","s":"BTCUSDT","p":"x","i":"1","E":1}}',
  ];

  constructor(
    readonly hub: VenueHub,
    readonly source: VenueSource,
  ) {}

  /** More than 10 messages a second close the connection: the hub's request budget (BINANCE_SESSION). */
  onMessage(s: VenueSession, text: string): void {
    let m: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('x');
      m = v as Record<string, unknown>;
    } catch {
      s.reply(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' } }));
      return;
    }
    const id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
    if (m.method === 'LIST_SUBSCRIPTIONS') {
      s.reply(JSON.stringify({ result: [...s.subs], id }));
      return;
    }
    if ((m.method !== 'SUBSCRIBE' && m.method !== 'UNSUBSCRIBE') || !Array.isArray(m.params)) {
      s.reply(JSON.stringify({ error: { code: 2, msg: `Invalid request: unknown variant \`${String(m.method).slice(0, 20)}\`` }, id }));
      return;
    }
    const names: string[] = [];
    for (const p of m.params) {
      if (typeof p !== 'string' || !this.source.serves(p, s.path)) {
        s.reply(JSON.stringify({ error: { code: 2, msg: `Invalid request: invalid stream name ${String(p).slice(0, 60)}` }, id }));
        return;
      }
      names.push(p);
    }
    if (m.method === 'SUBSCRIBE') {
      if (!s.roomFor(new Set(names.filter((n) => !s.subs.has(n))).size)) {
        s.reply(JSON.stringify({ error: { code: 4, msg: `Too many streams: at most ${s.limits.maxChannels} per connection` }, id }));
        return;
      }
      for (const n of names) s.subs.add(n);
    } else for (const n of names) s.subs.delete(n);
    s.reply(JSON.stringify({ result: null, id }));
  }

  tick(tickNo: number): void {
    for (const s of this.hub.sessions) if (Date.now() - s.openedAt > MAX_AGE_MS) s.close(1000, 'connection lifetime 24h reached');
    this.source.tick(tickNo);
  }

  oversizeFrame(): string {
    return JSON.stringify({ stream: 'btcusdt@markPrice@1s', data: { e: 'markPriceUpdate', padding: 'x'.repeat(10 * 1024 * 1024) } });
  }
}
