/**
 * Where the worker keeps each trade tape across reloads and restarts of a wall display, so a start
 * fetches only the history it does not hold: IndexedDB through `idb` (as the page's history, issue 15:
 * a thin promise wrapper, no storage logic of its own), one database with two object stores:
 *  - `trades`: one compact record per trade, keyed by [tape, time, trade id], so a tape's window is one
 *    key range (loaded with getAll, trimmed with one delete);
 *  - `tapes`: per tape, the spans of venue time it holds completely (Coverage), written in the same
 *    transaction as the trades, so what a reload believes it holds is what it holds.
 * Bounded: every write trims the tape to its window; a full quota drops the oldest day of every tape,
 * said in a notice; a corrupt record is skipped, counted and deleted. Without IndexedDB the tape lives in
 * memory only (MEMORY_TAPES), and the page says so.
 */
import { wrap, type DBSchema, type IDBPDatabase } from 'idb';
import type { TapeTrade, VenueId } from '../chain/model.ts';
import { Coverage, type Span } from './tape.ts';

export const TAPE_DB_NAME = 'gexdesk-tape';
const DB_VERSION = 1;
const DAY_MS = 86_400_000;
/** Days a full quota may take before a write gives up (a window is at most 30 days). */
const MAX_DROPPED_DAYS = 31;

/** One trade as stored: short keys, the side and block flag as numbers (~200k of them for a week). */
export interface TradeRecord {
  /** The tape: source, venue and currency (tapeKey). */
  k: string;
  t: number;
  id: string;
  i: string;
  /** 1: the taker bought; 0: sold. */
  b: 0 | 1;
  c: number;
  /** 1: part of a block trade. */
  x: 0 | 1;
}

interface TapeRecord {
  k: string;
  spans: Span[];
  writtenAtMs: number;
}

interface TapeSchema extends DBSchema {
  trades: { key: [string, number, string]; value: TradeRecord };
  tapes: { key: string; value: TapeRecord };
}

/** The key of a tape: its source (sim trades are not live ones), venue and currency. */
export const tapeKey = (source: string, venue: VenueId, currency: string): string => `${source}|${venue}|${currency}`;

export interface LoadedTape {
  trades: TapeTrade[];
  spans: Span[];
  /** Records skipped as corrupt or foreign (and deleted). */
  skipped: number;
}

export interface TapeWriteOutcome {
  /** Days of the oldest trades (of every tape) dropped to make room. */
  droppedDays: number;
  /**
   * When days were dropped, where this tape's stored trades now start: the writer keeps what it writes
   * from there on (a span it holds in memory before it is no longer stored).
   */
  storedFromMs: number | null;
  /** Nothing could be written (the quota stayed full, or the database failed). */
  failed: string | null;
}

export interface TapeStorage {
  readonly persistent: boolean;
  /** The tape's trades from `sinceMs` on and its coverage, checked. */
  load(key: string, venue: VenueId, sinceMs: number): Promise<LoadedTape>;
  /**
   * Adds trades and spans of coverage (to those stored: a page that has not loaded the stored tape yet
   * still knows what it holds), and trims the tape, trades and coverage, to `beforeMs` and after.
   */
  write(key: string, trades: readonly TapeTrade[], spans: readonly Span[], beforeMs: number): Promise<TapeWriteOutcome>;
  close(): void;
}

/** No IndexedDB: the tape is kept in memory, and a reload fetches the history again. */
export const MEMORY_TAPES: TapeStorage = {
  persistent: false,
  load: async () => ({ trades: [], spans: [], skipped: 0 }),
  write: async () => ({ droppedDays: 0, storedFromMs: null, failed: null }),
  close: () => undefined,
};

