import { describe, expect, it } from 'vitest';
import type { FeedOptions, FeedSink, VenueAdapter, VenueFeed } from '../feeds/adapter.ts';
import type { ChainColumns, OptionInstrument, VenueId } from '../chain/model.ts';
import type { ExposureParams, GexResult } from '../engine/types.ts';
import { EngineHost, expiryLabel } from './host.ts';
import { PROTOCOL_VERSION, SELECTION_DEFAULTS, type FromWorker, type ResultMessage, type ViewSelection } from './protocol.ts';
import { ChainStore } from '../chain/store.ts';
import { computeGex } from '../engine/index.ts';
import { FakeClock } from '../feeds/testing.ts';

/** A venue adapter whose feed the test drives through the sink the host gives it. */
class FakeAdapter implements VenueAdapter {
  label: string;
  forwardsFromIndex?: boolean;
  liveUrl: string;
  localPath = '/fake/ws';
  feeds: { options: FeedOptions; started: boolean; stopped: boolean }[] = [];
  constructor(public id: VenueId) {
    this.label = `Fake ${id}`;
    this.liveUrl = `wss://${id}.example/ws`;
  }
  createFeed(options: FeedOptions): VenueFeed {
    const rec = { options, started: false, stopped: false };
    this.feeds.push(rec);
    return { start: () => void (rec.started = true), stop: () => void (rec.stopped = true) };
  }
  get sink(): FeedSink {
    return this.feeds[this.feeds.length - 1].options.sink;
  }
}

const VENUE_T0 = Date.UTC(2024, 11, 20, 12, 0, 0); // venue clock (a replay of 2024)
const EXP1 = Date.UTC(2024, 11, 27, 8);
const EXP2 = Date.UTC(2025, 2, 28, 8);

function instruments(venue: VenueId, strikes: number[], expiries: number[]): OptionInstrument[] {
  const out: OptionInstrument[] = [];
  for (const expiryMs of expiries) {
    for (const strike of strikes) {
      for (const isCall of [true, false]) {
        out.push({
          venue, currency: 'BTC', strike, expiryMs, isCall, multiplier: 1,
          name: `BTC-${expiryLabel(expiryMs)}-${strike}-${isCall ? 'C' : 'P'}`,
        });
      }
    }
  }
  return out;
}

/** Feed a whole small chain: instruments, IV/OI/forward per line, index. */
function feedChain(sink: FeedSink, venue: VenueId, ts: number, spot: number, opts: { strikes?: number[]; oi?: number } = {}): OptionInstrument[] {
  const list = instruments(venue, opts.strikes ?? [90_000, 100_000, 110_000], [EXP1, EXP2]);
  sink.status(venue, { kind: 'connecting' });
  sink.status(venue, { kind: 'open' });
  sink.instruments(venue, 'BTC', list, true);
  sink.options(venue, list.map((i, k) => ({
    name: i.name, timestampMs: ts, markIv: 0.5 + 0.01 * (k % 5), openInterest: (opts.oi ?? 100) + k, forward: spot * 1.01,
  })));
  sink.index(venue, 'BTC', spot, ts);
  sink.status(venue, { kind: 'data' });
  return list;
}

const baseSel: ViewSelection = { source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS };

function setup(extra: { adapters?: FakeAdapter[]; compute?: (c: ChainColumns, p: ExposureParams) => GexResult } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 10, 24, 9, 0, 0));
  const adapters = extra.adapters ?? [new FakeAdapter('deribit')];
  const posted: { msg: FromWorker; transfer: ArrayBuffer[] }[] = [];
  const host = new EngineHost({
    clock,
    socketFactory: () => {
      throw new Error('no sockets in unit tests');
    },
    localBase: 'ws://127.0.0.1:1234',
    post: (msg, transfer) => posted.push({ msg, transfer }),
    adapters,
    compute: extra.compute,
  });
  const results = () => posted.map((p) => p.msg).filter((m): m is ResultMessage => m.type === 'result');
  const of = <T extends FromWorker['type']>(type: T) => posted.map((p) => p.msg).filter((m) => m.type === type) as Extract<FromWorker, { type: T }>[];
  return { clock, adapters, posted, host, results, of };
}

