/**
 * Bybit v5 public websocket rules of the local server: `/bybit/v5/public/option` and
 * `/bybit/v5/public/linear`. `{"op":"ping"}` is answered with the socket type's pong; subscribe acks
 * are `COMMAND_RESP` with success/fail topics on the option socket and `{success, op}` on linear; at
 * most 2,000 option args and 21,000 characters of args per connection; a socket silent for 10 min is
 * closed (by the hub). Subscription keys are the topic strings. What is pushed comes from the source:
 * the simulator (`./sim.ts`) or a recording (`../../replay/venue-source.ts`, `./replay.ts`).
 */
import type { VenueHub, VenueHubOptions, VenueProtocol, VenueSource } from '../hub.ts';
import type { VenueSession } from '../session.ts';

export const BYBIT_OPTION_PATH = '/bybit/v5/public/option';
export const BYBIT_LINEAR_PATH = '/bybit/v5/public/linear';
export const BYBIT_REST_PREFIX = '/bybit/rest';
export const BYBIT_LIVE_BASE = 'https://api.bybit.com';
export const BYBIT_RELAY_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/v5/market/instruments-info', ['category', 'baseCoin', 'symbol', 'limit', 'cursor', 'status']],
  ['/v5/market/recent-trade', ['category', 'baseCoin', 'symbol', 'optionType', 'limit']],
]);
export const BYBIT_IDLE_CLOSE_MS = 10 * 60_000;
const MAX_ARGS_CHARS = 21_000;
/**
 * Bybit: at most 2,000 option args per connection (documented); no documented cap on inbound frames,
 * ours: 1,000 at once, 100 a second.
 */
export const BYBIT_SESSION: VenueHubOptions['session'] = { requestBurst: 1_000, requestsPerSec: 100, maxChannels: 2_000 };

export class BybitProtocol implements VenueProtocol {
  readonly paths = [BYBIT_OPTION_PATH, BYBIT_LINEAR_PATH];
  readonly malformed: readonly string[] = [
    '{"topic":"tickers.BTC-1JAN30-1-C","ts":"later","data":{},"type":"snapshot"}',
    '{"topic":"nosuch.topic","ts":1700000000000,"data":{}}',
    '{"topic":"orderbook.200.BTCUSDT","ts":1700000000000,"type":"delta","data":{"s":"BTCUSDT","b":[["x","1"]],"a":[],"u":5}}',
  ];

  constructor(
    readonly hub: VenueHub,
    readonly source: VenueSource,
  ) {}

  onMessage(s: VenueSession, text: string): void {
    const option = s.path === BYBIT_OPTION_PATH;
    let m: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      m = v as Record<string, unknown>;
    } catch {
      s.reply(JSON.stringify({ success: false, ret_msg: `error:json unmarshal: ${text.slice(0, 40)}`, conn_id: s.connId, op: '' }));
      return;
    }
    const reqId = typeof m.req_id === 'string' ? m.req_id : undefined;
    if (m.op === 'ping') {
      s.reply(
        option
          ? JSON.stringify({ req_id: reqId, op: 'pong', args: [String(Date.now())], conn_id: s.connId })
          : JSON.stringify({ success: true, ret_msg: 'pong', conn_id: s.connId, req_id: reqId, op: 'ping' }),
      );
      return;
    }
    if ((m.op !== 'subscribe' && m.op !== 'unsubscribe') || !Array.isArray(m.args)) {
      s.reply(JSON.stringify({ success: false, ret_msg: `error:unsupported op ${String(m.op).slice(0, 20)}`, conn_id: s.connId, req_id: reqId, op: String(m.op ?? '') }));
      return;
    }
    const ok: string[] = [];
    const failed: string[] = [];
    for (const a of m.args) {
      if (typeof a !== 'string' || !this.source.serves(a, s.path)) failed.push(String(a).slice(0, 80));
      else ok.push(a);
    }
    const fresh = m.op === 'subscribe' ? [...new Set(ok.filter((t) => !s.subs.has(t)))] : [];
    const chars = [...s.subs, ...fresh].reduce((n, t) => n + t.length + 3, 2);
    if (!s.roomFor(fresh.length) || (option && chars > MAX_ARGS_CHARS)) {
      s.reply(JSON.stringify({ success: false, ret_msg: `error:args count or size over the connection limit (${s.limits.maxChannels} args, ${MAX_ARGS_CHARS} chars)`, conn_id: s.connId, req_id: reqId, op: 'subscribe' }));
      return;
    }
    for (const t of ok) {
      if (m.op === 'subscribe') s.subs.add(t);
      else {
        s.subs.delete(t);
        s.state.delete(t);
      }
    }
    if (option) {
      s.reply(JSON.stringify({ success: true, ret_msg: '', conn_id: s.connId, req_id: reqId, data: { successTopics: ok, failTopics: failed }, type: 'COMMAND_RESP' }));
    } else {
      const success = failed.length === 0;
      s.reply(JSON.stringify({ success, ret_msg: success ? '' : `error:handler not found,topic:${failed[0]}`, conn_id: s.connId, req_id: reqId, op: m.op }));
    }
    if (fresh.length > 0) this.source.subscribed?.(s, fresh);
  }

  tick(tickNo: number): void {
    this.source.tick(tickNo);
  }

  oversizeFrame(): string {
    return JSON.stringify({ topic: 'tickers.BTCUSDT', type: 'delta', ts: this.hub.nowMs(), data: { symbol: 'BTCUSDT', padding: 'x'.repeat(10 * 1024 * 1024) } });
  }
}
