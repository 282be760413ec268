import { describe, expect, it } from 'vitest';
import type { FeedHealth, GexResult, ResultMessage } from '../worker/protocol.ts';
import { createGexStore, historyKey, loadHistory, staleness, type KeyValueStorage } from './store.ts';
import { defaultView, type ViewState } from './url.ts';

class MemStorage implements KeyValueStorage {
  map = new Map<string, string>();
  writes = 0;
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.writes++;
    this.map.set(k, v);
  }
}

const f = (n = 0) => new Float64Array(n);
function gex(nowMs: number, spot: number, zeroGammaLevel: number | null): GexResult {
  return {
    spot, nowMs, model: 'classic', strikes: f(), callGex: f(), putGex: f(), netGex: f(), expiries: f(), netGexByExpiry: f(),
    totalCallGex: 0, totalPutGex: 0, totalNetGex: 0, profileSpots: f(), profileNetGex: f(), zeroGammaLevel, zeroGammaCrossings: [],
    moves: f(), hedgeFlowUnits: f(), hedgeFlowUsd: f(), hedgeFlowUnitsGammaApprox: f(), callWall: null, putWall: null,
    largestAbsGammaStrike: null, regime: 'positive', includedLines: 0,
    excluded: { expired: 0, ivMissing: 0, ivNonPositive: 0, ivAbsurd: 0, oiMissing: 0, oiNegative: 0, strikeInvalid: 0, forwardInvalid: 0, multiplierInvalid: 0 },
  };
}
let seq = 0;
function result(view: ViewState, nowMs: number, spot = 100_000, zg: number | null = 95_000): ResultMessage {
  return {
    type: 'result', seq: ++seq, selection: view, computedAtMs: nowMs, newestFrameAtMs: nowMs, gex: gex(nowMs, spot, zg), perps: [],
    includedVenues: ['deribit'], excludedVenues: [], spotSource: 'deribit index', expiries: [], expiredSelected: [],
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
    const feed: FeedHealth = { venue: 'deribit', stream: 'all', state: 'connected', dataAgeMs: 120, messagesPerSec: 40, reconnects: 0, dropped: {}, excludedLines: {}, lastError: null, retryAtMs: null };
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

  it('history persists per venue+currency, survives a reload, throttles writes', () => {
    const storage = new MemStorage();
    let clock = 0;
    const opts = { initialView: simView(), storage, nowMs: () => clock, persistEveryMs: 5000 };
    const s1 = createGexStore(opts);
    for (let i = 0; i < 10; i++) {
      clock += 1000;
      s1.getState().actions.applyMessage(result(simView(), T0 + i * 10_000, 100_000 + i));
    }
    expect(storage.writes).toBe(2); // at clock 1000 and 6000
    s1.getState().actions.flushHistory();
    const s2 = createGexStore(opts);
    expect(s2.getState().history).toEqual(s1.getState().history);
    expect(s2.getState().history).toHaveLength(10);
    // ETH has its own series.
    s2.getState().actions.setView({ currency: 'ETH' });
    expect(s2.getState().history).toEqual([]);
    s2.getState().actions.setView({ currency: 'BTC' });
    expect(s2.getState().history).toHaveLength(10);
  });

  it('bad stored history is ignored, never thrown', () => {
    const storage = new MemStorage();
    const key = historyKey(simView());
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
    venue: 'deribit', stream: 'all', state, dataAgeMs, messagesPerSec: 0, reconnects: 0, dropped: {}, excludedLines: {}, lastError: null, retryAtMs: null,
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
