/**
 * The trade tapes of the host's feeds (issue 13, design: "Dealer positions from the trade tape"): one
 * TapeKeeper per source, venue and currency, kept across a restart of the same feed; the storage they
 * share (the worker's IndexedDB, memory only without one, said once); their progress posted at a
 * bounded rate. The host owns the feeds; this owns what their tapes need besides.
 */
import type { Clock } from '../feeds/adapter.ts';
import type { Currency, VenueId } from '../chain/model.ts';
import type { TapeProgress, ViewSelection } from './protocol.ts';
import type { FeedRunner } from './feed-runner.ts';
import { TapeKeeper, type KeeperHost } from './tape-keeper.ts';
import { MEMORY_TAPES, openTapeStorage, tapeKey, type TapeStorage } from './tape-db.ts';
import { errorText } from './notices.ts';

export type TapeStorageOption = TapeStorage | Promise<{ storage: TapeStorage; problem: string | null }>;

export interface HostTapesOptions {
  clock: Clock;
  /** Uniform [0, 1) for the history fill's backoff jitter. */
  random: () => number;
  /** Where the tapes are kept; default the worker's IndexedDB. */
  storage?: TapeStorageOption;
  /** Least time between two progress messages. */
  progressEveryMs: number;
  /** The running feeds, in the view's order (their tapes are reported and filled). */
  runners: () => readonly FeedRunner[];
  notice(level: 'info' | 'warn' | 'error', message: string, key?: string): void;
  /** A tape changed: the figures are dirty. */
  dirty(): void;
  post(venues: TapeProgress[]): void;
  fail(where: string, e: unknown): void;
}

export class HostTapes {
  private keepers = new Map<string, TapeKeeper>();
  private readonly storage: Promise<TapeStorage>;
  private storageProblem: string | null = null;
  private storageSaid = false;
  private timer: unknown = null;
  private lastPostAt = -Infinity;
  private disposed = false;
  private readonly keeperHost: KeeperHost;

  constructor(private readonly o: HostTapesOptions) {
    const opening = o.storage ?? openTapeStorage(typeof indexedDB === 'undefined' ? null : indexedDB);
    this.storage = Promise.resolve(opening).then(
      (s) => {
        if ('storage' in s) {
          this.storageProblem = s.problem;
          return s.storage;
        }
        return s;
      },
      (e: unknown) => {
        this.storageProblem = errorText(e);
        return MEMORY_TAPES;
      },
    );
    this.keeperHost = {
      clock: o.clock,
      random: o.random,
      storage: this.storage,
      notice: (level, message, key) => o.notice(level, message, key),
      dirty: () => o.dirty(),
      changed: () => this.changed(),
    };
  }

  /**
   * The tape of a feed of the new selection: its keeper if the feed ran before (the tape stays), a new
   * one otherwise. Call `keepOnly` first, so the tapes of feeds that go are stopped.
   */
  keeperFor(source: ViewSelection['source'], venue: VenueId, currency: Currency): TapeKeeper {
    const key = tapeKey(source, venue, currency);
    let keeper = this.keepers.get(key);
    if (!keeper) this.keepers.set(key, (keeper = new TapeKeeper(key, venue, currency, this.keeperHost)));
    return keeper;
  }

  /** The tapes of the new selection's feeds stay; the others stop (what is pending is written). */
  keepOnly(sel: ViewSelection): void {
    const keep = new Set(sel.venues.map((venue) => tapeKey(sel.source, venue, sel.currency)));
    for (const [key, k] of this.keepers) {
      if (keep.has(key)) continue;
      void k.stop();
      this.keepers.delete(key);
    }
  }

  /** Each recompute: every tape bounded to its window, read back and filled when the view is on `flow`. */
  update(sel: ViewSelection): void {
    const flow = sel.model === 'flow';
    if (flow && !this.storageSaid) {
      this.storageSaid = true;
      void this.storage.then((s) => {
        if (!s.persistent) this.o.notice('info', `trade tape kept in memory only (${this.storageProblem ?? 'no IndexedDB'}): a reload fetches the history again`);
      });
    }
    for (const r of this.o.runners()) r.tape?.update(r.venueTime.nowMs, sel.windowDays, flow, r.feed?.tradeHistory);
  }

  dispose(): void {
    this.disposed = true;
    for (const k of this.keepers.values()) void k.stop();
    this.keepers.clear();
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** The tapes' progress, posted at most every progressEveryMs (the last change always goes out). */
  private changed(): void {
    if (this.timer !== null || this.disposed) return;
    const wait = Math.max(0, this.lastPostAt + this.o.progressEveryMs - this.o.clock.now());
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      this.lastPostAt = this.o.clock.now();
      try {
        this.o.post(this.o.runners().flatMap((r) => (r.tape ? [r.tape.status(r.feed?.tradeHistory)] : [])));
      } catch (e) {
        this.o.fail('tape', e);
      }
    }, wait);
  }
}
