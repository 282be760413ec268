/**
 * Where the worker keeps each trade tape across reloads and restarts of a wall display, so a start
 * fetches only the history it does not hold: IndexedDB through `idb` (as the page's history, issue 15:
 * a thin promise wrapper, no storage logic of its own), one database with two object stores:
 *  - `hours`: a tape's trades one hour of venue time to a record, keyed by [tape, hour], in columns
 *    (times, sizes and flags as typed arrays, the ids as one string, the instruments as a small table):
 *    a week is ~170 records however many trades it holds, read back with one getAll in a few tens of
 *    milliseconds where a record per trade took seconds at 200,000 trades (bench/tape-chromium.bench.ts);
 *    a write merges its trades into their hours' records;
 *  - `tapes`: per tape, the spans of venue time it holds completely (Coverage), written in the same
 *    transaction as the trades, so what a reload believes it holds is what it holds.
 * Bounded: every write trims the tape to its window (whole hours before it); a full quota drops the
 * oldest day of every tape, said in a notice; a corrupt record is skipped, counted and deleted. Without
 * IndexedDB the tape lives in memory only (MEMORY_TAPES), and the page says so.
 */
import type { DBSchema, IDBPDatabase } from 'idb';
import { dbErrorText, isQuotaError, openIndexedDbStorage, type OpenedStorage } from '../shared/indexed-db.ts';
import type { TapeTrade, VenueId } from '../chain/model.ts';
import { Coverage, type Span } from './tape.ts';

export const TAPE_DB_NAME = 'gexdesk-tape';
const DB_VERSION = 2;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Days a full quota may take before a write gives up (a window is at most 30 days). */
const MAX_DROPPED_DAYS = 31;
/** Bits of HourRecord.f. */
const BUY = 1;
const BLOCK = 2;

/** One hour of a tape's trades, in columns: trade i is ts[i], c[i], f[i], names[name[i]] and the i-th id. */
export interface HourRecord {
  /** The tape: source, venue and currency (tapeKey). */
  k: string;
  /** Start of the hour, venue time. */
  h: number;
  /** Trade ids joined by a newline (one string clones far faster than many). */
  ids: string;
  /** The instruments of the hour, each once. */
  names: string[];
  name: Uint16Array;
  ts: Float64Array;
  /** Contracts, in the unit of the line's open interest. */
  c: Float64Array;
  /** BUY: the taker bought; BLOCK: part of a block trade. */
  f: Uint8Array;
}

interface TapeRecord {
  k: string;
  spans: Span[];
  writtenAtMs: number;
}

interface TapeSchema extends DBSchema {
  hours: { key: [string, number]; value: HourRecord };
  tapes: { key: string; value: TapeRecord };
}

/** The key of a tape: its source (sim trades are not live ones), venue and currency. */
export const tapeKey = (source: string, venue: VenueId, currency: string): string => `${source}|${venue}|${currency}`;

