/**
 * Venue time through the EngineHost and the real venue clients, on a fake clock whose wall time is
 * years after the venue's:
 * - issue #6: a Deribit running 480x that drops and comes back hours later (venue time) is followed
 *   at once, and one corrupt far-future frame still moves nothing;
 * - issue #4: OKX, Bybit and Binance replays list and subscribe their instruments by venue time, not
 *   the wall clock, and leave an expiry only when venue time passes it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineHost, expiryLabel } from './host.ts';
import { SELECTION_DEFAULTS, type FromWorker, type ResultMessage, type ViewSelection } from './protocol.ts';
import type { VenueAdapter } from '../feeds/adapter.ts';
import type { VenueId } from '../../src/chain/model.ts';
import { deribitAdapter } from '../feeds/deribit/index.ts';
import { okxAdapter } from '../feeds/okx/index.ts';
import { parseOkxOptionName } from '../feeds/okx/parse.ts';
import { bybitAdapter } from '../feeds/bybit/index.ts';
import { binanceAdapter } from '../feeds/binance/index.ts';
import type { FetchJson } from '../feeds/rest-fetch.ts';
import { FakeClock, fakeSockets, flush, type FakeSocket } from '../feeds/testing.ts';
import { sampleDir } from '../../test/samples.ts';

const HOUR = 3_600_000;
const SPEED = 480;
const TICK_MS = 100;
/** A Friday 06:00 UTC of a replayed 2024: the 20DEC24 options expire two venue hours in. */
const VENUE_START = Date.UTC(2024, 11, 20, 6, 0, 0);
const EXPIRIES = [Date.UTC(2024, 11, 20, 8), Date.UTC(2024, 11, 27, 8), Date.UTC(2025, 0, 31, 8)];
const STRIKES = [90_000, 100_000, 110_000];
const SPOT = 100_000;

const instrumentRows = () =>
  EXPIRIES.flatMap((e) => STRIKES.flatMap((k) => (['C', 'P'] as const).map((t) => ({
    instrument_name: `BTC-${expiryLabel(e)}-${k}-${t}`, kind: 'option', strike: k, expiration_timestamp: e,
    contract_size: 1, option_type: t === 'C' ? 'call' : 'put',
  }))));

/**
 * A small Deribit behind fake sockets whose clock runs SPEED x the fake local clock: it answers the
 * client's requests (hello with `usOut` unless told not to) and pushes markprice and index every tick.
 */
class MiniDeribit {
  venueMs = VENUE_START;
  private answered = new WeakMap<FakeSocket, number>();
  constructor(private readonly usOut: boolean) {}

  private listed() {
    return instrumentRows().filter((r) => r.expiration_timestamp > this.venueMs);
  }

  private reply(s: FakeSocket, id: number, result: unknown): void {
    const us = this.usOut ? { usIn: this.venueMs * 1000, usOut: this.venueMs * 1000 + 3, usDiff: 3 } : {};
    s.receive(JSON.stringify({ jsonrpc: '2.0', id, result, ...us, testnet: false }));
  }

  /** Answers what the client sent since the last call. */
  serve(s: FakeSocket): void {
    const from = this.answered.get(s) ?? 0;
    this.answered.set(s, s.sent.length);
    for (const raw of s.sent.slice(from)) {
      const m = JSON.parse(raw) as { id: number; method: string; params: { channels?: string[] } };
      switch (m.method) {
        case 'public/get_instruments':
          this.reply(s, m.id, this.listed());
          break;
        case 'public/get_book_summary_by_currency':
          this.reply(s, m.id, this.listed().map((r, k) => ({
            instrument_name: r.instrument_name, mark_iv: 50 + (k % 5), open_interest: 100 + k, underlying_price: SPOT * 1.001,
            estimated_delivery_price: SPOT, creation_timestamp: this.venueMs, mark_price: 0.05,
          })));
          break;
        case 'public/subscribe':
        case 'public/unsubscribe':
          this.reply(s, m.id, m.params.channels ?? []);
          break;
        case 'public/hello':
          this.reply(s, m.id, { version: '1.2.26' });
          break;
        default:
          this.reply(s, m.id, 'ok');
      }
    }
  }

