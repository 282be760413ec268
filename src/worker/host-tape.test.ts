import { describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { FeedOptions, FeedSink, TradeHistory, TradeHistoryPage, VenueAdapter, VenueFeed } from '../feeds/adapter.ts';
import type { OptionInstrument, TapeTrade, VenueId } from '../chain/model.ts';
import { ChainStore } from '../chain/store.ts';
import { aggregateTape } from '../chain/tape.ts';
import { computeGex } from '../engine/index.ts';
import { FakeClock } from '../feeds/testing.ts';
import { EngineHost, expiryLabel } from './host.ts';
import { SELECTION_DEFAULTS, type FromWorker, type ResultMessage, type TapeProgress, type ViewSelection } from './protocol.ts';
import { MEMORY_TAPES, openTapeStorage, type TapeStorage } from './tape-db.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const VENUE_T0 = Date.UTC(2026, 2, 10, 12);
const W0 = VENUE_T0 - 7 * DAY;
const EXP = Date.UTC(2026, 5, 26, 8);
const STRIKES = [90_000, 100_000, 110_000];

/** Deribit-like history: trades in [start, end] ascending, pages of `count`, has_more. */
class ScriptedHistory implements TradeHistory {
  reach = 'window' as const;
  note = 'every trade since the window start';
  asked: { startMs: number; endMs: number }[] = [];
  /** Pages answered at once; later ones wait for `release` (a slow venue). */
  answerAtOnce = Infinity;
  private waiting: (() => void)[] = [];
  constructor(public all: TapeTrade[], private readonly count = 50) {}
  release(): void {
    this.answerAtOnce = Infinity;
    for (const w of this.waiting.splice(0)) w();
  }
  async fetchPage(req: { startMs: number; endMs: number }): Promise<TradeHistoryPage> {
    this.asked.push({ startMs: req.startMs, endMs: req.endMs });
    if (this.asked.length > this.answerAtOnce) await new Promise<void>((r) => this.waiting.push(r));
    const inRange = this.all.filter((t) => t.timestampMs >= req.startMs && t.timestampMs <= req.endMs);
    return { trades: inRange.slice(0, this.count), hasMore: inRange.length > this.count, dropped: {} };
  }
}

class TapeAdapter implements VenueAdapter {
  label = 'Fake Deribit';
  liveUrl = 'wss://deribit.example/ws';
  localPath = '/fake/ws';
  feeds: { options: FeedOptions; stopped: boolean }[] = [];
  constructor(public id: VenueId, public history: ScriptedHistory | undefined) {}
  createFeed(options: FeedOptions): VenueFeed {
    const rec = { options, stopped: false };
    this.feeds.push(rec);
    return { start: () => undefined, stop: () => void (rec.stopped = true), tradeHistory: this.history };
  }
  get sink(): FeedSink {
    return this.feeds[this.feeds.length - 1].options.sink;
  }
}

function instruments(): OptionInstrument[] {
  const out: OptionInstrument[] = [];
  STRIKES.forEach((strike, k) => {
    for (const isCall of [true, false]) {
      // Listed before the window, two days in, and five days in.
      out.push({ venue: 'deribit', currency: 'BTC', strike, expiryMs: EXP, isCall, multiplier: 1, name: `BTC-${expiryLabel(EXP)}-${strike}-${isCall ? 'C' : 'P'}`, listedMs: [W0 - DAY, W0 + 2 * DAY, W0 + 5 * DAY][k] });
    }
  });
  return out;
}

/** A week of trades on the lines above (and one on an instrument the chain does not list), one an hour. */
function weekOfTrades(): TapeTrade[] {
  const names = instruments().map((i) => i.name);
  const out: TapeTrade[] = [];
  for (let h = 0; h < 7 * 24; h++) {
    const instrument = h % 17 === 0 ? 'BTC-27MAR26-1000-C' : names[h % names.length];
    out.push({ venue: 'deribit', instrument, tradeId: `h${h}`, timestampMs: W0 + h * HOUR + 1000, takerSide: h % 3 === 0 ? 'sell' : 'buy', contracts: 0.5 + (h % 4), block: h % 11 === 0 });
  }
  return out;
}

function feedChain(sink: FeedSink, ts: number) {
  const list = instruments();
  sink.status('deribit', { kind: 'connecting' });
  sink.status('deribit', { kind: 'open' });
  sink.instruments('deribit', 'BTC', list, true);
  sink.options('deribit', list.map((i, k) => ({ name: i.name, timestampMs: ts, markIv: 0.5 + 0.01 * k, openInterest: 40 + 5 * k, forward: 101_000 })));
  sink.index('deribit', 'BTC', 100_000, ts);
  sink.status('deribit', { kind: 'subscribed', channels: 3 });
  sink.status('deribit', { kind: 'data' });
}

const flowSel: ViewSelection = { source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'flow', profileRange: 0.2, ...SELECTION_DEFAULTS };

function setup(storage: TapeStorage | Promise<{ storage: TapeStorage; problem: string | null }>, history: ScriptedHistory | null = new ScriptedHistory(weekOfTrades())) {
  const clock = new FakeClock(Date.UTC(2026, 10, 24, 9));
  const adapter = new TapeAdapter('deribit', history ?? undefined);
  const posted: FromWorker[] = [];
  const host = new EngineHost({
    clock, socketFactory: () => { throw new Error('no sockets'); }, localBase: 'ws://127.0.0.1:1', post: (m) => posted.push(m), adapters: [adapter],
    tapeStorage: storage, random: () => 0.5,
  });
  const of = <T extends FromWorker['type']>(type: T) => posted.filter((m) => m.type === type) as Extract<FromWorker, { type: T }>[];
  const lastResult = () => of('result').at(-1)!;
  const lastTape = (): TapeProgress | undefined => of('tape').at(-1)?.venues[0];
  /** Lets the worker's promises (storage, pages) and its timers run until `done` holds. */
  const until = async (done: () => boolean, what: string) => {
    for (let i = 0; i < 200; i++) {
      if (done()) return;
      // The page painted the last result (the worker holds one unpainted result at most).
      const last = of('result').at(-1);
      if (last) host.handle({ type: 'ack', seq: last.seq });
      clock.advance(300);
      await new Promise((r) => setTimeout(r, 0));
    }
    throw new Error(`never: ${what}`);
  };
  return { clock, adapter, host, posted, of, lastResult, lastTape, until, history };
}

const idb = () => openTapeStorage(new IDBFactory(), IDBKeyRange);

describe('EngineHost: the trade tape and the flow model', () => {
  it('fills the window from history once the live channel is up; the figures are the design\'s on every trade once', async () => {
    const t = setup(idb());
    t.host.handle({ type: 'select', selection: flowSel });
    feedChain(t.adapter.sink, VENUE_T0);
    await t.until(() => t.lastTape()?.history === 'done', 'history filled');
    // Paged forward from W0 to the venue time, each page from the last trade of the one before.
    expect(t.history!.asked[0]).toEqual({ startMs: W0, endMs: VENUE_T0 });
    expect(t.history!.asked.length).toBeGreaterThan(3);
    // Progress went out at a bounded rate: reading the stored tape, then done (pages come at once here).
    const progress = t.of('tape');
    expect(progress.map((m) => m.venues[0].history)).toEqual(expect.arrayContaining(['loading', 'done']));
    for (let i = 1; i < progress.length; i++) expect(progress[i].atMs - progress[i - 1].atMs).toBeGreaterThanOrEqual(500);
    // Live trades: one new, then the same again after a reconnect (counted once), one ahead of venue time (dropped).
    const names = instruments().map((i) => i.name);
    const live: TapeTrade = { venue: 'deribit', instrument: names[4], tradeId: 'live1', timestampMs: VENUE_T0 - 500, takerSide: 'buy', contracts: 7, block: true };
    // The same figures from the whole tape aggregated afresh (chain/tape.ts) on the same chain.
    const store = new ChainStore('deribit', 'BTC');
    store.upsertInstruments(instruments(), true);
    store.applyOptions(instruments().map((i, k) => ({ name: i.name, timestampMs: VENUE_T0, markIv: 0.5 + 0.01 * k, openInterest: 40 + 5 * k, forward: 101_000 })));
    const tape = [...weekOfTrades(), live, live];
    const agg = aggregateTape(tape, (x) => store.indexOf(x.instrument), store.size, W0, VENUE_T0);
    expect(agg.skipped).toEqual({ duplicate: 1, outsideWindow: 0, unknownInstrument: 10 });
    t.adapter.sink.trades('deribit', 'BTC', [live]);
    t.adapter.sink.trades('deribit', 'BTC', [live, { ...live, tradeId: 'ahead', timestampMs: VENUE_T0 + 3 * HOUR }]);
    await t.until(() => t.lastResult().gex.positioning!.trades === agg.counted, 'live trade counted');
    await t.until(() => t.lastResult().gex.positioning!.trades !== agg.counted, 'never more').catch(() => undefined);
    const r = t.lastResult();
    expect(r.tape).toEqual({ windowStartMs: W0, venues: [{ venue: 'deribit', coveredFromMs: W0 }] });
    const ref = computeGex(store.columns(), { spot: 100_000, nowMs: VENUE_T0, model: 'flow', trades: agg.lines, profileRange: 0.2 });
    expect(r.gex.positioning).toEqual(ref.positioning);
    expect(r.gex.positioning!.trades).toBe(agg.counted);
    r.gex.netGex.forEach((g, k) => expect(g).toBeCloseTo(ref.netGex[k], 6));
    expect(Array.from(r.gex.classicNetGex!)).toEqual(Array.from(ref.classicNetGex!));
    const p = r.gex.positioning!;
    expect(p.seenWhole + p.seenInPart + p.assumed).toBeCloseTo(1, 12);
    expect(p.seenWhole).toBeGreaterThan(0);
    expect(p.seenInPart).toBeGreaterThan(0);
    t.host.dispose();
  });

  it('a reload fetches only the tail it does not hold; the stored tape gives the same figures', async () => {
    const factory = new IDBFactory();
    const first = setup(openTapeStorage(factory, IDBKeyRange));
    first.host.handle({ type: 'select', selection: flowSel });
    feedChain(first.adapter.sink, VENUE_T0);
    await first.until(() => first.lastTape()?.history === 'done', 'first fill');
    first.clock.advance(3_000); // the next write is due
    await first.until(() => first.of('result').length > 3, 'writes');
    const before = first.lastResult().gex.positioning!;
    first.host.dispose();
    await new Promise((r) => setTimeout(r, 10));

    // An hour later (venue time), a new page: the history holds an hour more.
    const later = VENUE_T0 + HOUR;
    const more: TapeTrade[] = [...weekOfTrades(), { venue: 'deribit', instrument: instruments()[0].name, tradeId: 'new', timestampMs: VENUE_T0 + 30 * 60_000, takerSide: 'sell', contracts: 3, block: false }];
    const second = setup(openTapeStorage(factory, IDBKeyRange), new ScriptedHistory(more));
    second.host.handle({ type: 'select', selection: flowSel });
    feedChain(second.adapter.sink, later);
    await second.until(() => second.lastTape()?.history === 'done', 'second fill');
    // One request, from where the stored tape's coverage ended: nothing it holds is fetched again.
    expect(second.history!.asked).toHaveLength(1);
    expect(second.history!.asked[0].startMs).toBeGreaterThanOrEqual(VENUE_T0);
    expect(second.history!.asked[0].endMs).toBe(later);
    await second.until(() => second.lastResult().tape?.venues[0].coveredFromMs === later - 7 * DAY, 'full window');
    const after = second.lastResult().gex.positioning!;
    // The window moved an hour: its first trade left (on an instrument the chain does not list: it never
    // counted), the new one came.
    expect(after.trades).toBe(before.trades + 1);
    second.host.dispose();
  });

  it('cancel stops the fill where it is and the figures say which window they cover; resume goes on', async () => {
    const slow = new ScriptedHistory(weekOfTrades(), 10);
    slow.answerAtOnce = 3;
    const t = setup(idb(), slow);
    t.host.handle({ type: 'select', selection: flowSel });
    feedChain(t.adapter.sink, VENUE_T0);
    await t.until(() => slow.asked.length === 4 && t.lastTape()?.history === 'filling' && t.lastTape()?.pages === 3, 'three pages, the fourth pending');
    // Pages of 10, each from the last trade of the one before: 10 + 9 + 9 new trades.
    expect(t.lastTape()).toMatchObject({ pages: 3, fetched: 28, trades: 28 });
    expect(t.lastTape()!.done).toBeGreaterThan(0);
    t.host.handle({ type: 'history', action: 'cancel' });
    await t.until(() => t.lastTape()?.history === 'cancelled', 'cancelled');
    slow.release();
    await t.until(() => t.of('result').length > 3, 'results');
    expect(slow.asked).toHaveLength(4);
    // Not full: the stretch that reaches now starts at the live channel's start, not at W0.
    expect(t.lastResult().tape!.venues[0].coveredFromMs).toBe(VENUE_T0);
    expect(t.lastTape()!.trades).toBe(28);
    t.host.handle({ type: 'history', action: 'resume' });
    await t.until(() => t.lastTape()?.history === 'done', 'resumed to the end');
    await t.until(() => t.lastResult().tape!.venues[0].coveredFromMs === W0, 'full');
    t.host.dispose();
  });

  it('a longer window fetches its head: only what the tape does not hold', async () => {
    const all = weekOfTrades();
    const h = new ScriptedHistory(all);
    const t = setup(idb(), h);
    t.host.handle({ type: 'select', selection: { ...flowSel, windowDays: 2 } });
    feedChain(t.adapter.sink, VENUE_T0);
    await t.until(() => t.lastTape()?.history === 'done', 'two days');
    expect(h.asked[0]).toEqual({ startMs: VENUE_T0 - 2 * DAY, endMs: VENUE_T0 });
    const asked = h.asked.length;
    t.host.handle({ type: 'select', selection: { ...flowSel, windowDays: 5 } });
    await t.until(() => h.asked.length > asked && t.lastTape()?.history === 'done' && t.lastResult().tape?.windowStartMs === VENUE_T0 - 5 * DAY, 'five days');
    // The new head: from five days back to where the two days began.
    expect(h.asked[asked]).toEqual({ startMs: VENUE_T0 - 5 * DAY, endMs: VENUE_T0 - 2 * DAY });
    await t.until(() => t.lastResult().tape!.venues[0].coveredFromMs === VENUE_T0 - 5 * DAY, 'full');
    expect(t.lastTape()!.trades).toBe(all.filter((x) => x.timestampMs >= VENUE_T0 - 5 * DAY).length);
    t.host.dispose();
  });

  it('a reconnect leaves a gap in the live tape: the next fill fetches exactly that gap', async () => {
    const h = new ScriptedHistory(weekOfTrades());
    const t = setup(idb(), h);
    t.host.handle({ type: 'select', selection: flowSel });
    feedChain(t.adapter.sink, VENUE_T0);
    await t.until(() => t.lastTape()?.history === 'done', 'filled');
    const asked = h.asked.length;
    const sink = t.adapter.sink;
    sink.status('deribit', { kind: 'closed', code: 1006, reason: 'gone', retryInMs: 1000 });
    // Back ten minutes of venue time later.
    const back = VENUE_T0 + 10 * 60_000;
    sink.status('deribit', { kind: 'open' });
    sink.status('deribit', { kind: 'serverTime', timestampMs: back });
    sink.options('deribit', instruments().map((i, k) => ({ name: i.name, timestampMs: back, markIv: 0.5 + 0.01 * k, openInterest: 40 + 5 * k, forward: 101_000 })));
    sink.index('deribit', 'BTC', 100_000, back);
    sink.status('deribit', { kind: 'subscribed', channels: 3 });
    await t.until(() => h.asked.length > asked && t.lastResult().gex.nowMs === back && t.lastResult().tape!.venues[0].coveredFromMs === back - 7 * DAY, 'gap filled');
    expect(h.asked.slice(asked)).toEqual([{ startMs: VENUE_T0, endMs: back }]);
    t.host.dispose();
  });

  it('without IndexedDB the tape lives in memory and the page is told so once flow is used', async () => {
    const t = setup(Promise.resolve({ storage: MEMORY_TAPES, problem: 'no IndexedDB here' }));
    t.host.handle({ type: 'select', selection: { ...flowSel, model: 'classic' } });
    feedChain(t.adapter.sink, VENUE_T0);
    await t.until(() => t.of('result').length > 0, 'a result');
    expect(t.of('notice')).toEqual([]);
    expect(t.history!.asked).toEqual([]); // classic: no history fetched
    t.host.handle({ type: 'select', selection: flowSel });
    await t.until(() => t.lastTape()?.history === 'done', 'filled in memory');
    expect(t.of('notice').map((n) => n.message)).toContain('trade tape kept in memory only (no IndexedDB here): a reload fetches the history again');
    t.host.dispose();
  });

  it('a venue without trade history keeps its live tape and says so', async () => {
    const t = setup(idb(), null);
    t.host.handle({ type: 'select', selection: flowSel });
    feedChain(t.adapter.sink, VENUE_T0);
    await t.until(() => t.lastTape()?.history === 'none' && t.of('result').length > 0, 'status');
    expect(t.lastTape()).toMatchObject({ reach: null, note: null, trades: 0 });
    const r: ResultMessage = t.lastResult();
    expect(r.tape!.venues[0].coveredFromMs).toBe(VENUE_T0); // the live channel's span, from now
    expect(r.gex.positioning!.assumed).toBe(1);
    t.host.dispose();
  });
});