export function toRecord(key: string, t: TapeTrade): TradeRecord {
  return { k: key, t: t.timestampMs, id: t.tradeId, i: t.instrument, b: t.takerSide === 'buy' ? 1 : 0, c: t.contracts, x: t.block ? 1 : 0 };
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** The trade of a stored record, or null when it is not one of this tape's. */
export function fromRecord(r: unknown, key: string, venue: VenueId): TapeTrade | null {
  if (typeof r !== 'object' || r === null) return null;
  const o = r as Record<string, unknown>;
  if (o.k !== key || !isNum(o.t) || typeof o.id !== 'string' || o.id === '' || typeof o.i !== 'string' || o.i === '') return null;
  if ((o.b !== 0 && o.b !== 1) || !isNum(o.c) || o.c < 0 || (o.x !== 0 && o.x !== 1)) return null;
  return { venue, instrument: o.i, tradeId: o.id, timestampMs: o.t, takerSide: o.b === 1 ? 'buy' : 'sell', contracts: o.c, block: o.x === 1 };
}

function readSpans(x: unknown): Span[] {
  if (!Array.isArray(x)) return [];
  return x.filter((s): s is Span => typeof s === 'object' && s !== null && isNum(s.fromMs) && isNum(s.toMs) && s.fromMs <= s.toMs);
}

const errorText = (e: unknown) => (typeof e === 'object' && e !== null ? `${(e as Error).name}: ${(e as Error).message}` : String(e));
const isQuota = (e: unknown) => /QuotaExceeded|quota/i.test(errorText(e));

/**
 * Opens the tape database of `factory` (the worker's `indexedDB`; a fake one in tests). Resolves to the
 * memory-only storage with the reason when there is none or it cannot be opened.
 */
export async function openTapeStorage(factory: IDBFactory | null | undefined, keyRange: typeof IDBKeyRange | undefined = globalThis.IDBKeyRange): Promise<{ storage: TapeStorage; problem: string | null }> {
  if (!factory || !keyRange) return { storage: MEMORY_TAPES, problem: 'no IndexedDB here' };
  let db: IDBPDatabase<TapeSchema>;
  try {
    const req = factory.open(TAPE_DB_NAME, DB_VERSION);
    req.addEventListener('upgradeneeded', () => {
      const raw = req.result;
      if (!raw.objectStoreNames.contains('trades')) raw.createObjectStore('trades', { keyPath: ['k', 't', 'id'] });
      if (!raw.objectStoreNames.contains('tapes')) raw.createObjectStore('tapes', { keyPath: 'k' });
    });
    db = (await wrap(req)) as unknown as IDBPDatabase<TapeSchema>;
  } catch (e) {
    // Private windows of some browsers refuse here (InvalidStateError, SecurityError).
    return { storage: MEMORY_TAPES, problem: `IndexedDB refused (${e instanceof Error ? e.name : 'error'})` };
  }
  db.addEventListener('versionchange', () => db.close());
  return { storage: new IdbTapes(db, keyRange), problem: null };
}

class IdbTapes implements TapeStorage {
  readonly persistent = true;
  constructor(private readonly db: IDBPDatabase<TapeSchema>, private readonly R: typeof IDBKeyRange) {}

  private range(key: string, from: number, to = Infinity) {
    return this.R.bound([key, from], [key, to]);
  }

  async load(key: string, venue: VenueId, sinceMs: number): Promise<LoadedTape> {
    // getAll, not a cursor: a week of trades is ~200k records, and one request is far faster.
    const tx = this.db.transaction(['trades', 'tapes'], 'readonly');
    const [records, tape] = await Promise.all([tx.objectStore('trades').getAll(this.range(key, sinceMs)), tx.objectStore('tapes').get(key)]);
    await tx.done;
    const trades: TapeTrade[] = [];
    const bad: [string, number, string][] = [];
    for (const r of records) {
      const t = fromRecord(r, key, venue);
      if (t) trades.push(t);
      else bad.push([key, (r as TradeRecord)?.t, (r as TradeRecord)?.id]);
    }
    if (bad.length > 0) {
      const del = this.db.transaction('trades', 'readwrite');
      for (const k of bad) void del.store.delete(k).catch(() => undefined);
      await del.done.catch(() => undefined);
    }
    return { trades, spans: readSpans(tape?.spans), skipped: bad.length };
  }

  async write(key: string, trades: readonly TapeTrade[], spans: readonly Span[], beforeMs: number): Promise<TapeWriteOutcome> {
    let droppedDays = 0;
    let from = beforeMs;
    for (;;) {
      try {
        const tx = this.db.transaction(['trades', 'tapes'], 'readwrite');
        const covered = new Coverage();
        covered.restore(readSpans((await tx.objectStore('tapes').get(key))?.spans));
        for (const sp of spans) covered.add(sp.fromMs, sp.toMs);
        covered.trimBefore(from);
        const ts = tx.objectStore('trades');
        const puts: Promise<unknown>[] = [];
        for (const t of trades) if (t.timestampMs >= from) puts.push(ts.put(toRecord(key, t)));
        if (from > -Infinity) puts.push(ts.delete(this.R.bound([key, -Infinity], [key, from], false, true)));
        puts.push(tx.objectStore('tapes').put({ k: key, spans: covered.spans(), writtenAtMs: Date.now() }));
        // The transaction's own error says why it aborted (its requests only say they were aborted).
        void Promise.allSettled(puts);
        await tx.done;
        return { droppedDays, storedFromMs: droppedDays > 0 ? from : null, failed: null };
      } catch (e) {
        if (!isQuota(e) || droppedDays >= MAX_DROPPED_DAYS) return { droppedDays, storedFromMs: droppedDays > 0 ? from : null, failed: errorText(e) };
        const cutoff = await this.dropOldestDay();
        if (cutoff === null) return { droppedDays, storedFromMs: droppedDays > 0 ? from : null, failed: 'storage full and no trades left to drop' };
        from = Math.max(from, cutoff);
        droppedDays++;
      }
    }
  }

  /** Deletes every tape's trades of the oldest stored day (venue time), and that day from its coverage; the day's end, or null when none. */
  private async dropOldestDay(): Promise<number | null> {
    const tx = this.db.transaction(['trades', 'tapes'], 'readwrite');
    const tapes = await tx.objectStore('tapes').getAll();
    let oldest = Infinity;
    for (const tape of tapes) {
      const first = await tx.objectStore('trades').openCursor(this.range(tape.k, -Infinity));
      if (first && first.value.t < oldest) oldest = first.value.t;
    }
    if (oldest === Infinity) {
      await tx.done;
      return null;
    }
    const cutoff = Math.floor(oldest / DAY_MS) * DAY_MS + DAY_MS;
    for (const tape of tapes) {
      await tx.objectStore('trades').delete(this.R.bound([tape.k, -Infinity], [tape.k, cutoff], false, true));
      const spans = readSpans(tape.spans).filter((s) => s.toMs >= cutoff).map((s) => ({ fromMs: Math.max(s.fromMs, cutoff), toMs: s.toMs }));
      await tx.objectStore('tapes').put({ ...tape, spans });
    }
    await tx.done;
    return cutoff;
  }

  close(): void {
    this.db.close();
  }
}