  push(s: FakeSocket, stampMs = this.venueMs): void {
    const note = (channel: string, data: unknown) => s.receive(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } }));
    note('markprice.options.btc_usd', this.listed().map((r) => ({ instrument_name: r.instrument_name, mark_price: 0.05, iv: 0.5, timestamp: stampMs })));
    note('deribit_price_index.btc_usd', { index_name: 'btc_usd', price: SPOT, timestamp: stampMs });
  }
}

function setup(usOut: boolean) {
  const clock = new FakeClock(Date.UTC(2030, 0, 1)); // the wall clock is years after the venue's
  const { factory, sockets } = fakeSockets();
  const posted: FromWorker[] = [];
  const host: EngineHost = new EngineHost({
    clock, socketFactory: factory, localBase: 'ws://127.0.0.1:1', adapters: [deribitAdapter],
    feedOptions: { random: () => 0.5 },
    post: (msg) => {
      posted.push(msg);
      if (msg.type === 'result') queueMicrotask(() => host.handle({ type: 'ack', seq: msg.seq }));
    },
  });
  const selection: ViewSelection = { source: 'replay', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS };
  host.handle({ type: 'select', selection });
  const venue = new MiniDeribit(usOut);
  const open = new Set<FakeSocket>();
  /** `ms` of local time in ticks: the venue moves SPEED x; the open socket is served and fed. */
  const run = async (ms: number, feed = true) => {
    for (let t = 0; t < ms; t += TICK_MS) {
      clock.advance(TICK_MS);
      venue.venueMs += SPEED * TICK_MS;
      const s = sockets.at(-1)!;
      if (feed && open.has(s) && s.readyState === 1) {
        venue.serve(s);
        venue.push(s);
      }
      await Promise.resolve(); // acks
    }
  };
  const openLatest = () => {
    const s = sockets.at(-1)!;
    s.open();
    open.add(s);
    venue.serve(s);
  };
  const results = () => posted.filter((m): m is ResultMessage => m.type === 'result');
  return { clock, host, venue, sockets, run, openLatest, results };
}

