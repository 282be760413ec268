import { afterEach, describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import { IDBFactory, IDBKeyRange, IDBObjectStore as FDBObjectStore } from 'fake-indexeddb';
import type { TapeTrade } from '../chain/model.ts';
import { MEMORY_TAPES, TAPE_DB_NAME, openTapeStorage, tapeKey, toRecord } from './tape-db.ts';

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
    await storage.write(KEY, [...hourly(T0, 10).slice(8), trade('new', T0 + 10 * HOUR)], [{ fromMs: T0 + 4 * HOUR, toMs: T0 + 10 * HOUR }], T0 + 4 * HOUR);
    const back = await storage.load(KEY, 'deribit', -Infinity);
    expect(back.trades.map((t) => t.tradeId)).toEqual(['h4', 'h5', 'h6', 'h7', 'h8', 'h9', 'new']);
    expect(back.spans).toEqual([{ fromMs: T0 + 4 * HOUR, toMs: T0 + 10 * HOUR }]);
  });

  it('a corrupt or foreign record is skipped, counted and deleted, never returned', async () => {
    const { storage, factory } = await open();
    await storage.write(KEY, hourly(T0, 3), [], -Infinity);
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = factory.open(TAPE_DB_NAME);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = raw.transaction(['trades', 'tapes'], 'readwrite');
      const ts = tx.objectStore('trades');
      ts.put({ ...toRecord(KEY, trade('bad1', T0 + 1)), c: -1 });
      ts.put({ ...toRecord(KEY, trade('bad2', T0 + 2)), b: 'buy' });
      ts.put({ ...toRecord(KEY, trade('bad3', T0 + 3)), i: '' });
      ts.put({ k: KEY, t: T0 + 4, id: 'bad4', hello: 'not ours' });
      tx.objectStore('tapes').put({ k: KEY, spans: [{ fromMs: 5, toMs: 1 }, { fromMs: 'x' }, { fromMs: 1, toMs: 2 }], writtenAtMs: 0 });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    raw.close();
    const back = await storage.load(KEY, 'deribit', -Infinity);
    expect(back.skipped).toBe(4);
    expect(back.trades.map((t) => t.tradeId)).toEqual(['h0', 'h1', 'h2']);
    expect(back.spans).toEqual([{ fromMs: 1, toMs: 2 }]);
    expect((await storage.load(KEY, 'deribit', -Infinity)).skipped).toBe(0);
  });

  it('a full quota drops the oldest day of every tape (and of its coverage), says so, and the write then goes through', async () => {
    const { storage } = await open();
    const other = tapeKey('sim', 'deribit', 'ETH');
    await storage.write(KEY, hourly(T0, 72), [{ fromMs: T0, toMs: T0 + 72 * HOUR }], -Infinity);
    await storage.write(other, hourly(T0 + 12 * HOUR, 12, 'e'), [{ fromMs: T0 + 12 * HOUR, toMs: T0 + DAY }], -Infinity);
    let refusals = 2;
    FDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof realPut>) {
      if (this.name === 'trades' && refusals > 0) {
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