export interface LoadedTape {
  trades: TapeTrade[];
  spans: Span[];
  /** Trades (or whole hour records) skipped as corrupt or foreign; a corrupt record is deleted. */
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
  /** The tape's trades from `sinceMs` on (whole hours: older ones may come too) and its coverage, checked. */
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

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const hourOf = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS;

/** Trades of one hour as its record (with those of `into` when given: ids already there are not added twice). */
export function toHourRecord(key: string, h: number, trades: readonly TapeTrade[], into: TapeTrade[] = []): HourRecord {
  const all: TapeTrade[] = [...into];
  const seen = new Set(into.map((t) => t.tradeId));
  for (const t of trades) if (!seen.has(t.tradeId) && !t.tradeId.includes('\n')) {
    seen.add(t.tradeId);
    all.push(t);
  }
  all.sort((a, b) => a.timestampMs - b.timestampMs);
  const n = all.length;
  const names: string[] = [];
  const at = new Map<string, number>();
  const rec: HourRecord = { k: key, h, ids: all.map((t) => t.tradeId).join('\n'), names, name: new Uint16Array(n), ts: new Float64Array(n), c: new Float64Array(n), f: new Uint8Array(n) };
  all.forEach((t, i) => {
    let j = at.get(t.instrument);
    if (j === undefined) {
      at.set(t.instrument, (j = names.length));
      names.push(t.instrument);
    }
    rec.name[i] = j;
    rec.ts[i] = t.timestampMs;
    rec.c[i] = t.contracts;
    rec.f[i] = (t.takerSide === 'buy' ? BUY : 0) | (t.block ? BLOCK : 0);
  });
  return rec;
}

/**
 * The trades of a stored hour, or null when the record is not one of this tape's (or not whole). A trade
 * that fails its own checks (a bad number) is left out and counted in `bad`.
 */
export function fromHourRecord(r: unknown, key: string, venue: VenueId, bad: { count: number }): TapeTrade[] | null {
  if (typeof r !== 'object' || r === null) return null;
  const o = r as Partial<Record<keyof HourRecord, unknown>>;
  if (o.k !== key || !isNum(o.h) || typeof o.ids !== 'string' || !Array.isArray(o.names) || !o.names.every((x) => typeof x === 'string' && x !== '')) return null;
  if (!(o.name instanceof Uint16Array && o.ts instanceof Float64Array && o.c instanceof Float64Array && o.f instanceof Uint8Array)) return null;
  const n = o.ts.length;
  const ids = n === 0 ? [] : o.ids.split('\n');
  if (o.name.length !== n || o.c.length !== n || o.f.length !== n || ids.length !== n) return null;
  const names = o.names as string[];
  for (let i = 0; i < n; i++) if (o.name[i] >= names.length) return null;
  const out: TapeTrade[] = [];
  for (let i = 0; i < n; i++) {
    const instrument = names[o.name[i]];
    const t = o.ts[i];
    const c = o.c[i];
    if (ids[i] === '' || !Number.isFinite(t) || !(c >= 0) || !Number.isFinite(c)) {
      bad.count++;
      continue;
    }
    out.push({ venue, instrument, tradeId: ids[i], timestampMs: t, takerSide: (o.f[i] & BUY) !== 0 ? 'buy' : 'sell', contracts: c, block: (o.f[i] & BLOCK) !== 0 });
  }
  return out;
}

function readSpans(x: unknown): Span[] {
  if (!Array.isArray(x)) return [];
  return x.filter((s): s is Span => typeof s === 'object' && s !== null && isNum(s.fromMs) && isNum(s.toMs) && s.fromMs <= s.toMs);
}

/**
 * Opens the tape database of `factory` (the worker's `indexedDB`; a fake one in tests). Resolves to the
 * memory-only storage with the reason when there is none or it cannot be opened.
 */
export function openTapeStorage(factory: IDBFactory | null | undefined, keyRange: typeof IDBKeyRange | undefined = globalThis.IDBKeyRange): Promise<OpenedStorage<TapeStorage>> {
  return openIndexedDbStorage<TapeSchema, TapeStorage>({
    factory, keyRange, name: TAPE_DB_NAME, version: DB_VERSION, memory: MEMORY_TAPES, noIndexedDb: 'no IndexedDB here',
    upgrade: (raw) => {
      // Version 1 kept a record per trade (never released): its trades and coverage go, the tape refills.
      for (const old of ['trades', 'tapes']) if (raw.objectStoreNames.contains(old) && (old === 'trades' || !raw.objectStoreNames.contains('hours'))) raw.deleteObjectStore(old);
      if (!raw.objectStoreNames.contains('hours')) raw.createObjectStore('hours', { keyPath: ['k', 'h'] });
      if (!raw.objectStoreNames.contains('tapes')) raw.createObjectStore('tapes', { keyPath: 'k' });
    },
    storage: (db, R) => new IdbTapes(db, R),
  });
}

class IdbTapes implements TapeStorage {
  readonly persistent = true;
  constructor(private readonly db: IDBPDatabase<TapeSchema>, private readonly R: typeof IDBKeyRange) {}

  /** The tape's hours starting in [from, to). */
  private hours(key: string, from: number, to = Infinity) {
    return this.R.bound([key, from], [key, to], false, true);
  }