describe('venue time through the host and the real Deribit client at 480x', () => {
  for (const usOut of [true, false]) {
    it(`a reconnect 10 venue hours later is followed (${usOut ? 'at once: hello usOut anchors' : 'from the second tick: no server time'}); one corrupt frame still moves nothing`, async () => {
      const { host, venue, sockets, run, openLatest, results } = setup(usOut);
      openLatest();
      await run(5_000);
      let r = results().at(-1)!;
      expect(r.gex.includedLines).toBe(18);
      expect(venue.venueMs - r.gex.nowMs).toBeLessThanOrEqual(SPEED * 400);
      expect(r.expiries[0].expiryMs).toBe(EXPIRIES[0]);
      const before = results().length;

      // The server goes away; the client redials (and its dials time out) for 30 s of local time,
      // 4 h of venue time, and the replay comes back 6 h further on (restarted later): the 08:00
      // expiry passes meanwhile. Only a re-anchor follows that (the venue's pace covers the 4 h).
      sockets.at(-1)!.serverClose(1006, 'gone');
      await run(30_000, false);
      expect(host.health()[0].state).not.toBe('connected');
      venue.venueMs += 6 * HOUR;
      openLatest();
      await run(2_000);
      r = results().at(-1)!;
      expect(results().length).toBeGreaterThan(before + 3);
      // The figures follow the venue again: valuation within one recompute period of its clock.
      expect(venue.venueMs - r.gex.nowMs).toBeLessThanOrEqual(SPEED * 400);
      expect(r.gex.nowMs).toBeGreaterThan(EXPIRIES[0]);
      expect(r.expiries.map((x) => x.expiryMs)).toEqual(EXPIRIES.slice(1));
      expect(r.gex.includedLines).toBe(12);
      const h = host.health()[0];
      expect(h.state).toBe('connected');
      expect(h.reconnects).toBeGreaterThanOrEqual(1);
      // With server time nothing is held; without, the first tick's frames (summary, markprice,
      // index, one stamp) wait for the next tick's.
      const held = h.dropped.futureTimestamp ?? 0;
      if (usOut) expect(held).toBe(0);
      else expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(4);

      // One frame stamped an hour ahead: refused, counted, and the stream goes on around it.
      const s = sockets.at(-1)!;
      venue.push(s, venue.venueMs + HOUR);
      await run(1_000);
      r = results().at(-1)!;
      expect(venue.venueMs - r.gex.nowMs).toBeLessThanOrEqual(SPEED * 400);
      expect((host.health()[0].dropped.futureTimestamp ?? 0) - held).toBe(2); // its markprice and index frames
      expect(r.expiries.map((x) => x.expiryMs)).toEqual(EXPIRIES.slice(1));
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// Issue #4: OKX, Bybit and Binance by venue time

const WALL_2030 = Date.UTC(2030, 0, 1);

/** The host with one real venue client on fake sockets, a fake REST and a wall clock in 2030. */
function venueHost(adapter: VenueAdapter, fetchJson: FetchJson) {
  const clock = new FakeClock(WALL_2030);
  const { factory, sockets } = fakeSockets();
  const posted: FromWorker[] = [];
  const host: EngineHost = new EngineHost({
    clock, socketFactory: factory, localBase: 'ws://127.0.0.1:1', adapters: [adapter],
    feedOptions: { random: () => 0.5, fetchJson },
    post: (msg) => {
      posted.push(msg);
      if (msg.type === 'result') host.handle({ type: 'ack', seq: msg.seq });
    },
  });
  host.handle({ type: 'select', selection: { source: 'replay', venues: [adapter.id as VenueId], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS } });
  const last = () => posted.filter((m): m is ResultMessage => m.type === 'result').at(-1)!;
  return { clock, host, sockets, last };
}

/** Moves venue time to `ts` within a connection: a jump, followed once two later frames confirm it. */
function jumpTo(push: (ts: number) => void, ts: number): void {
  for (let k = 0; k < 3; k++) push(ts + k * 1_000);
}

describe('OKX, Bybit and Binance replays by venue time, on a wall clock years later (issue #4)', () => {
  it('OKX: every listing of a 2023 replay gets its OI subscribed and the chain builds; 1DEC23 leaves when venue time passes it', async () => {
    const dir = sampleDir('okx');
    const summaryText = readFileSync(dir + 'ws-opt-summary-BTC-USD-2023-12-01T000000085Z.json', 'utf8');
    const summary = JSON.parse(summaryText) as { data: { instId: string; ts: string }[] };
    const swapBody = JSON.parse(readFileSync(dir + 'rest-public-instruments-SWAP-2022-05-13.json', 'utf8')) as unknown;
    const rows = summary.data.map((r) => {
      const n = parseOkxOptionName(r.instId)!;
      return { instId: r.instId, instType: 'OPTION', state: 'live', stk: String(n.strike), expTime: String(n.expiryMs), ctVal: '1', ctMult: '0.1', ctValCcy: 'BTC', optType: n.isCall ? 'C' : 'P', uly: 'BTC-USD' };
    });
    const env = venueHost(okxAdapter, async (url) => (url.includes('instType=SWAP') ? swapBody : { code: '0', msg: '', data: rows }));
    await flush();
    const oiArgs = (s: FakeSocket) => s.sent.flatMap((m) => (JSON.parse(m) as { args: { channel: string; instId?: string }[] }).args)
      .filter((a) => a.channel === 'open-interest' && a.instId !== 'BTC-USDT-SWAP').map((a) => a.instId!);
    const s = env.sockets[0];
    s.open();
    env.clock.advance(1_000);
    expect(oiArgs(s)).toHaveLength(64);
    const t0 = Number(summary.data[0].ts);
    const index = (ts: number) => s.receive(JSON.stringify({ arg: { channel: 'index-tickers', instId: 'BTC-USD' }, data: [{ instId: 'BTC-USD', idxPx: '37700', ts: String(ts) }] }));
    s.receive(summaryText);
    index(t0);
    env.clock.advance(300);
    const dec1 = Date.UTC(2023, 11, 1, 8);
    let r = env.last();
    expect(r.gex.nowMs).toBe(t0);
    expect(r.expiries).toHaveLength(11);
    expect(r.expiries[0].expiryMs).toBe(dec1);
    expect(r.expiries.reduce((n, x) => n + x.lines, 0)).toBe(64);

    jumpTo(index, dec1 + 1_000);
    env.clock.advance(300);
    r = env.last();
    expect(r.gex.nowMs).toBe(dec1 + 3_000);
    expect(r.expiries.map((x) => x.expiryMs)).not.toContain(dec1);
    expect(r.expiries).toHaveLength(10);
    // A reconnect subscribes every listing but the expired ones.
    s.serverClose(1006, 'gone');
    env.clock.advance(2_000);
    const s2 = env.sockets.at(-1)!;
    expect(s2).not.toBe(s);
    s2.open();
    env.clock.advance(1_000);
    const dec1Listed = rows.filter((x) => Number(x.expTime) === dec1).length;
    expect(dec1Listed).toBeGreaterThan(0);
    expect(oiArgs(s2)).toHaveLength(64 - dec1Listed);
    expect(oiArgs(s2).some((n) => n.includes('-231201-'))).toBe(false);
  });

  it('Bybit: a 2023 replay opens option sockets for every listing and builds the chain; 6JAN23 leaves its socket when venue time passes it', async () => {
    const docs = JSON.parse(readFileSync(sampleDir('bybit') + 'docs-examples.json', 'utf8')) as Record<string, { tab: string | null; example: unknown }[]>;
    const ticker = docs['docs/v5/websocket/public/ticker.mdx'].find((b) => b.tab === 'Option')!.example as { topic: string; ts: number; data: Record<string, unknown> };
    const list = [{ symbol: 'BTC-6JAN23-17500-C', status: 'Trading', baseCoin: 'BTC', optionsType: 'Call', deliveryTime: String(Date.UTC(2023, 0, 6, 8)) }];
    for (const k of [16_000, 17_000, 18_000]) {
      for (const cp of ['C', 'P'] as const) {
        list.push({ symbol: `BTC-29DEC23-${k}-${cp}`, status: 'Trading', baseCoin: 'BTC', optionsType: cp === 'C' ? 'Call' : 'Put', deliveryTime: String(Date.UTC(2023, 11, 29, 8)) });
      }
    }
    const env = venueHost(bybitAdapter, async () => ({ retCode: 0, retMsg: 'OK', result: { category: 'option', nextPageCursor: '', list }, time: 0 }));
    await flush();
    // The linear socket and one option socket: on the wall clock every listing would have expired.
    expect(env.sockets.map((x) => x.url.split('/').at(-1))).toEqual(['linear', 'option']);
    for (const x of env.sockets) x.open();
    env.clock.advance(2_000);
    // The listed options' tickers (the coin's trade topic rides along, issue 13).
    const topics = (x: FakeSocket) => x.sent.filter((m) => m.includes('"subscribe"')).flatMap((m) => (JSON.parse(m) as { args: string[] }).args).filter((t) => t.startsWith('tickers.'));
    const opt = env.sockets[1];
    expect(topics(opt)).toHaveLength(7);
    const tick = (symbol: string, ts: number) => opt.receive(JSON.stringify({ ...ticker, topic: `tickers.${symbol}`, ts, data: { ...ticker.data, symbol } }));
    tick('BTC-6JAN23-17500-C', ticker.ts);
    for (const x of list.slice(1)) tick(x.symbol, ticker.ts);
    env.clock.advance(300);
    let r = env.last();
    expect(r.gex.nowMs).toBe(ticker.ts);
    expect(r.expiries.map((x) => x.expiryMs)).toEqual([Date.UTC(2023, 0, 6, 8), Date.UTC(2023, 11, 29, 8)]);
    expect(r.gex.includedLines).toBe(7);

    jumpTo((ts) => tick('BTC-29DEC23-17000-C', ts), Date.UTC(2023, 0, 6, 8, 0, 1));
    env.clock.advance(300);
    r = env.last();
    expect(r.gex.nowMs).toBe(Date.UTC(2023, 0, 6, 8, 0, 3));
    expect(r.expiries.map((x) => x.expiryMs)).toEqual([Date.UTC(2023, 11, 29, 8)]);
    // The 10-minute listing refresh drops the expired topic (pings answered meanwhile); that socket's
    // next connection omits it.
    for (let t = 0; t < 10 * 60_000 + 5_000; t += 5_000) {
      env.clock.advance(5_000);
      for (const x of env.sockets) if (x.readyState === 1) x.receive('{"op":"pong","args":["1"]}');
    }
    await flush();
    expect(env.sockets).toHaveLength(2);
    opt.serverClose(1006, 'gone');
    env.clock.advance(2_000);
    const opt2 = env.sockets.at(-1)!;
    expect(env.sockets).toHaveLength(3);
    expect(opt2.url.endsWith('/option')).toBe(true);
    opt2.open();
    env.clock.advance(2_000);
    expect(topics(opt2)).toHaveLength(6);
    expect(topics(opt2)).not.toContain('tickers.BTC-6JAN23-17500-C');
  });

  it('Binance: a 2025 replay lists the mark stream\'s symbols and subscribes their OI; 20NOV25 leaves when venue time passes it', async () => {
    const excerpts = JSON.parse(readFileSync(sampleDir('binance') + 'docs-excerpts-developers.binance.com.json', 'utf8')) as Record<string, { parsed: unknown }>;
    const marks = Object.entries(excerpts).find(([k]) => k.includes('Mark-Price (stream'))![1].parsed as { E: number }[];
    const env = venueHost(binanceAdapter, async () => ({ optionSymbols: [] }));
    await flush();
    const [options, mark] = env.sockets;
    for (const x of env.sockets) x.open();
    const streams = (x: FakeSocket) => x.sent.flatMap((m) => (JSON.parse(m) as { params: string[] }).params);
    options.receive(JSON.stringify({ stream: 'btcusdt@optionMarkPrice', data: marks }));
    env.clock.advance(1_000);
    expect(streams(options)).toEqual(['btcusdt@optionMarkPrice', '!optionSymbol', 'btcusdt@optionOpenInterest@251120', 'btcusdt@optionOpenInterest@251123']);
    env.clock.advance(300);
    const nov20 = Date.UTC(2025, 10, 20, 8);
    let r = env.last();
    expect(r.gex.nowMs).toBe(marks[0].E);
    expect(r.expiries.map((x) => x.expiryMs)).toEqual([nov20, Date.UTC(2025, 10, 23, 8)]);

    const perpMark = (ts: number, p = '104300.5') => mark.receive(JSON.stringify({ stream: 'btcusdt@markPrice@1s', data: { e: 'markPriceUpdate', E: ts, s: 'BTCUSDT', p, i: '104310.1', P: '0', r: '0.0001', T: ts + 3_600_000 } }));
    jumpTo(perpMark, nov20 + 1_000);
    env.clock.advance(300);
    r = env.last();
    expect(r.gex.nowMs).toBe(nov20 + 3_000);
    expect(r.expiries.map((x) => x.expiryMs)).toEqual([Date.UTC(2025, 10, 23, 8)]);
    options.serverClose(1006, 'gone');
    env.clock.advance(2_000);
    const options2 = env.sockets.at(-1)!;
    options2.open();
    env.clock.advance(1_000);
    expect(streams(options2)).toEqual(['btcusdt@optionMarkPrice', '!optionSymbol', 'btcusdt@optionOpenInterest@251123']);
    // A perp quote stamped an hour ahead is refused, and its stamp does not ride on the next quote.
    perpMark(nov20 + 3_600_000, '1');
    perpMark(nov20 + 4_000, '104400.5');
    env.clock.advance(300);
    expect(env.last().perps.map((q) => [q.markPrice, q.timestampMs])).toEqual([[104400.5, nov20 + 4_000]]);
    expect(env.host.health()[0].dropped.futureTimestamp).toBe(3); // two while jumping, one here
  });
});
