import 'fake-indexeddb/auto';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import type { FeedHealth, GexResult, ResultMessage } from '../worker/protocol.ts';
import { createGexStore, legacyHistoryKey, loadHistory, savedFiguresKey, type KeyValueStorage } from './store.ts';
import { openHistoryStorage } from './history-db.ts';
import { MINUTE_MS } from './minutes.ts';
import { staleness } from './staleness.ts';
import { defaultView, type ViewState } from './url.ts';
import { emptyGexResult } from '../engine/fixtures.ts';

class MemStorage implements KeyValueStorage {
  map = new Map<string, string>();
  writes = new Map<string, number>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.writes.set(k, (this.writes.get(k) ?? 0) + 1);
    this.map.set(k, v);
  }
  writesTo(k: string) {
    return this.writes.get(k) ?? 0;
  }
}

function gex(nowMs: number, spot: number, zeroGammaLevel: number | null): GexResult {
  return emptyGexResult({ spot, nowMs, zeroGammaLevel, regime: 'positive' });
}
let seq = 0;
function result(view: ViewState, nowMs: number, spot = 100_000, zg: number | null = 95_000): ResultMessage {
  return {
    type: 'result', seq: ++seq, selection: view, computedAtMs: nowMs, newestFrameAtMs: nowMs, gex: gex(nowMs, spot, zg), perps: [],
    includedVenues: ['deribit'], excludedVenues: [], spotSource: 'deribit index', expiries: [], expiredSelected: [], tape: null,
  };
}
const T0 = Date.UTC(2025, 0, 2, 12);
const simView = (): ViewState => ({ ...defaultView(), source: 'sim' });