describe('EngineHost', () => {
  it('answers hello and ping', () => {
    const { host, of } = setup();
    host.handle({ type: 'hello', protocolVersion: PROTOCOL_VERSION, localBase: 'ws://127.0.0.1:1234' });
    host.handle({ type: 'ping', id: 42 });
    expect(of('hello')).toEqual([{ type: 'hello', protocolVersion: PROTOCOL_VERSION }]);
    expect(of('pong')).toEqual([{ type: 'pong', id: 42 }]);
  });

  it('starts the feed on the local URL for sim and the live URL for live', () => {
    const { host, adapters } = setup();
    host.handle({ type: 'select', selection: baseSel });
    expect(adapters[0].feeds[0].options.url).toBe('ws://127.0.0.1:1234/fake/ws');
    expect(adapters[0].feeds[0].started).toBe(true);
    host.handle({ type: 'select', selection: { ...baseSel, source: 'live' } });
    expect(adapters[0].feeds[0].stopped).toBe(true);
    expect(adapters[0].feeds[1].options.url).toBe('wss://deribit.example/ws');
    expect(adapters[0].feeds[1].options.currency).toBe('BTC');
  });

  it('computes the engine result at the venue time with the index as spot, and transfers its buffers', () => {
    const { host, adapters, clock, posted, results } = setup();
    host.handle({ type: 'select', selection: baseSel });
    feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    clock.advance(300);
    const r = results();
    expect(r.length).toBe(1);
    const res = r[0];
    expect(res.seq).toBe(1);
    expect(res.gex.nowMs).toBe(VENUE_T0);
    expect(res.gex.spot).toBe(100_000);
    expect(res.includedVenues).toEqual(['deribit']);
    expect(res.excludedVenues).toEqual([]);
    expect(res.expiries).toEqual([
      { expiryMs: EXP1, label: '27DEC24', lines: 6 },
      { expiryMs: EXP2, label: '28MAR25', lines: 6 },
    ]);
    expect(Array.from(res.gex.strikes)).toEqual([90_000, 100_000, 110_000]);
    expect(res.gex.includedLines).toBe(12);
    // The same numbers as the engine on an equivalent chain.
    const store = new ChainStore('deribit', 'BTC');
    const list = instruments('deribit', [90_000, 100_000, 110_000], [EXP1, EXP2]);
    store.upsertInstruments(list, true);
    store.applyOptions(list.map((i, k) => ({ name: i.name, timestampMs: VENUE_T0, markIv: 0.5 + 0.01 * (k % 5), openInterest: 100 + k, forward: 101_000 })));
    const ref = computeGex(store.columns(), { spot: 100_000, nowMs: VENUE_T0, model: 'classic', profileRange: 0.2 });
    expect(res.gex.totalNetGex).toBe(ref.totalNetGex);
    expect(Array.from(res.gex.netGex)).toEqual(Array.from(ref.netGex));
    expect(res.gex.zeroGammaLevel).toBe(ref.zeroGammaLevel);
    const transfer = posted.find((p) => p.msg.type === 'result')!.transfer;
    expect(transfer.length).toBeGreaterThan(0);
    expect(transfer).toContain(res.gex.strikes.buffer);
  });

  it('a venue that publishes no forward gets its index as every forward, and the status says so', () => {
    const noForward = new FakeAdapter('binance');
    noForward.forwardsFromIndex = true;
    const { host, adapters, clock, results } = setup({ adapters: [noForward] });
    host.handle({ type: 'select', selection: { ...baseSel, venues: ['binance'] } });
    const sink = adapters[0].sink;
    const list = instruments('binance', [90_000, 100_000, 110_000], [EXP1, EXP2]);
    sink.status('binance', { kind: 'open' });
    sink.instruments('binance', 'BTC', list, true);
    sink.options('binance', list.map((i) => ({ name: i.name, timestampMs: VENUE_T0, markIv: 0.5, openInterest: 10 })));
    sink.index('binance', 'BTC', 100_000, VENUE_T0);
    sink.status('binance', { kind: 'data' });
    clock.advance(300);
    const res = results().at(-1)!;
    expect(res.gex.includedLines).toBe(12);
    expect(res.gex.excluded.forwardInvalid).toBe(0);
    const store = new ChainStore('binance', 'BTC');
    store.upsertInstruments(list, true);
    store.applyOptions(list.map((i) => ({ name: i.name, timestampMs: VENUE_T0, markIv: 0.5, openInterest: 10, forward: 100_000 })));
    const ref = computeGex(store.columns(), { spot: 100_000, nowMs: VENUE_T0, model: 'classic', profileRange: 0.2 });
    expect(res.gex.totalNetGex).toBe(ref.totalNetGex);
    expect(res.spotSource).toContain('Fake binance: no forward published, index used');
  });

  it('coalesces a burst of ticks into at most one result per 250 ms', () => {
    const { host, adapters, clock, results } = setup();
    host.handle({ type: 'select', selection: baseSel });
    const list = feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    const sink = adapters[0].sink;
    // 100 frames/s for 2 s, acking everything painted.
    for (let i = 1; i <= 200; i++) {
      sink.options('deribit', [{ name: list[i % list.length].name, timestampMs: VENUE_T0 + i * 10, markIv: 0.5 + i * 1e-4 }]);
      sink.status('deribit', { kind: 'data' });
      clock.advance(10);
      for (const r of results()) host.handle({ type: 'ack', seq: r.seq });
    }
    const n = results().length;
    expect(n).toBeGreaterThanOrEqual(8);
    expect(n).toBeLessThanOrEqual(10);
    const times = results().map((r) => r.computedAtMs);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(250);
  });

  it('holds results back while the page is more than one behind and then sends only the newest', () => {
    const { host, adapters, clock, results } = setup();
    host.handle({ type: 'select', selection: baseSel });
    const list = feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    for (let i = 1; i <= 20; i++) {
      adapters[0].sink.options('deribit', [{ name: list[0].name, timestampMs: VENUE_T0 + i * 1000, markIv: 0.5 + i / 100 }]);
      clock.advance(300);
    }
    // Never acked: only two results went out.
    expect(results().map((r) => r.seq)).toEqual([1, 2]);
    host.handle({ type: 'ack', seq: 2 });
    const after = results();
    expect(after.length).toBe(3);
    expect(after[2].seq).toBeGreaterThan(15);
    expect(after[2].gex.nowMs).toBe(VENUE_T0 + 20_000);
  });

  it('a change of expiries or model recomputes at once without reconnecting; a change of currency reconnects', () => {
    const { host, adapters, clock, results } = setup();
    host.handle({ type: 'select', selection: baseSel });
    feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    clock.advance(300);
    host.handle({ type: 'ack', seq: 1 });
    host.handle({ type: 'select', selection: { ...baseSel, expiries: [EXP2], model: 'short' } });
    const r = results();
    expect(r.length).toBe(2); // synchronously, no waiting for the throttle
    expect(r[1].gex.model).toBe('short');
    expect(r[1].gex.includedLines).toBe(6);
    expect(adapters[0].feeds.length).toBe(1);
    host.handle({ type: 'select', selection: { ...baseSel, currency: 'ETH' } });
    expect(adapters[0].feeds.length).toBe(2);
    expect(adapters[0].feeds[0].stopped).toBe(true);
    expect(adapters[0].feeds[1].options.currency).toBe('ETH');
  });

  it('names selected expiries that are gone and shows the next one instead', () => {
    const { host, adapters, clock, results, of } = setup();
    const gone = Date.UTC(2024, 11, 13, 8);
    host.handle({ type: 'select', selection: { ...baseSel, expiries: [gone] } });
    feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    clock.advance(300);
    const r = results()[0];
    expect(r.expiredSelected).toEqual([gone]);
    expect(r.gex.includedLines).toBe(6); // the next expiry only
    expect(Array.from(r.gex.expiries)).toEqual([EXP1]);
    // said once, as a typed event the page mirrors into the link (not prose it parses)
    expect(of('expiryFallback')).toEqual([{ type: 'expiryFallback', selection: r.selection, gone: [{ expiryMs: gone, why: 'expired' }], showing: [EXP1] }]);
    clock.advance(300);
    expect(of('expiryFallback')).toHaveLength(1);
  });

  it('a gone expiry beside a listed one: the listed one is shown, a never-listed date is told apart from a passed one', () => {
    const { host, adapters, clock, of } = setup();
    const unlisted = Date.UTC(2025, 0, 31, 8);
    host.handle({ type: 'select', selection: { ...baseSel, expiries: [EXP2, unlisted] } });
    feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    clock.advance(300);
    expect(of('expiryFallback')[0]).toMatchObject({ gone: [{ expiryMs: unlisted, why: 'unlisted' }], showing: [EXP2] });
  });

  it('beyond gamma: the ladder with its next-expiry column, after the next expiry, and the feedback against the summed perp books', () => {
    const { host, adapters, clock, results } = setup();
    const ladder = { moves: [-0.02, 0, 0.02], hours: [0, 'nextExpiry' as const], volShifts: [0, 0.02] };
    host.handle({ type: 'select', selection: { ...baseSel, ladder } });
    feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    const book = { bandPct: 0.5, bidCoin: 20, askCoin: 30 };
    adapters[0].sink.perp({
      venue: 'deribit', instrument: 'BTC-PERPETUAL', timestampMs: VENUE_T0, markPrice: 100_000, indexPrice: 100_000, funding8h: 0, openInterestCoin: 1,
      bestBid: 99_999, bestAsk: 100_001, depth: [book, { bandPct: 1, bidCoin: 50, askCoin: 60 }, { bandPct: 2, bidCoin: 90, askCoin: 100 }],
    }, 'BTC');
    clock.advance(300);
    const r = results().at(-1)!;
    expect(r.gex.scenarios!.hours).toEqual([0, (EXP1 - VENUE_T0) / 3_600_000]);
    expect(r.gex.scenarios!.units.length).toBe(3 * 2 * 2);
    expect(r.gex.feedback!.map((f) => f.shock)).toEqual([-0.05, -0.02, -0.01, 0.01, 0.02, 0.05]);
    expect(r.gex.deltaExposure.length).toBe(3);
    host.handle({ type: 'ack', seq: r.seq });
    host.handle({ type: 'select', selection: { ...baseSel, ladder, afterNextExpiry: true } });
    clock.advance(300);
    const after = results().at(-1)!;
    expect(after.selection.afterNextExpiry).toBe(true);
    expect(after.gex.droppedExpiryMs).toBe(EXP1);
    expect(Array.from(after.gex.expiries)).toEqual([EXP2]);
    expect(after.gex.scenarios!.hours[1]).toBe((EXP2 - VENUE_T0) / 3_600_000);
  });

  it('a selection with a ladder out of bounds uses the default ladder and says so', () => {
    const { host, adapters, clock, results, of } = setup();
    host.handle({ type: 'select', selection: { ...baseSel, ladder: { moves: [NaN], hours: [-1], volShifts: [0] } } });
    feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    clock.advance(300);
    expect(results().at(-1)!.selection.ladder).toEqual(SELECTION_DEFAULTS.ladder);
    expect(of('notice').some((n) => n.message.includes('ladder'))).toBe(true);
  });

  it('drops expired lines by venue time at each recompute', () => {
    const { host, adapters, clock, results } = setup();
    host.handle({ type: 'select', selection: baseSel });
    const list = feedChain(adapters[0].sink, 'deribit', EXP1 - 30_000, 100_000);
    clock.advance(300);
    // 30 s before 08:00 the EXP1 lines are expiring: counted apart, not summed (design: "Expiring lines")
    expect(results()[0].gex.includedLines).toBe(6);
    expect(results()[0].gex.expiring.lines).toBe(6);
    host.handle({ type: 'ack', seq: 1 });
    // The venue clock passes 08:00 of EXP1.
    adapters[0].sink.options('deribit', [{ name: list[6].name, timestampMs: EXP1 + 1_000, markIv: 0.6 }]);
    clock.advance(300);
    const r = results()[1];
    expect(r.gex.nowMs).toBe(EXP1 + 1_000);
    expect(r.gex.includedLines).toBe(6);
    expect(r.gex.expiring.lines).toBe(0);
    expect(r.expiries.map((e) => e.expiryMs)).toEqual([EXP2]);
  });

  it('a timestamp far in the future does not move the valuation time', () => {
    const { host, adapters, clock, results } = setup();
    host.handle({ type: 'select', selection: baseSel });
    feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    adapters[0].sink.index('deribit', 'BTC', 100_500, VENUE_T0 + 3_600_000);
    clock.advance(300);
    const r = results()[0];
    expect(r.gex.nowMs).toBe(VENUE_T0);
    expect(r.gex.spot).toBe(100_000);
    expect(host.health()[0].dropped.futureTimestamp).toBe(1);
  });

  it('a far-future frame is refused before it reaches the store, so it blocks no later frame of its line, forward or perp', () => {
    const { host, adapters, clock, results } = setup();
    host.handle({ type: 'select', selection: baseSel });
    const list = feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    const sink = adapters[0].sink;
    const perp = (ts: number, markPrice: number) => ({
      venue: 'deribit' as const, instrument: 'BTC-PERPETUAL', timestampMs: ts, markPrice, indexPrice: 100_000,
      funding8h: null, openInterestCoin: null, bestBid: null, bestAsk: null, depth: [],
    });
    expect(sink.options('deribit', [{ name: list[0].name, timestampMs: VENUE_T0 + 3_600_000, markIv: 3 }])).toBe(false);
    expect(sink.forwards('deribit', 'BTC', [{ expiryMs: EXP1, forward: 1, timestampMs: VENUE_T0 + 3_600_000 }])).toBe(false);
    expect(sink.perp(perp(VENUE_T0 + 3_600_000, 1), 'BTC')).toBe(false);
    expect(sink.options('deribit', [{ name: list[0].name, timestampMs: VENUE_T0 + 100, markIv: 0.7 }])).toBe(true);
    expect(sink.perp(perp(VENUE_T0 + 100, 100_050), 'BTC')).toBe(true);
    clock.advance(300);
    const r = results().at(-1)!;
    expect(r.gex.nowMs).toBe(VENUE_T0 + 100);
    expect(r.perps.map((q) => q.markPrice)).toEqual([100_050]);
    const h = host.health()[0];
    expect(h.dropped.futureTimestamp).toBe(3);
    expect(h.dropped.staleLine).toBeUndefined();
    expect(h.dropped.stale).toBeUndefined();
  });

  it('follows a venue-time jump that two later frames confirm (replay seek), then the guard holds again', () => {
    const { host, adapters, clock, results } = setup();
    host.handle({ type: 'select', selection: baseSel });
    feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    const jumped = VENUE_T0 + 2 * 3_600_000;
    for (let i = 0; i < 12; i++) {
      adapters[0].sink.index('deribit', 'BTC', 100_000 + i, jumped + i * 100);
      clock.advance(100);
      for (const r of results()) host.handle({ type: 'ack', seq: r.seq });
    }
    expect(host.valuationTimeMs()).toBe(jumped + 1_100);
    clock.advance(300);
    expect(results().at(-1)!.gex.nowMs).toBe(jumped + 1_100);
    expect(host.health()[0].dropped.futureTimestamp).toBe(2);
    adapters[0].sink.index('deribit', 'BTC', 1, jumped + 3_600_000);
    expect(host.valuationTimeMs()).toBe(jumped + 1_100);
    expect(host.health()[0].dropped.futureTimestamp).toBe(3);
  });

  it('a new connection re-anchors venue time: hours ahead after open are followed from the next frame, or at once from server time', () => {
    const { host, adapters, clock, results } = setup();
    host.handle({ type: 'select', selection: baseSel });
    const sink = adapters[0].sink;
    feedChain(sink, 'deribit', VENUE_T0, 100_000);
    sink.status('deribit', { kind: 'closed', code: 1006, reason: '', retryInMs: 500 });
    clock.advance(500);
    sink.status('deribit', { kind: 'connecting' });
    sink.status('deribit', { kind: 'open' });
    // A replay 4 h on: its first frame waits for one later frame (not two, as within a connection).
    const later = VENUE_T0 + 4 * 3_600_000;
    expect(sink.index('deribit', 'BTC', 100_100, later - 100)).toBe(false);
    expect(sink.index('deribit', 'BTC', 100_100, later)).toBe(true);
    clock.advance(300);
    expect(results().at(-1)!.gex.nowMs).toBe(later);
    expect(host.health()[0].dropped.futureTimestamp).toBe(1);
    // Server time read on a connection (Deribit usOut) anchors the guard, not the valuation time:
    // the next connection's first frame, 3 h later, is followed at once, one an hour beyond it is not.
    sink.status('deribit', { kind: 'open' });
    sink.status('deribit', { kind: 'serverTime', timestampMs: later + 3 * 3_600_000 });
    expect(host.valuationTimeMs()).toBe(later);
    expect(sink.index('deribit', 'BTC', 100_200, later + 4 * 3_600_000)).toBe(false);
    expect(sink.index('deribit', 'BTC', 100_200, later + 3 * 3_600_000 + 100)).toBe(true);
    expect(host.valuationTimeMs()).toBe(later + 3 * 3_600_000 + 100);
    expect(host.health()[0].dropped.futureTimestamp).toBe(2);
    sink.status('deribit', { kind: 'serverTime', timestampMs: Number.NaN });
    expect(host.health()[0].dropped.badTimestamp).toBe(1);
  });

  it('reports health: connected, stale after 10 s without data, reconnecting with retry time, counters', () => {
    const { host, adapters, clock, of } = setup();
    host.handle({ type: 'select', selection: baseSel });
    expect(host.health()[0].state).toBe('connecting');
    const sink = adapters[0].sink;
    feedChain(sink, 'deribit', VENUE_T0, 100_000);
    for (let i = 0; i < 9; i++) sink.status('deribit', { kind: 'data' });
    sink.status('deribit', { kind: 'dropped', reason: 'malformed' });
    sink.status('deribit', { kind: 'dropped', reason: 'malformed' });
    clock.advance(1_000);
    let h = of('health').at(-1)!.feeds[0];
    expect(h.state).toBe('connected');
    expect(h.messagesPerSec).toBe(10);
    expect(h.dataAgeMs).toBe(1_000);
    expect(h.dropped.malformed).toBe(2);
    clock.advance(9_500);
    expect(host.health()[0].state).toBe('stale');
    sink.status('deribit', { kind: 'closed', code: 1006, reason: '', retryInMs: 2_000 });
    h = host.health()[0];
    expect(h.state).toBe('reconnecting');
    expect(h.reconnects).toBe(1);
    expect(h.retryAtMs).toBe(clock.now() + 2_000);
    expect(h.lastError).toContain('1006');
    sink.status('deribit', { kind: 'connecting' });
    expect(host.health()[0].state).toBe('reconnecting');
    sink.status('deribit', { kind: 'open' });
    sink.status('deribit', { kind: 'data' });
    h = host.health()[0];
    expect(h.state).toBe('connected');
    expect(h.dataAgeMs).toBe(0);
    expect(h.retryAtMs).toBeNull();
    // 60 s reconnecting without data: down.
    sink.status('deribit', { kind: 'closed', code: 1006, reason: '', retryInMs: 30_000 });
    clock.advance(61_000);
    expect(host.health()[0].state).toBe('down');
  });

  it('keeps a feed\'s assumption in its health until withdrawn (one per key), whatever errors come after', () => {
    const { host, adapters } = setup({ adapters: [new FakeAdapter('binance')] });
    host.handle({ type: 'select', selection: { ...baseSel, venues: ['binance'] } });
    const sink = adapters[0].sink;
    feedChain(sink, 'binance', VENUE_T0, 100_000);
    expect(host.health()[0].assumptions).toBeUndefined();
    sink.status('binance', { kind: 'assumption', key: 'contractUnit', message: 'contract unit assumed 1 BTC for 12 symbols (exchangeInfo unavailable)' });
    sink.status('binance', { kind: 'venueError', code: null, message: 'something else', retryInMs: null });
    sink.status('binance', { kind: 'closed', code: 1006, reason: 'gone', retryInMs: 1_000 });
    expect(host.health()[0].lastError).toBe('connection closed (1006 gone)');
    expect(host.health()[0].assumptions).toEqual(['contract unit assumed 1 BTC for 12 symbols (exchangeInfo unavailable)']);
    sink.status('binance', { kind: 'assumption', key: 'contractUnit', message: 'contract unit assumed 1 BTC for 3 symbols (exchangeInfo unavailable)' });
    expect(host.health()[0].assumptions).toEqual(['contract unit assumed 1 BTC for 3 symbols (exchangeInfo unavailable)']);
    sink.status('binance', { kind: 'assumption', key: 'contractUnit', message: null });
    expect(host.health()[0].assumptions).toBeUndefined();
  });

  it('sums venues by strike, keeps each venue’s strikes, and leaves a stale venue out of the totals', () => {
    const a = new FakeAdapter('deribit');
    const b = new FakeAdapter('okx');
    const { host, clock, results } = setup({ adapters: [a, b] });
    host.handle({ type: 'select', selection: { ...baseSel, venues: ['deribit', 'okx'] } });
    feedChain(a.sink, 'deribit', VENUE_T0, 100_000, { strikes: [90_000, 100_000] });
    feedChain(b.sink, 'okx', VENUE_T0 + 500, 100_100, { strikes: [100_000, 105_000], oi: 50 });
    clock.advance(300);
    const both = results()[0];
    expect(both.includedVenues).toEqual(['deribit', 'okx']);
    expect(Array.from(both.gex.strikes)).toEqual([90_000, 100_000, 105_000]);
    expect(both.gex.includedLines).toBe(16);
    expect(both.gex.spot).toBe(100_000); // the first selected venue's index
    expect(both.gex.nowMs).toBe(VENUE_T0 + 500);
    host.handle({ type: 'ack', seq: both.seq });
    // okx goes quiet for 11 s while deribit keeps ticking.
    for (let i = 0; i < 11; i++) {
      a.sink.index('deribit', 'BTC', 100_000, VENUE_T0 + 1_000 * (i + 1));
      a.sink.status('deribit', { kind: 'data' });
      clock.advance(1_000);
      for (const r of results()) host.handle({ type: 'ack', seq: r.seq });
    }
    const last = results().at(-1)!;
    expect(last.includedVenues).toEqual(['deribit']);
    expect(last.excludedVenues).toEqual([{ venue: 'okx', reason: 'stale' }]);
    expect(Array.from(last.gex.strikes)).toEqual([90_000, 100_000]);
    expect(host.health().map((h) => h.state)).toEqual(['connected', 'stale']);
  });

  it('survives throws in a feed callback and in the engine, counting them and saying so', () => {
    let explode = false;
    const { host, adapters, clock, results, of } = setup({
      compute: (c, p) => {
        if (explode) throw new Error('engine blew up');
        return computeGex(c, p);
      },
    });
    host.handle({ type: 'select', selection: baseSel });
    const sink = adapters[0].sink;
    feedChain(sink, 'deribit', VENUE_T0, 100_000);
    // A malformed call from a buggy adapter: updates is not an array of objects.
    expect(() => sink.options('deribit', [null as never])).not.toThrow();
    explode = true;
    clock.advance(300);
    expect(results().length).toBe(0);
    expect(host.stats.errors.recompute).toBe(1);
    expect(of('notice').some((n) => n.level === 'error' && n.message.includes('engine blew up'))).toBe(true);
    explode = false;
    sink.index('deribit', 'BTC', 100_001, VENUE_T0 + 1);
    clock.advance(300);
    expect(results().length).toBe(1);
    // Garbage messages from the page do not throw either.
    expect(() => host.handle(null as never)).not.toThrow();
    expect(() => host.handle({ type: 'nope' } as never)).not.toThrow();
    expect(() => host.handle({ type: 'request', id: 1, request: { kind: 'bogus' } } as never)).not.toThrow();
    expect(of('response').at(-1)).toMatchObject({ id: 1, ok: false });
  });

  it('answers expiries and snapshot requests', () => {
    const { host, adapters, of } = setup();
    host.handle({ type: 'select', selection: baseSel });
    feedChain(adapters[0].sink, 'deribit', VENUE_T0, 100_000);
    host.handle({ type: 'request', id: 7, request: { kind: 'expiries', venues: ['deribit'], currency: 'BTC' } });
    host.handle({ type: 'request', id: 8, request: { kind: 'expiries', venues: ['deribit'], currency: 'ETH' } });
    host.handle({ type: 'request', id: 9, request: { kind: 'snapshot' } });
    const resp = of('response');
    expect(resp[0]).toEqual({ type: 'response', id: 7, ok: true, kind: 'expiries', data: [
      { expiryMs: EXP1, label: '27DEC24', lines: 6 }, { expiryMs: EXP2, label: '28MAR25', lines: 6 },
    ] });
    expect(resp[1]).toEqual({ type: 'response', id: 8, ok: true, kind: 'expiries', data: [] });
    const snap = (resp[2] as { data: ResultMessage }).data;
    expect(snap.type).toBe('result');
    expect(snap.gex.includedLines).toBe(12);
  });

  it('ignores callbacks from a feed that has been stopped (zombie socket)', () => {
    const { host, adapters } = setup();
    host.handle({ type: 'select', selection: baseSel });
    const oldSink = adapters[0].sink;
    host.handle({ type: 'select', selection: { ...baseSel, currency: 'ETH' } });
    oldSink.status('deribit', { kind: 'closed', code: 1006, reason: '', retryInMs: 1000 });
    expect(host.health()[0].reconnects).toBe(0);
  });
});
