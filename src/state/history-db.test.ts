import { afterEach, describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import { IDBFactory, IDBKeyRange, IDBObjectStore as FDBObjectStore } from 'fake-indexeddb';
import { DB_NAME, MAX_SERIES, MEMORY_ONLY, openHistoryStorage } from './history-db.ts';
import { MINUTE_MS, type MinuteSample } from './minutes.ts';

const T0 = Date.UTC(2026, 2, 6, 6, 0, 0);
const HOUR = 3_600_000;

function sample(series: string, t: number, net = 1e6): MinuteSample {
  return {
    series, t, nowMs: t + 250, spot: 80_000, zeroGamma: 79_000, callWall: 90_000, putWall: 70_000, largestAbsGammaStrike: 80_000,
    totalNetGex: net, regime: net >= 0 ? 'positive' : 'negative',
    strikes: Float64Array.from([70_000, 80_000, 90_000]), callGex: Float32Array.from([0, net, 2 * net]), putGex: Float32Array.from([-net, 0, 0]),
    expiries: Float64Array.from([T0 + 26 * HOUR]), netGexByExpiry: Float32Array.from([net]),
  };
}
const minutes = (series: string, from: number, n: number) => Array.from({ length: n }, (_, i) => sample(series, from + i * MINUTE_MS));

async function open(factory = new IDBFactory()) {
  const { storage, problem } = await openHistoryStorage(factory, IDBKeyRange);
  expect(problem).toBeNull();
  return { storage, factory };
}

const realPut = FDBObjectStore.prototype.put;
afterEach(() => {
  FDBObjectStore.prototype.put = realPut;
});

describe('history storage (IndexedDB)', () => {
  it('keeps minutes and points of a series across a reopen (a reload), each within its window', async () => {
    const { storage, factory } = await open();
    const pts = Array.from({ length: 5 }, (_, i) => ({ t: T0 + i * 10_000, spot: 80_000 + i, zeroGamma: i % 2 ? null : 79_000 }));
    expect(await storage.write('a', minutes('a', T0, 10), pts, -Infinity, -Infinity)).toEqual({ droppedHours: 0, failed: null });
    storage.close();
    const again = (await open(factory)).storage;
    const back = await again.load('a', -Infinity, -Infinity);
    expect(back.skipped).toBe(0);
    expect(back.minutes.map((m) => m.t)).toEqual(minutes('a', T0, 10).map((m) => m.t));
    expect(back.minutes[3].callGex).toBeInstanceOf(Float32Array);
    expect(Array.from(back.minutes[3].callGex)).toEqual([0, 1e6, 2e6]);
    expect(back.points).toEqual(pts);
    // Loading from a time on, and another series sees nothing of this one.
    expect((await again.load('a', T0 + 5 * MINUTE_MS, T0 + 30_000)).minutes).toHaveLength(5);
    expect((await again.load('b', -Infinity, -Infinity)).minutes).toEqual([]);
  });

  it('trims a series to its windows on every write', async () => {
    const { storage } = await open();
    await storage.write('a', minutes('a', T0, 30), [], -Infinity, -Infinity);
    await storage.write('a', minutes('a', T0 + 30 * MINUTE_MS, 1), [], T0 + 10 * MINUTE_MS, -Infinity);
    const back = await storage.load('a', -Infinity, -Infinity);
    expect(back.minutes[0].t).toBe(T0 + 11 * MINUTE_MS);
    expect(back.minutes).toHaveLength(20);
  });

  it('a corrupt or foreign record is skipped, counted and deleted, never returned', async () => {
    const { storage, factory } = await open();
    await storage.write('a', minutes('a', T0, 4), [{ t: T0, spot: 1, zeroGamma: null }], -Infinity, -Infinity);
    // Damage records behind the app's back, as another app version or a broken disk might.
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = factory.open(DB_NAME);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = raw.transaction(['minutes', 'points'], 'readwrite');
      const ms = tx.objectStore('minutes');
      ms.put({ ...sample('a', T0 + MINUTE_MS), callGex: Float32Array.from([1, 2]) }); // lengths disagree
      ms.put({ ...sample('a', T0 + 2 * MINUTE_MS), spot: 'x' });
      ms.put({ series: 'a', t: T0 + 10 * MINUTE_MS, hello: 'not ours' });
      ms.put({ ...sample('a', T0 + 11 * MINUTE_MS), strikes: Float64Array.from([3, 2, 1]) }); // not ascending
      ms.put({ ...sample('a', T0 + 12 * MINUTE_MS), putGex: Float32Array.from([NaN, 0, 0]) });
      tx.objectStore('points').put({ series: 'a', t: T0 + 10_000, spot: -5, zeroGamma: null });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    raw.close();
    const back = await storage.load('a', -Infinity, -Infinity);
    expect(back.skipped).toBe(6);
    expect(back.minutes.map((m) => (m.t - T0) / MINUTE_MS)).toEqual([0, 3]);
    expect(back.points).toEqual([{ t: T0, spot: 1, zeroGamma: null }]);
    // Deleted: the next load counts none.
    expect((await storage.load('a', -Infinity, -Infinity)).skipped).toBe(0);
  });

  it('a full quota drops the oldest hour of every series, says so, and the write then goes through', async () => {
    const { storage } = await open();
    await storage.write('a', minutes('a', T0, 150), [{ t: T0 + 1000, spot: 1, zeroGamma: null }], -Infinity, -Infinity);
    await storage.write('b', minutes('b', T0 + 30 * MINUTE_MS, 60), [], -Infinity, -Infinity);
    let refusals = 2;
    FDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof realPut>) {
      if (this.name === 'minutes' && refusals > 0) {
        refusals--;
        throw new DOMException('the quota has been exceeded', 'QuotaExceededError');
      }
      return realPut.apply(this, args);
    };
    const out = await storage.write('a', minutes('a', T0 + 150 * MINUTE_MS, 1), [], -Infinity, -Infinity);
    expect(out).toEqual({ droppedHours: 2, failed: null });
    // Hours 06:00 and 07:00 gone from both series (b held only those); 08:00 on kept, the new minute written.
    const a = await storage.load('a', -Infinity, -Infinity);
    expect(a.minutes[0].t).toBe(T0 + 2 * HOUR);
    expect(a.minutes).toHaveLength(31);
    expect(a.minutes.at(-1)!.t).toBe(T0 + 150 * MINUTE_MS);
    expect(a.points).toEqual([]);
    expect((await storage.load('b', -Infinity, -Infinity)).minutes).toEqual([]);
  });

  it('a quota that stays full is reported, not thrown', async () => {
    const { storage } = await open();
    FDBObjectStore.prototype.put = function () {
      throw new DOMException('full', 'QuotaExceededError');
    };
    const out = await storage.write('a', minutes('a', T0, 1), [], -Infinity, -Infinity);
    expect(out.failed).toMatch(/storage full|Quota/);
  });

  it(`keeps at most ${MAX_SERIES} series: the least recently written go first`, async () => {
    const { storage } = await open();
    let wall = 1_000;
    const realNow = Date.now;
    Date.now = () => wall;
    try {
      for (let i = 0; i <= MAX_SERIES; i++) {
        wall += 1000;
        await storage.write(`s${i}`, minutes(`s${i}`, T0, 2), [], -Infinity, -Infinity);
      }
    } finally {
      Date.now = realNow;
    }
    await storage.load(`s${MAX_SERIES}`, -Infinity, -Infinity);
    expect((await storage.load('s0', -Infinity, -Infinity)).minutes).toEqual([]);
    expect((await storage.load('s1', -Infinity, -Infinity)).minutes).toHaveLength(2);
  });

  it('no IndexedDB (a private window): memory only, with the reason', async () => {
    expect(await openHistoryStorage(null)).toEqual({ storage: MEMORY_ONLY, problem: 'this browser gives the page no IndexedDB' });
    const refusing = { open: () => { throw new DOMException('denied', 'SecurityError'); } } as unknown as IDBFactory;
    const r = await openHistoryStorage(refusing, IDBKeyRange);
    expect(r.storage.persistent).toBe(false);
    expect(r.problem).toBe('IndexedDB refused (SecurityError)');
  });
});