describe('store', () => {
  it('keeps the latest result and health, folds repeated notices, bounds them', () => {
    let clock = 1000;
    const store = createGexStore({ initialView: simView(), storage: null, nowMs: () => clock, maxNotices: 3 });
    const a = store.getState().actions;
    a.applyMessage(result(simView(), T0));
    clock = 1500;
    const r2 = result(simView(), T0 + 250);
    a.applyMessage(r2);
    expect(store.getState().result).toBe(r2);
    expect(store.getState().resultReceivedAtMs).toBe(1500);
    const feed: FeedHealth = { venue: 'deribit', state: 'connected', dataAgeMs: 120, messagesPerSec: 40, reconnects: 0, dropped: {}, excludedLines: {}, lastError: null, retryAtMs: null };
    a.applyMessage({ type: 'health', feeds: [feed], atMs: T0 });
    expect(store.getState().feeds).toEqual([feed]);
    for (const m of ['a', 'b', 'a', 'c', 'd']) a.applyMessage({ type: 'notice', level: 'warn', message: m });
    const notices = store.getState().notices;
    expect(notices.map((n) => n.message)).toEqual(['d', 'c', 'b']);
    expect(store.getState().notices.length).toBe(3);
    a.dismissNotice(notices[0].id);
    expect(store.getState().notices.map((n) => n.message)).toEqual(['c', 'b']);
  });

  it('ignores results for another currency (in flight during a switch) and clears on switch', () => {
    const store = createGexStore({ initialView: simView(), storage: null });
    const a = store.getState().actions;
    a.applyMessage(result(simView(), T0));
    a.setView({ currency: 'ETH' });
    expect(store.getState().result).toBeNull();
    a.applyMessage(result(simView(), T0 + 1000)); // still BTC
    expect(store.getState().result).toBeNull();
    a.applyMessage(result({ ...simView(), currency: 'ETH' }, T0 + 2000, 3500, null));
    expect(store.getState().result?.gex.spot).toBe(3500);
    // A model change keeps the figures until the next result.
    a.setView({ model: 'short' });
    expect(store.getState().result).not.toBeNull();
  });

  it('history: one point per step of venue time, bounded to the window', () => {
    const store = createGexStore({ initialView: simView(), storage: null, historyStepMs: 10_000, historyMaxMs: 60_000 });
    const a = store.getState().actions;
    for (let i = 0; i <= 200; i++) a.applyMessage(result(simView(), T0 + i * 1000, 100_000 + i, i % 2 ? null : 90_000));
    const h = store.getState().history;
    // 0..200 s at 10 s steps, last 60 s kept: t = 140..200 s.
    expect(h.map((p) => (p.t - T0) / 1000)).toEqual([140, 150, 160, 170, 180, 190, 200]);
    expect(h[0]).toEqual({ t: T0 + 140_000, spot: 100_140, zeroGamma: 90_000 });
    // Time going back (replay restarted) starts a new series.
    a.applyMessage(result(simView(), T0 - 3_600_000));
    expect(store.getState().history).toHaveLength(1);
  });

  it('history and GEX each minute persist per series in IndexedDB and survive a reload; another series has its own', async () => {
    const factory = new IDBFactory();
    let clock = 0;
    const opts = () => ({ initialView: simView(), storage: new MemStorage(), nowMs: () => clock, historyStorage: openHistoryStorage(factory, IDBKeyRange), historyWriteEveryMs: 0 });
    const s1 = createGexStore(opts());
    await vi.waitFor(() => expect(s1.getState().historyKept).toBe(true));
    for (let i = 0; i < 10; i++) {
      clock += 1000;
      s1.getState().actions.applyMessage(result(simView(), T0 + i * 10_000, 100_000 + i));
    }
    // 0 ... 90 s: ten points, two minutes.
    expect(s1.getState().minutes.map((m) => m.t)).toEqual([T0, T0 + MINUTE_MS]);
    await s1.getState().actions.flushHistory();
    const s2 = createGexStore(opts());
    await vi.waitFor(() => expect(s2.getState().history).toHaveLength(10));
    expect(s2.getState().history).toEqual(s1.getState().history);
    expect(s2.getState().minutes.map((m) => m.t)).toEqual([T0, T0 + MINUTE_MS]);
    // ETH has its own series, and so has another dealer model.
    s2.getState().actions.setView({ currency: 'ETH' });
    expect(s2.getState().history).toEqual([]);
    s2.getState().actions.setView({ currency: 'BTC' });
    await vi.waitFor(() => expect(s2.getState().history).toHaveLength(10));
    s2.getState().actions.setView({ model: 'short' });
    expect(s2.getState().minutes).toEqual([]);
    // A classic result still in flight after the switch is not sampled into the short series.
    s2.getState().actions.applyMessage(result(simView(), T0 + 200_000));
    expect(s2.getState().minutes).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    expect(s2.getState().minutes).toEqual([]);
  });

  it('points an earlier version kept in Web Storage move to IndexedDB once', async () => {
    const factory = new IDBFactory();
    const storage = new MemStorage();
    storage.map.set(legacyHistoryKey(simView()), JSON.stringify({ v: 1, points: [[T0, 100, 99], [T0 + 10_000, 101, null]] }));
    const s1 = createGexStore({ initialView: simView(), storage, historyStorage: openHistoryStorage(factory, IDBKeyRange), historyWriteEveryMs: 0 });
    await vi.waitFor(() => expect(s1.getState().history).toEqual([{ t: T0, spot: 100, zeroGamma: 99 }, { t: T0 + 10_000, spot: 101, zeroGamma: null }]));
    await s1.getState().actions.flushHistory();
    const s2 = createGexStore({ initialView: simView(), storage: new MemStorage(), historyStorage: openHistoryStorage(factory, IDBKeyRange) });
    await vi.waitFor(() => expect(s2.getState().history).toHaveLength(2));
  });

  it('no IndexedDB: the history is kept in memory, and the page says so once', async () => {
    const s = createGexStore({ initialView: simView(), storage: null, historyStorage: openHistoryStorage(null) });
    await vi.waitFor(() => expect(s.getState().historyKept).toBe(false));
    expect(s.getState().notices.map((n) => n.message)).toEqual(['history kept in memory only (this browser gives the page no IndexedDB): it will not survive a reload']);
    s.getState().actions.applyMessage(result(simView(), T0));
    expect(s.getState().minutes).toHaveLength(1);
  });

  it('a past minute is shown from the history (marked by state.past), and a switch of series returns to live', () => {
    const store = createGexStore({ initialView: simView(), storage: null, historyStorage: null });
    const a = store.getState().actions;
    for (let i = 0; i < 5; i++) a.applyMessage(result(simView(), T0 + i * MINUTE_MS + 500, 100_000 + i, 95_000 + i));
    a.showPast(T0 + 2 * MINUTE_MS);
    const past = store.getState().past!;
    expect(past.t).toBe(T0 + 2 * MINUTE_MS);
    expect(past.result.gex.spot).toBe(100_002);
    expect(past.result.gex.zeroGammaLevel).toBe(95_002);
    expect(store.getState().result?.gex.spot).toBe(100_004);
    // A minute the history does not hold: live.
    a.showPast(T0 - MINUTE_MS);
    expect(store.getState().past).toBeNull();
    a.showPast(T0 + MINUTE_MS);
    a.setView({ model: 'short' });
    expect(store.getState().past).toBeNull();
  });

  it('alerts: fed by results of the series on screen, 30 s of venue time to fire, none while the feed is stale', () => {
    let clock = 0;
    const view = { ...simView(), alerts: { regime: true, zeroGamma: false, callWall: false, putWall: false, flowMultiple: null, sound: false } };
    const store = createGexStore({ initialView: view, storage: null, historyStorage: null, nowMs: () => clock });
    const a = store.getState().actions;
    const fresh: FeedHealth = { venue: 'deribit', state: 'connected', dataAgeMs: 100, messagesPerSec: 40, reconnects: 0, dropped: {}, excludedLines: {}, lastError: null, retryAtMs: null };
    const feedAt = (s: number, regime: GexResult['regime'], state: FeedHealth['state'] = 'connected') => {
      clock = s * 1000;
      a.applyMessage({ type: 'health', feeds: [{ ...fresh, state }], atMs: clock });
      const r = result(view, T0 + s * 1000);
      a.applyMessage({ ...r, gex: { ...r.gex, regime } });
    };
    for (let s = 0; s <= 31; s++) feedAt(s, 'positive');
    // Negative while the feed is stale: nothing, however long.
    for (let s = 32; s <= 100; s++) feedAt(s, 'negative', 'stale');
    expect(store.getState().alertLog).toEqual([]);
    for (let s = 101; s <= 140; s++) feedAt(s, 'negative');
    expect(store.getState().alertLog.map((e) => [e.kind, e.to, (e.atMs - T0) / 1000, e.where])).toEqual([['regime', 'negative', 131, 'BTC']]);
  });

  it('saved figures: shown on request when no result has come, of the exact view only, stale until a live result', () => {
    const storage = new MemStorage();
    let clock = 50_000;
    const opts = { initialView: simView(), storage, nowMs: () => clock, persistEveryMs: 5000 };
    const s1 = createGexStore(opts);
    const live = result(simView(), T0, 101_234, 99_000);
    s1.getState().actions.applyMessage(live);
    s1.getState().actions.flushHistory();
    expect(storage.writesTo(savedFiguresKey(simView()))).toBe(1);

    // A later start, no connection: nothing until asked, then the saved figures, flagged.
    clock = 80_000;
    const s2 = createGexStore(opts);
    expect(s2.getState().result).toBeNull();
    expect(s2.getState().actions.showSavedFigures()).toBe(true);
    const st = s2.getState();
    expect(st.resultSaved).toBe(true);
    expect(st.result?.gex.spot).toBe(101_234);
    expect(st.result?.gex.zeroGammaLevel).toBe(99_000);
    expect(st.resultReceivedAtMs).toBe(50_000);
    const stale = staleness(st, clock);
    expect(stale.stale).toBe(true);
    expect(stale.ageMs).toBe(30_000);
    expect(stale.reason).toMatch(/saved figures .*not live/);
    // Even within the first seconds, and with a feed reported down the reason still names them.
    expect(staleness({ ...st, resultReceivedAtMs: clock }, clock).stale).toBe(true);
    const down: FeedHealth = { venue: 'deribit', state: 'reconnecting', dataAgeMs: null, messagesPerSec: 0, reconnects: 1, dropped: {}, excludedLines: {}, lastError: 'refused', retryAtMs: null };
    expect(staleness({ ...st, feeds: [down] }, clock).reason).toBe('deribit feed reconnecting · saved figures from an earlier visit, not live');
    // Never saved back as if they were new.
    s2.getState().actions.flushHistory();
    expect(storage.writesTo(savedFiguresKey(simView()))).toBe(1);
    // A live result replaces them and clears the flag.
    s2.getState().actions.applyMessage(result(simView(), T0 + 5000));
    expect(s2.getState().resultSaved).toBe(false);
    expect(staleness(s2.getState(), clock).stale).toBe(false);
    expect(s2.getState().actions.showSavedFigures()).toBe(false);

    // Another model, range or currency: not these figures.
    const s3 = createGexStore({ ...opts, initialView: { ...simView(), model: 'short' } });
    expect(s3.getState().actions.showSavedFigures()).toBe(false);
    const s4 = createGexStore(opts);
    s4.getState().actions.showSavedFigures();
    s4.getState().actions.setView({ profileRange: 0.3 });
    expect(s4.getState().result).toBeNull();
    expect(s4.getState().resultSaved).toBe(false);
    const s5 = createGexStore(opts);
    s5.getState().actions.showSavedFigures();
    s5.getState().actions.setView({ currency: 'ETH' });
    expect(s5.getState().result).toBeNull();
    expect(s5.getState().actions.showSavedFigures()).toBe(false);
    // Damaged entry: ignored.
    storage.map.set(savedFiguresKey(simView()), '{"v":1,"receivedAtMs":1,"result":{"type":"result"}}');
    expect(createGexStore(opts).getState().actions.showSavedFigures()).toBe(false);
  });

  it('bad history stored by an earlier version is ignored, never thrown', () => {
    const storage = new MemStorage();
    const key = legacyHistoryKey(simView());
    for (const bad of ['{', 'null', '[]', '{"v":2,"points":[]}', '{"v":1,"points":"x"}']) {
      storage.map.set(key, bad);
      expect(loadHistory(storage, key, 100)).toEqual([]);
      expect(() => createGexStore({ initialView: simView(), storage })).not.toThrow();
    }
    // 1e400 parses to Infinity: must be rejected like the other bad points.
    storage.map.set(key, '{"v":1,"points":[[1,2,3],[0,5,null],["x",1,1],[2,-1,1],[3,10,"no"],[4,10,null],[5,1e400,1]]}');
    expect(loadHistory(storage, key, 100)).toEqual([{ t: 1, spot: 2, zeroGamma: 3 }, { t: 4, spot: 10, zeroGamma: null }]);
    const throwing: KeyValueStorage = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('quota'); } };
    const s = createGexStore({ initialView: simView(), storage: throwing });
    expect(() => s.getState().actions.applyMessage(result(simView(), T0))).not.toThrow();
    expect(() => s.getState().actions.flushHistory()).not.toThrow();
  });
});

