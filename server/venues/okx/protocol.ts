/**
 * OKX v5 public websocket rules of the local server (`/okx/ws/v5/public`): text `ping` -> `pong`,
 * `{"op":"subscribe"|"unsubscribe","args":[...]}` with one ack per arg (`60018` for an arg the source
 * does not serve, `60012` for a bad request, `60014` over 480 requests an hour), numbers as strings.
 * What is pushed comes from the source: the simulator (`./sim.ts`) or a recording (`../../replay/venue-source.ts`,
 * `./replay.ts`). Subscription keys are the canonical arg as JSON (`{channel,instFamily}` for
 * opt-summary, else `{channel,instId}`).
 */
import { yymmdd } from '../format.ts';
import type { VenueHub, VenueHubOptions, VenueProtocol, VenueSource } from '../hub.ts';
import type { VenueSession } from '../session.ts';
import type { OptionDef } from '../../sim/market.ts';
import { okxBookChecksum } from '../../../src/feeds/okx/parse.ts';

export const OKX_WS_PATH = '/okx/ws/v5/public';
export const OKX_REST_PREFIX = '/okx/rest';
/** Read-only OKX REST paths the pass-through relays live, with their allowed query keys. */
export const OKX_LIVE_BASE = 'https://www.okx.com';
export const OKX_RELAY_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/api/v5/public/instruments', ['instType', 'instFamily', 'uly', 'instId']],
  // the perpetual's book snapshot (OKX pushes none since 2026)
  ['/api/v5/market/books', ['instId', 'sz']],
  // the latest 100 option trades of a family or an instrument
  ['/api/v5/public/option-trades', ['instFamily', 'instId', 'optType']],
]);

/**
 * How the `books` channel behaves. `current` (OKX since 23 June 2026): `checksum` is 0 on every frame
 * and no snapshot is pushed (the client takes it from `GET /api/v5/market/books`). `legacy` (before):
 * a snapshot is pushed on subscribe and every frame carries the CRC32 checksum of the top 25 levels.
 */
export type OkxBooksMode = 'current' | 'legacy';
const OKX_SUBSCRIBES_PER_HOUR = 480;
/**
 * OKX documents 480 (un)subscribes an hour per connection and 64 KB of args per request, but no cap
 * on inbound frames or channels; ours: 1,000 frames at once, 100 a second, and 4,000 channels (the
 * client subscribes one open-interest channel per listed option, about 1,000 a currency).
 */
export const OKX_SESSION: VenueHubOptions['session'] = { requestBurst: 1_000, requestsPerSec: 100, maxChannels: 4_000 };
/** Args of one request answered with an error each; past this many, the rest share one error. */
const OKX_ARG_ERRORS_PER_REQUEST = 20;

export function okxOptionId(d: OptionDef): string {
  return `${d.currency}-USD-${yymmdd(d.expiryMs)}-${d.strike}-${d.isCall ? 'C' : 'P'}`;
}

/** The USD-margined family's name for an option: `BTC-USD_UM-261225-100000-C`. */
export function okxUmOptionId(d: OptionDef): string {
  return `${d.currency}-USD_UM-${yymmdd(d.expiryMs)}-${d.strike}-${d.isCall ? 'C' : 'P'}`;
}

/** The canonical form of a subscribe arg (its subscription key is this as JSON), or null when malformed. */
export function okxArg(a: unknown): Record<string, string> | null {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return null;
  const r = a as Record<string, unknown>;
  if (typeof r.channel !== 'string' || r.channel === '') return null;
  const fam = typeof r.instFamily === 'string' ? r.instFamily : typeof r.uly === 'string' ? r.uly : undefined;
  if (r.channel === 'opt-summary') return fam ? { channel: r.channel, instFamily: fam } : null;
  if (typeof r.instId === 'string' && r.instId !== '') return { channel: r.channel, instId: r.instId };
  return fam ? { channel: r.channel, instFamily: fam } : null;
}

/** The subscription key of an arg (canonical JSON), or null. */
export function okxKey(a: unknown): string | null {
  const arg = okxArg(a);
  return arg ? JSON.stringify(arg) : null;
}

