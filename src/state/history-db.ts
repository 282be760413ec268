/**
 * Where the history of each series is kept across reloads and restarts of a wall display: IndexedDB
 * (through `idb`, a thin promise wrapper that adds no storage logic of its own), one database with two
 * object stores keyed by [series, venue time]:
 *  - `minutes`: one MinuteSample a minute for 24 h (GEX over time, minutes.ts);
 *  - `points`: the session history, spot and zero gamma every 10 s for 6 h (history.ts).
 * Bounded: each series keeps its own window (trimmed on every write), at most MAX_SERIES series are kept
 * (the least recently written go first), and a full quota drops the oldest hour of every series, said
 * in a notice. What is read back is checked record by record: a corrupt or foreign record is skipped,
 * counted and deleted, never shown. Where the browser gives no IndexedDB (a private window, blocked
 * storage) the history is kept in memory only, and the page says so.
 */
import type { DBSchema, IDBPDatabase } from 'idb';
import { dbErrorText, isQuotaError, openIndexedDbStorage, type OpenedStorage } from '../shared/indexed-db.ts';
import type { HistoryPoint } from './history.ts';
import { MINUTES_MAX_MS, readSample, type MinuteSample } from './minutes.ts';

export const DB_NAME = 'gexdesk-history';
const DB_VERSION = 1;
/** Series kept (a series is source, venues, currency, model and expiry selection): ~6 MB each at most. */
export const MAX_SERIES = 12;
const HOUR_MS = 3_600_000;

export interface StoredPoint extends HistoryPoint {
  series: string;
}

interface HistorySchema extends DBSchema {
  minutes: { key: [string, number]; value: MinuteSample; indexes: { byT: number } };
  points: { key: [string, number]; value: StoredPoint };
  series: { key: string; value: { series: string; writtenAtMs: number } };
}

export interface LoadedHistory {
  minutes: MinuteSample[];
  points: HistoryPoint[];
  /** Records skipped as corrupt or foreign (and deleted). */
  skipped: number;
}

export interface WriteOutcome {
  /** Hours of the oldest history dropped to make room (a full quota). */
  droppedHours: number;
  /** Nothing could be written (the quota stayed full, or the database failed). */
  failed: string | null;
}

/** The history's storage: IndexedDB, or nothing (memory only: the store keeps what it shows). */
export interface HistoryStorage {
  readonly persistent: boolean;
  /** The series' records from `minutesSinceMs` and `pointsSinceMs` on (venue time), checked. */
  load(series: string, minutesSinceMs: number, pointsSinceMs: number): Promise<LoadedHistory>;
  /** Adds records of `series` and trims it to its windows (venue time before `minutesBeforeMs` / `pointsBeforeMs` goes). */
  write(series: string, minutes: readonly MinuteSample[], points: readonly HistoryPoint[], minutesBeforeMs: number, pointsBeforeMs: number): Promise<WriteOutcome>;
  close(): void;
}

/** The storage of a browser without IndexedDB: nothing survives a reload. */
export const MEMORY_ONLY: HistoryStorage = {
  persistent: false,
  load: async () => ({ minutes: [], points: [], skipped: 0 }),
  write: async () => ({ droppedHours: 0, failed: null }),
  close: () => undefined,
};

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function readPoint(x: unknown, series: string): HistoryPoint | null {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as Record<string, unknown>;
  if (o.series !== series || !isNum(o.t) || !isNum(o.spot) || !(o.spot > 0)) return null;
  if (o.zeroGamma !== null && !isNum(o.zeroGamma)) return null;
  return { t: o.t, spot: o.spot, zeroGamma: o.zeroGamma as number | null };
}

/**
 * Opens the history database of `factory` (the browser's `indexedDB`; a fake one in tests). Resolves
 * to the memory-only storage with the reason when there is none or it cannot be opened.
 */
export function openHistoryStorage(factory: IDBFactory | null | undefined, keyRange: typeof IDBKeyRange | undefined = globalThis.IDBKeyRange): Promise<OpenedStorage<HistoryStorage>> {
  return openIndexedDbStorage<HistorySchema, HistoryStorage>({
    factory, keyRange, name: DB_NAME, version: DB_VERSION, memory: MEMORY_ONLY, noIndexedDb: 'this browser gives the page no IndexedDB',
    upgrade: (raw) => {
      if (!raw.objectStoreNames.contains('minutes')) raw.createObjectStore('minutes', { keyPath: ['series', 't'] }).createIndex('byT', 't');
      if (!raw.objectStoreNames.contains('points')) raw.createObjectStore('points', { keyPath: ['series', 't'] });
      if (!raw.objectStoreNames.contains('series')) raw.createObjectStore('series', { keyPath: 'series' });
    },
    storage: (db, R) => new IdbHistory(db, R),
  });
}