describe('staleness', () => {
  const feed = (state: FeedHealth['state'], dataAgeMs: number | null): FeedHealth => ({
    venue: 'deribit', state, dataAgeMs, messagesPerSec: 0, reconnects: 0, dropped: {}, excludedLines: {}, lastError: null, retryAtMs: null,
  });
  it('fresh, then stale after 10 s without a result, with the age counting up', () => {
    const s = { resultReceivedAtMs: 1000, feeds: [feed('connected', 100)], healthReceivedAtMs: 1000 };
    expect(staleness(s, 5000)).toEqual({ stale: false, ageMs: 4100, reason: null });
    const st = staleness(s, 12_000);
    expect(st.stale).toBe(true);
    expect(st.ageMs).toBe(11_100);
    expect(staleness(s, 20_000).ageMs).toBe(19_100);
  });
  it('a feed that is down is stale at once; no result at all since the view started is stale after 10 s', () => {
    expect(staleness({ resultReceivedAtMs: 1000, feeds: [feed('down', null)], healthReceivedAtMs: 1000 }, 1500)).toEqual({ stale: true, ageMs: 500, reason: 'deribit feed down' });
    expect(staleness({ resultReceivedAtMs: null, feeds: [], healthReceivedAtMs: null }, 5000, 0).stale).toBe(false);
    expect(staleness({ resultReceivedAtMs: null, feeds: [], healthReceivedAtMs: null }, 10_001, 0)).toEqual({ stale: true, ageMs: 10_001, reason: 'no update' });
  });
});

