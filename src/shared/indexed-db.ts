/**
 * Opening an IndexedDB database, as the page's history (state/history-db.ts) and the worker's trade
 * tapes (worker/tape-db.ts) both do: through `idb` (a thin promise wrapper, no storage logic of its
 * own), falling back to a memory-only storage with the reason when the browser gives no IndexedDB or
 * refuses it, so the caller can say so in a notice. Its own TypeScript project (tsconfig.idb.json):
 * the rest of src/shared is compiled without the DOM library.
 */
import { wrap, type DBSchema, type IDBPDatabase } from 'idb';

export interface OpenedStorage<T> {
  storage: T;
  /** Why the storage is the memory-only one, or null when the database opened. */
  problem: string | null;
}

export interface StorageToOpen<S extends DBSchema, T> {
  /** The browser's (or the worker's) `indexedDB`; a fake one in tests; null where there is none. */
  factory: IDBFactory | null | undefined;
  keyRange: typeof IDBKeyRange | undefined;
  name: string;
  version: number;
  /** Creates (or migrates) the object stores of an older version. */
  upgrade(db: IDBDatabase): void;
  /** The storage over the opened database. */
  storage(db: IDBPDatabase<S>, keyRange: typeof IDBKeyRange): T;
  /** The storage without IndexedDB (nothing survives a reload), and the reason given when there is none. */
  memory: T;
  noIndexedDb: string;
}

export async function openIndexedDbStorage<S extends DBSchema, T>(o: StorageToOpen<S, T>): Promise<OpenedStorage<T>> {
  if (!o.factory || !o.keyRange) return { storage: o.memory, problem: o.noIndexedDb };
  let db: IDBPDatabase<S>;
  try {
    const req = o.factory.open(o.name, o.version);
    req.addEventListener('upgradeneeded', () => o.upgrade(req.result));
    db = (await wrap(req)) as unknown as IDBPDatabase<S>;
  } catch (e) {
    // Private windows of some browsers refuse here (InvalidStateError, SecurityError).
    return { storage: o.memory, problem: `IndexedDB refused (${e instanceof Error ? e.name : 'error'})` };
  }
  // Another tab upgrading the database: let it, this page keeps its memory.
  db.addEventListener('versionchange', () => db.close());
  return { storage: o.storage(db, o.keyRange), problem: null };
}

/** A failed request's or transaction's error as `Name: message` (DOMExceptions carry the cause in the name). */
export const dbErrorText = (e: unknown): string => (typeof e === 'object' && e !== null ? `${(e as Error).name}: ${(e as Error).message}` : String(e));

/** The storage quota is full (the caller drops its oldest records and tries again). */
export const isQuotaError = (e: unknown): boolean => /QuotaExceeded|quota/i.test(dbErrorText(e));