class IdbHistory implements HistoryStorage {
  readonly persistent = true;
  constructor(private readonly db: IDBPDatabase<HistorySchema>, private readonly R: typeof IDBKeyRange) {}

  private range(series: string, from: number, to = Infinity) {
    return this.R.bound([series, from], [series, to]);
  }

  async load(series: string, minutesSinceMs: number, pointsSinceMs: number): Promise<LoadedHistory> {
    const tx = this.db.transaction(['minutes', 'points'], 'readwrite');
    const minutes: MinuteSample[] = [];
    const points: HistoryPoint[] = [];
    let skipped = 0;
    // Cursors rather than getAll: a bad record is deleted where it is found.
    for (let c = await tx.objectStore('minutes').openCursor(this.range(series, minutesSinceMs)); c; c = await c.continue()) {
      const s = readSample(c.value, series);
      if (s && (minutes.length === 0 || s.t > minutes[minutes.length - 1].t)) minutes.push(s);
      else {
        skipped++;
        await c.delete();
      }
    }
    for (let c = await tx.objectStore('points').openCursor(this.range(series, pointsSinceMs)); c; c = await c.continue()) {
      const p = readPoint(c.value, series);
      if (p) points.push(p);
      else {
        skipped++;
        await c.delete();
      }
    }
    await tx.done;
    await this.forgetOldSeries(series);
    return { minutes, points, skipped };
  }

  /** Keeps MAX_SERIES series: the least recently written ones (not `keep`) are deleted whole. */
  private async forgetOldSeries(keep: string): Promise<void> {
    const all = await this.db.getAll('series');
    if (all.length <= MAX_SERIES) return;
    const old = all.filter((s) => s.series !== keep).sort((a, b) => a.writtenAtMs - b.writtenAtMs).slice(0, all.length - MAX_SERIES);
    const tx = this.db.transaction(['minutes', 'points', 'series'], 'readwrite');
    for (const s of old) {
      await tx.objectStore('minutes').delete(this.range(s.series, -Infinity));
      await tx.objectStore('points').delete(this.range(s.series, -Infinity));
      await tx.objectStore('series').delete(s.series);
    }
    await tx.done;
  }

  async write(series: string, minutes: readonly MinuteSample[], points: readonly HistoryPoint[], minutesBeforeMs: number, pointsBeforeMs: number): Promise<WriteOutcome> {
    let droppedHours = 0;
    for (;;) {
      try {
        const tx = this.db.transaction(['minutes', 'points', 'series'], 'readwrite');
        const ms = tx.objectStore('minutes');
        const ps = tx.objectStore('points');
        const puts: Promise<unknown>[] = [];
        for (const m of minutes) puts.push(ms.put(m));
        for (const p of points) puts.push(ps.put({ series, t: p.t, spot: p.spot, zeroGamma: p.zeroGamma }));
        puts.push(ms.delete(this.range(series, -Infinity, minutesBeforeMs)));
        puts.push(ps.delete(this.range(series, -Infinity, pointsBeforeMs)));
        puts.push(tx.objectStore('series').put({ series, writtenAtMs: Date.now() }));
        // The transaction's own error says why it aborted (its requests only say they were aborted).
        void Promise.allSettled(puts);
        await tx.done;
        return { droppedHours, failed: null };
      } catch (e) {
        if (!isQuotaError(e) || droppedHours >= MINUTES_MAX_MS / HOUR_MS) return { droppedHours, failed: dbErrorText(e) };
        if (!(await this.dropOldestHour())) return { droppedHours, failed: 'storage full and no history left to drop' };
        droppedHours++;
      }
    }
  }

  /** Deletes every series' records of the oldest stored hour (venue time); false when there were none. */
  private async dropOldestHour(): Promise<boolean> {
    const tx = this.db.transaction(['minutes', 'points'], 'readwrite');
    const first = await tx.objectStore('minutes').index('byT').openCursor();
    if (!first) {
      await tx.done;
      return false;
    }
    const cutoff = Math.floor(first.value.t / HOUR_MS) * HOUR_MS + HOUR_MS;
    for (let c: typeof first | null = first; c; c = await c.continue()) {
      if (c.value.t >= cutoff) break;
      await c.delete();
    }
    for (let c = await tx.objectStore('points').openCursor(); c; c = await c.continue()) {
      if (c.value.t < cutoff) await c.delete();
    }
    await tx.done;
    return true;
  }

  close(): void {
    this.db.close();
  }
}
