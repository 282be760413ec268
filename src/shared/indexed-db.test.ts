import { describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { IDBPDatabase } from 'idb';
import { dbErrorText, isQuotaError, openIndexedDbStorage } from './indexed-db.ts';

const MEMORY = { memory: true } as const;

const open = (factory: IDBFactory | null, keyRange: typeof IDBKeyRange | null = IDBKeyRange) =>
  openIndexedDbStorage<never, { db: IDBPDatabase<never> } | typeof MEMORY>({
    factory, keyRange: keyRange ?? undefined, name: 'probe', version: 1,
    upgrade: (raw) => raw.createObjectStore('things'),
    storage: (db) => ({ db }), memory: MEMORY, noIndexedDb: 'none here',
  });

describe('opening an IndexedDB storage', () => {
  it('opens the database, its stores made by the upgrade', async () => {
    const r = await open(new IDBFactory());
    expect(r.problem).toBeNull();
    expect('db' in r.storage && [...r.storage.db.objectStoreNames]).toEqual(['things']);
  });

  it('falls back to memory with the reason when there is no IndexedDB or it refuses', async () => {
    expect(await open(null)).toEqual({ storage: MEMORY, problem: 'none here' });
    expect(await open(new IDBFactory(), null)).toEqual({ storage: MEMORY, problem: 'none here' });
    const refusing = { open: () => { throw new DOMException('denied', 'SecurityError'); } } as unknown as IDBFactory;
    expect(await open(refusing)).toEqual({ storage: MEMORY, problem: 'IndexedDB refused (SecurityError)' });
  });

  it('lets another tab upgrade the database: this one closes rather than blocking it', async () => {
    const factory = new IDBFactory();
    expect((await open(factory)).problem).toBeNull();
    const upgraded = await new Promise<string>((resolve) => {
      const req = factory.open('probe', 2);
      req.onblocked = () => resolve('blocked');
      req.onsuccess = () => {
        req.result.close();
        resolve('opened');
      };
    });
    expect(upgraded).toBe('opened');
  });

  it('tells a full quota from other failures', () => {
    expect(isQuotaError(new DOMException('full', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError(new DOMException('gone', 'AbortError'))).toBe(false);
    expect(dbErrorText(new DOMException('gone', 'AbortError'))).toBe('AbortError: gone');
  });
});