/** A document whose visibility the test sets and whose lifecycle events it fires. */
class FakeDoc {
  visibilityState: DocumentVisibilityState = 'visible';
  private listeners = new Map<string, (() => void)[]>();
  addEventListener(type: string, fn: () => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  fire(type: string, visibility?: DocumentVisibilityState) {
    if (visibility) this.visibilityState = visibility;
    for (const fn of this.listeners.get(type) ?? []) fn();
  }
}

describe('page suspension (hidden, frozen, back)', () => {
  /** Wall clock shared by the page and the "worker" (as in a browser); results every 250 ms. */
  function run(rate = 1) {
    let wall = 1_000_000;
    const doc = new FakeDoc();
    const store = createGexStore({ initialView: simView(), storage: null, nowMs: () => wall, lifecycle: doc as unknown as Document });
    const a = store.getState().actions;
    /** A result computed now, valued `lagMs` of venue time behind the venue clock (T0 at wall 1e6, `rate` x). */
    const post = (venueLagMs = 200) => {
      const r = result(simView(), T0 + (wall - 1_000_000) * rate - venueLagMs);
      r.computedAtMs = wall;
      a.applyMessage(r);
      return r;
    };
    const live = (ms: number) => {
      for (let t = 0; t < ms; t += 250) {
        wall += 250;
        post();
      }
    };
    const stale = () => staleness(store.getState(), wall);
    const tick = (ms: number) => void (wall += ms);
    return { store, doc, post, live, stale, tick, now: () => wall };
  }

  it('frozen while hidden: the backlog results after the return stay flagged until one has caught up with the venue clock', () => {
    const { store, doc, post, live, stale, tick } = run();
    live(5_000);
    expect(stale().stale).toBe(false);
    doc.fire('visibilitychange', 'hidden');
    tick(800);
    expect(stale().stale).toBe(false); // within the grace
    tick(700);
    expect(stale()).toMatchObject({ stale: true, reason: 'page was in the background 2 s: catching up' });
    doc.fire('freeze');
    tick(15_000);
    doc.fire('resume'); // still hidden: not back yet
    expect(store.getState().suspended?.resumedAtMs).toBeNull();
    doc.fire('visibilitychange', 'visible');
    const s0 = stale();
    expect(s0.stale).toBe(true);
    expect(s0.ageMs).toBeGreaterThanOrEqual(16_500);
    // The worker works through its socket's backlog: results arrive now, valued 16 s ago, then 8 s ago.
    tick(100);
    const backlog = post(16_000);
    expect(store.getState().result).toBe(backlog); // the figures move, flagged
    expect(stale().stale).toBe(true);
    tick(100);
    post(8_000);
    expect(stale().stale).toBe(true);
    tick(250);
    post(300); // current
    expect(store.getState().suspended).toBeNull();
    expect(stale()).toEqual({ stale: false, ageMs: 0, reason: null });
  });

  it('a result computed before the return (held by the worker while hidden) does not end it; a short absence is not flagged', () => {
    const { store, doc, post, live, stale, tick, now } = run();
    live(5_000);
    doc.fire('visibilitychange', 'hidden');
    tick(3_000);
    const held = result(simView(), T0 + (now() - 1_000_000) - 200);
    held.computedAtMs = now() - 500;
    doc.fire('visibilitychange', 'visible');
    store.getState().actions.applyMessage(held);
    expect(stale().stale).toBe(true);
    tick(50);
    post();
    expect(stale().stale).toBe(false);
    // Hidden for 0.8 s: nothing to flag.
    doc.fire('visibilitychange', 'hidden');
    tick(800);
    doc.fire('visibilitychange', 'visible');
    expect(store.getState().suspended).toBeNull();
    expect(stale().stale).toBe(false);
  });

  it('measures the venue clock rate: at 480x a result 20 venue minutes behind is backlog (tolerance 1.5 s x 480 = 12 min), 8 venue seconds behind is current', () => {
    const { store, doc, post, live, stale, tick } = run(480);
    live(5_000);
    expect(store.getState().suspended).toBeNull();
    doc.fire('visibilitychange', 'hidden');
    expect(store.getState().suspended?.venueClock?.rate).toBeCloseTo(480, 6);
    tick(20_000);
    doc.fire('visibilitychange', 'visible');
    tick(200);
    post(20 * 60_000);
    expect(stale().stale).toBe(true);
    tick(250);
    post(8_000);
    expect(stale().stale).toBe(false);
  });

  it('without a venue clock reference (hidden right after load) it waits for results computed 1.5 s after the return', () => {
    const { doc, post, stale, tick } = run();
    tick(250);
    post();
    doc.fire('visibilitychange', 'hidden');
    tick(10_000);
    doc.fire('visibilitychange', 'visible');
    tick(1_000);
    post();
    expect(stale().stale).toBe(true);
    tick(600);
    post();
    expect(stale().stale).toBe(false);
  });

  it('gives up after 30 s with a notice when the figures never catch up; hidden again before catching up is the same absence', () => {
    const { store, doc, post, live, stale, tick } = run();
    live(5_000);
    doc.fire('visibilitychange', 'hidden');
    tick(10_000);
    doc.fire('visibilitychange', 'visible');
    tick(5_000);
    post(60_000);
    // Away again before catching up: still counted from the first absence.
    doc.fire('visibilitychange', 'hidden');
    tick(2_000);
    doc.fire('visibilitychange', 'visible');
    expect(stale().reason).toBe('page was in the background 17 s: catching up');
    for (let i = 0; i < 124; i++) {
      tick(250);
      post(60_000);
    }
    expect(stale().stale).toBe(false); // 31 s after the return: the flag no longer counts
    expect(store.getState().suspended).toBeNull();
    expect(store.getState().notices.map((n) => n.message)).toEqual(["figures did not catch up with the venue clock within 30 s of the page's return"]);
  });

  it('a feed that is down is named before the absence; no lifecycle source, no listeners', () => {
    const { doc, live, stale, tick, store } = run();
    live(3_000);
    doc.fire('visibilitychange', 'hidden');
    tick(5_000);
    const down: FeedHealth = { venue: 'deribit', state: 'down', dataAgeMs: 100, messagesPerSec: 0, reconnects: 0, dropped: {}, excludedLines: {}, lastError: null, retryAtMs: null };
    store.getState().actions.applyMessage({ type: 'health', feeds: [down], atMs: 0 });
    expect(stale()).toMatchObject({ stale: true, reason: 'deribit feed down' });
    expect(stale().ageMs).toBeGreaterThanOrEqual(5_000);
    expect(() => createGexStore({ initialView: simView(), storage: null, lifecycle: null })).not.toThrow();
  });
});