  async load(key: string, venue: VenueId, sinceMs: number): Promise<LoadedTape> {
    const tx = this.db.transaction(['hours', 'tapes'], 'readonly');
    const [records, tape] = await Promise.all([tx.objectStore('hours').getAll(this.hours(key, hourOf(sinceMs))), tx.objectStore('tapes').get(key)]);
    await tx.done;
    const trades: TapeTrade[] = [];
    const bad = { count: 0 };
    const corrupt: number[] = [];
    for (const r of records) {
      const hour = fromHourRecord(r, key, venue, bad);
      if (hour) for (const t of hour) trades.push(t);
      else corrupt.push((r as HourRecord)?.h);
    }
    if (corrupt.length > 0) {
      const del = this.db.transaction('hours', 'readwrite');
      for (const h of corrupt) void del.store.delete([key, h]).catch(() => undefined);
      await del.done.catch(() => undefined);
    }
    return { trades, spans: readSpans(tape?.spans), skipped: bad.count + corrupt.length };
  }

  async write(key: string, trades: readonly TapeTrade[], spans: readonly Span[], beforeMs: number): Promise<TapeWriteOutcome> {
    let droppedDays = 0;
    let from = beforeMs;
    const byHour = new Map<number, TapeTrade[]>();
    for (const t of trades) {
      const h = hourOf(t.timestampMs);
      const list = byHour.get(h);
      if (list) list.push(t);
      else byHour.set(h, [t]);
    }
    for (;;) {
      try {
        const tx = this.db.transaction(['hours', 'tapes'], 'readwrite');
        const hs = tx.objectStore('hours');
        const covered = new Coverage();
        covered.restore(readSpans((await tx.objectStore('tapes').get(key))?.spans));
        for (const sp of spans) covered.add(sp.fromMs, sp.toMs);
        covered.trimBefore(from);
        const puts: Promise<unknown>[] = [];
        for (const [h, list] of byHour) {
          const kept = list.filter((t) => t.timestampMs >= from);
          if (kept.length === 0) continue;
          // An hour already stored takes the new trades in (a live hour is written every few seconds).
          const old = await hs.get([key, h]);
          const had = old ? fromHourRecord(old, key, kept[0].venue, { count: 0 }) ?? [] : [];
          puts.push(hs.put(toHourRecord(key, h, kept, had)));
        }
        if (from > -Infinity) puts.push(hs.delete(this.hours(key, -Infinity, hourOf(from))));
        puts.push(tx.objectStore('tapes').put({ k: key, spans: covered.spans(), writtenAtMs: Date.now() }));
        // The transaction's own error says why it aborted (its requests only say they were aborted).
        void Promise.allSettled(puts);
        await tx.done;
        return { droppedDays, storedFromMs: droppedDays > 0 ? from : null, failed: null };
      } catch (e) {
        if (!isQuotaError(e) || droppedDays >= MAX_DROPPED_DAYS) return { droppedDays, storedFromMs: droppedDays > 0 ? from : null, failed: dbErrorText(e) };
        const cutoff = await this.dropOldestDay();
        if (cutoff === null) return { droppedDays, storedFromMs: droppedDays > 0 ? from : null, failed: 'storage full and no trades left to drop' };
        from = Math.max(from, cutoff);
        droppedDays++;
      }
    }
  }

  /** Deletes every tape's hours of the oldest stored day (venue time), and that day from its coverage; the day's end, or null when none. */
  private async dropOldestDay(): Promise<number | null> {
    const tx = this.db.transaction(['hours', 'tapes'], 'readwrite');
    const tapes = await tx.objectStore('tapes').getAll();
    let oldest = Infinity;
    for (const tape of tapes) {
      const first = await tx.objectStore('hours').openKeyCursor(this.hours(tape.k, -Infinity));
      if (first && first.key[1] < oldest) oldest = first.key[1];
    }
    if (oldest === Infinity) {
      await tx.done;
      return null;
    }
    const cutoff = Math.floor(oldest / DAY_MS) * DAY_MS + DAY_MS;
    for (const tape of tapes) {
      await tx.objectStore('hours').delete(this.hours(tape.k, -Infinity, cutoff));
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