/**
 * OKX checksum of a book (best 25 of each side interleaved `bidPx:bidSz:askPx:askSz:...`, CRC32): the
 * client's own (src/feeds/okx/parse.ts), which the real 2022 captures' checksums test.
 */
export function okxChecksum(bids: readonly (readonly [string, string])[], asks: readonly (readonly [string, string])[]): number {
  const level = ([priceText, sizeText]: readonly [string, string]) => ({ price: Number(priceText), size: Number(sizeText), priceText, sizeText });
  return okxBookChecksum(bids.map(level), asks.map(level));
}

export class OkxProtocol implements VenueProtocol {
  readonly paths = [OKX_WS_PATH];
  readonly malformed: readonly string[] = [
    '{"arg":{"channel":"opt-summary","instFamily":"BTC-USD"},"data":"not an array"}',
    '{"arg":{"channel":"no-such-channel","instId":"BTC-USD"},"data":[{"x":"1"}]}',
    '{"arg":{"channel":"index-tickers","instId":"BTC-USD"},"data":[{"instId":"BTC-USD","idxPx":"abc","ts":"1"}]}',
  ];

  constructor(
    readonly hub: VenueHub,
    readonly source: VenueSource,
  ) {}

  onMessage(s: VenueSession, text: string): void {
    if (text === 'ping') {
      s.reply('pong');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      s.reply(this.error(s, '60012', `Invalid request: ${text.slice(0, 60)}`));
      return;
    }
    const m = msg as { op?: unknown; args?: unknown };
    if (typeof msg !== 'object' || msg === null || (m.op !== 'subscribe' && m.op !== 'unsubscribe') || !Array.isArray(m.args) || m.args.length === 0) {
      s.reply(this.error(s, '60012', `Invalid request: ${text.slice(0, 60)}`));
      return;
    }
    const n = (s.counters.subscribes ?? 0) + 1;
    s.counters.subscribes = n;
    if (n > OKX_SUBSCRIBES_PER_HOUR && Date.now() - s.openedAt < 3_600_000) {
      s.reply(this.error(s, '60014', 'Requests too frequent.'));
      return;
    }
    const fresh: string[] = [];
    let failed = 0;
    // one error per bad arg, as OKX answers, but a request of thousands of bad args is not amplified
    // into thousands of frames: past OKX_ARG_ERRORS_PER_REQUEST they share one error
    const fail = (code: string, msg: string) => {
      if (++failed <= OKX_ARG_ERRORS_PER_REQUEST) s.reply(this.error(s, code, msg));
    };
    for (const a of m.args) {
      const arg = okxArg(a);
      const key = arg ? JSON.stringify(arg) : null;
      if (!arg || !key || !this.source.serves(key, s.path)) {
        const r = typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : {};
        fail('60018', `Wrong URL or channel:${String(r.channel).slice(0, 40)},instId:${String(r.instId ?? r.instFamily).slice(0, 40)} doesn't exist`);
        continue;
      }
      if (m.op === 'subscribe') {
        if (!s.subs.has(key)) {
          if (!s.roomFor(1)) {
            fail('60012', `Invalid request: at most ${s.limits.maxChannels} channels per connection`);
            continue;
          }
          fresh.push(key);
        }
        s.subs.add(key);
      } else {
        s.subs.delete(key);
        s.state.delete(key);
      }
      s.reply(JSON.stringify({ event: m.op, arg, connId: s.connId }));
    }
    if (failed > OKX_ARG_ERRORS_PER_REQUEST) s.reply(this.error(s, '60012', `Invalid request: ${failed - OKX_ARG_ERRORS_PER_REQUEST} more args refused`));
    if (fresh.length > 0) this.source.subscribed?.(s, fresh);
  }

  private error(s: VenueSession, code: string, msg: string): string {
    return JSON.stringify({ event: 'error', code, msg, connId: s.connId });
  }

  tick(tickNo: number): void {
    this.source.tick(tickNo);
  }

  oversizeFrame(): string {
    return JSON.stringify({ arg: { channel: 'index-tickers', instId: 'BTC-USD' }, data: [{ instId: 'BTC-USD', idxPx: '1', ts: String(this.hub.nowMs()), padding: 'x'.repeat(10 * 1024 * 1024) }] });
  }
}
