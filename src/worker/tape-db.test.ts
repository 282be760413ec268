import { afterEach, describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import { IDBFactory, IDBKeyRange, IDBObjectStore as FDBObjectStore } from 'fake-indexeddb';
import type { TapeTrade } from '../chain/model.ts';
import { MEMORY_TAPES, TAPE_DB_NAME, openTapeStorage, tapeKey, toHourRecord } from './tape-db.ts';

const T0 = Date.UTC(2026, 2, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const KEY = tapeKey('sim', 'deribit', 'BTC');
const trade = (id: string, t: number, side: 'buy' | 'sell' = 'buy', contracts = 1, block = false): TapeTrade => ({
  venue: 'deribit', instrument: 'BTC-27MAR26-80000-C', tradeId: id, timestampMs: t, takerSide: side, contracts, block,
});
const hourly = (from: number, n: number, prefix = 'h') => Array.from({ length: n }, (_, i) => trade(`${prefix}${i}`, from + i * HOUR, i % 2 ? 'sell' : 'buy', 0.1 * (i + 1), i % 5 === 0));

async function open(factory = new IDBFactory()) {
  const { storage, problem } = await openTapeStorage(factory, IDBKeyRange);
  expect(problem).toBeNull();
  return { storage, factory };
}

const realPut = FDBObjectStore.prototype.put;
afterEach(() => {
  FDBObjectStore.prototype.put = realPut;
});

describe('tape storage (IndexedDB)', () => {
  it('keeps a tape\'s trades and coverage across a reopen (a reload), each trade as it was', async () => {
    const { storage, factory } = await open();
    const trades = hourly(T0, 10);
    const spans = [{ fromMs: T0, toMs: T0 + 10 * HOUR }];
    expect(await storage.write(KEY, trades, spans, -Infinity)).toEqual({ droppedDays: 0, storedFromMs: null, failed: null });
    storage.close();
    const again = (await open(factory)).storage;
    const back = await again.load(KEY, 'deribit', -Infinity);
    expect(back).toEqual({ trades, spans, skipped: 0 });
    // From a time on; another tape (another source or currency) sees none of it.
    expect((await again.load(KEY, 'deribit', T0 + 5 * HOUR)).trades).toEqual(trades.slice(5));
    expect((await again.load(tapeKey('live', 'deribit', 'BTC'), 'deribit', -Infinity)).trades).toEqual([]);
  });

  it('a write adds its coverage to what is stored (a page that has not loaded the stored tape yet)', async () => {
    const { storage } = await open();
    await storage.write(KEY, hourly(T0, 4), [{ fromMs: T0, toMs: T0 + 4 * HOUR }], -Infinity);
    await storage.write(KEY, [trade('late', T0 + 6 * HOUR)], [{ fromMs: T0 + 5 * HOUR, toMs: T0 + 7 * HOUR }, { fromMs: T0 + 3 * HOUR, toMs: T0 + 5 * HOUR }], -Infinity);
    expect((await storage.load(KEY, 'deribit', -Infinity)).spans).toEqual([{ fromMs: T0, toMs: T0 + 7 * HOUR }]);
  });

  it('writing the same trade twice keeps one record; every write trims the tape to its window', async () => {
    const { storage } = await open();
    await storage.write(KEY, hourly(T0, 10), [], -Infinity);
    await storage.write(KEY, [...hourly(T0, 10).slice(8), trade('new', T0 + 10 * HOUR)], [{ fromMs: T0 + 4 * HOUR, toMs: T0 + 10 * HOUR }], T0 + 4 * HOUR + 60_000);
    const back = await storage.load(KEY, 'deribit', -Infinity);
    // Whole hours before the window's go; the window's first hour stays whole (the tape refuses what is older).
    expect(back.trades.map((t) => t.tradeId)).toEqual(['h4', 'h5', 'h6', 'h7', 'h8', 'h9', 'new']);
    expect(back.spans).toEqual([{ fromMs: T0 + 4 * HOUR + 60_000, toMs: T0 + 10 * HOUR }]);
  });

  it('a corrupt or foreign record is skipped, counted and deleted, never returned; a bad trade in a good hour is left out', async () => {
    const { storage, factory } = await open();
    await storage.write(KEY, hourly(T0, 3), [], -Infinity);
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = factory.open(TAPE_DB_NAME);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = raw.transaction(['hours', 'tapes'], 'readwrite');
      const hs = tx.objectStore('hours');
      const good = (h: number) => toHourRecord(KEY, h, [trade(`x${h}`, h + 1, 'buy', 2), trade(`y${h}`, h + 2, 'sell', 1)]);
      hs.put({ ...good(T0 + 10 * HOUR), c: Float64Array.from([1, -1]) }); // one trade with a negative size
      hs.put({ ...good(T0 + 11 * HOUR), ids: 'only-one' }); // ids and columns disagree
      hs.put({ ...good(T0 + 12 * HOUR), ts: [1, 2] }); // not a typed column
      hs.put({ ...good(T0 + 13 * HOUR), names: [] }); // an instrument index past the table
      hs.put({ k: KEY, h: T0 + 14 * HOUR, hello: 'not ours' });
      tx.objectStore('tapes').put({ k: KEY, spans: [{ fromMs: 5, toMs: 1 }, { fromMs: 'x' }, { fromMs: 1, toMs: 2 }], writtenAtMs: 0 });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    raw.close();
    const back = await storage.load(KEY, 'deribit', -Infinity);
    // One trade of the first hour (the negative size) and the three broken hours and the foreign one.
    expect(back.skipped).toBe(1 + 3 + 1);
    expect(back.trades.map((t) => t.tradeId)).toEqual(['h0', 'h1', 'h2', `x${T0 + 10 * HOUR}`]);
    expect(back.spans).toEqual([{ fromMs: 1, toMs: 2 }]);
    // The broken hours are deleted: the next load counts only the bad trade of the kept hour.
    expect((await storage.load(KEY, 'deribit', -Infinity)).skipped).toBe(1);
  });

  it('an hour written again takes the new trades in, each trade once', async () => {
    const { storage } = await open();
    await storage.write(KEY, [trade('a', T0 + 1), trade('b', T0 + 2)], [], -Infinity);
    await storage.write(KEY, [trade('b', T0 + 2), trade('c', T0 + 3, 'sell', 4, true)], [], -Infinity);
    const back = await storage.load(KEY, 'deribit', -Infinity);
    expect(back.trades).toEqual([trade('a', T0 + 1), trade('b', T0 + 2), trade('c', T0 + 3, 'sell', 4, true)]);
  });

  it('a full quota drops the oldest day of every tape (and of its coverage), says so, and the write then goes through', async () => {
    const { storage } = await open();
    const other = tapeKey('sim', 'deribit', 'ETH');
    await storage.write(KEY, hourly(T0, 72), [{ fromMs: T0, toMs: T0 + 72 * HOUR }], -Infinity);
    await storage.write(other, hourly(T0 + 12 * HOUR, 12, 'e'), [{ fromMs: T0 + 12 * HOUR, toMs: T0 + DAY }], -Infinity);
    let refusals = 2;
    FDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof realPut>) {
      if (this.name === 'hours' && refusals > 0) {
        refusals--;
        throw new DOMException('the quota has been exceeded', 'QuotaExceededError');
      }
      return realPut.apply(this, args);
    };
    const out = await storage.write(KEY, [trade('n', T0 + 72 * HOUR)], [{ fromMs: T0, toMs: T0 + 73 * HOUR }], -Infinity);
    expect(out).toEqual({ droppedDays: 2, storedFromMs: T0 + 2 * DAY, failed: null });
    const back = await storage.load(KEY, 'deribit', -Infinity);
    expect(back.trades[0].timestampMs).toBe(T0 + 2 * DAY);
    expect(back.trades).toHaveLength(25);
    // The coverage given is kept from the stored start on (what was dropped is not claimed); the
    // other tape lost its day and its coverage of it.
    expect(back.spans).toEqual([{ fromMs: T0 + 2 * DAY, toMs: T0 + 73 * HOUR }]);
    const eth = await storage.load(other, 'deribit', -Infinity);
    expect(eth.trades).toEqual([]);
    expect(eth.spans).toEqual([]);
  });

  it('a quota that stays full is reported, not thrown', async () => {
    const { storage } = await open();
    FDBObjectStore.prototype.put = function () {
      throw new DOMException('full', 'QuotaExceededError');
    };
    const out = await storage.write(KEY, hourly(T0, 2), [], -Infinity);
    expect(out.failed).toMatch(/storage full|Quota/);
  });

  it('no IndexedDB (a private window): memory only, with the reason', async () => {
    expect(await openTapeStorage(null)).toEqual({ storage: MEMORY_TAPES, problem: 'no IndexedDB here' });
    const refusing = { open: () => { throw new DOMException('denied', 'SecurityError'); } } as unknown as IDBFactory;
    const r = await openTapeStorage(refusing, IDBKeyRange);
    expect(r.storage.persistent).toBe(false);
    expect(r.problem).toBe('IndexedDB refused (SecurityError)');
  });
});
