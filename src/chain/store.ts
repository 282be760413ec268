/**
 * ChainStore: the option chain of one (venue, currency), columnar (struct of arrays) so the engine
 * reads it without copying. Lines are addressed by instrument name through a Map; deletes swap the
 * last line into the hole so the columns stay dense.
 *
 * Freshness: each field group (IV, forward, OI) keeps the venue timestamp of its last accepted value;
 * an older update for that group is ignored, so out-of-order frames never overwrite newer data.
 */
import type { ChainColumns } from '../engine/types.ts';
import type { Currency, ForwardUpdate, OptionInstrument, OptionLineUpdate, VenueId } from './model.ts';

export class ChainStore {
  readonly venue: VenueId;
  readonly currency: Currency;
  private count = 0;
  private cap: number;
  private strike: Float64Array;
  private expiryMs: Float64Array;
  private isCall: Uint8Array;
  private markIv: Float64Array;
  private forward: Float64Array;
  private openInterest: Float64Array;
  private multiplier: Float64Array;
  private listedMs: Float64Array;
  private ivTs: Float64Array;
  private fwdTs: Float64Array;
  private oiTs: Float64Array;
  private instruments: OptionInstrument[] = [];
  private index = new Map<string, number>();
  /** Last per-expiry forward, so that lines listed later start with it. */
  private expiryForward = new Map<number, { forward: number; timestampMs: number }>();
  private newestTs = -Infinity;
  /** Line slots per expiry, rebuilt lazily after a listing change (forward ticks arrive ~10/s per expiry). */
  private linesByExpiry: Map<number, number[]> | null = null;

  constructor(venue: VenueId, currency: Currency, initialCapacity = 256) {
    this.venue = venue;
    this.currency = currency;
    this.cap = Math.max(1, initialCapacity);
    this.strike = new Float64Array(this.cap);
    this.expiryMs = new Float64Array(this.cap);
    this.isCall = new Uint8Array(this.cap);
    this.markIv = new Float64Array(this.cap);
    this.forward = new Float64Array(this.cap);
    this.openInterest = new Float64Array(this.cap);
    this.multiplier = new Float64Array(this.cap);
    this.listedMs = new Float64Array(this.cap);
    this.ivTs = new Float64Array(this.cap);
    this.fwdTs = new Float64Array(this.cap);
    this.oiTs = new Float64Array(this.cap);
  }

  /** Number of lines. */
  get size(): number {
    return this.count;
  }

  /** Newest venue timestamp of any accepted update (ms), or null before the first. */
  get newestTimestampMs(): number | null {
    return this.newestTs === -Infinity ? null : this.newestTs;
  }

  instrument(name: string): OptionInstrument | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.instruments[i];
  }

  /** The instrument of line i (the index of the columns), or undefined past the end. */
  instrumentAt(i: number): OptionInstrument | undefined {
    return i >= 0 && i < this.count ? this.instruments[i] : undefined;
  }

  /** Line index of an instrument (valid until the next removal). */
  indexOf(name: string): number | undefined {
    return this.index.get(name);
  }

  /**
   * Add new instruments (market data NaN until updates arrive) and refresh the static fields of
   * known ones. With `complete`, the list is the whole listing: lines absent from it are removed.
   * Instruments of another venue/currency or with invalid static fields are ignored.
   */
  upsertInstruments(list: readonly OptionInstrument[], complete: boolean): { added: number; removed: number } {
    let added = 0;
    let removed = 0;
    const seen = complete ? new Set<string>() : null;
    for (const ins of list) {
      if (ins.venue !== this.venue || ins.currency !== this.currency) continue;
      seen?.add(ins.name);
      const at = this.index.get(ins.name);
      if (at !== undefined) {
        this.writeStatic(at, ins);
        continue;
      }
      if (this.count === this.cap) this.grow(this.cap * 2);
      const i = this.count++;
      this.linesByExpiry = null;
      this.index.set(ins.name, i);
      this.writeStatic(i, ins);
      this.markIv[i] = NaN;
      this.openInterest[i] = NaN;
      this.ivTs[i] = -Infinity;
      this.oiTs[i] = -Infinity;
      const ef = this.expiryForward.get(ins.expiryMs);
      this.forward[i] = ef ? ef.forward : NaN;
      this.fwdTs[i] = ef ? ef.timestampMs : -Infinity;
      added++;
    }
    if (seen) {
      for (let i = this.count - 1; i >= 0; i--) {
        if (!seen.has(this.instruments[i].name)) {
          this.removeAt(i);
          removed++;
        }
      }
    }
    return { added, removed };
  }

  /** Remove one instrument by name; returns whether it was present. */
  remove(name: string): boolean {
    const i = this.index.get(name);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  /**
   * Apply partial line updates. Per field group, an update older than the accepted one is stale.
   * Non-finite values are not written (the feed should have dropped them; the store must not crash).
   */
  applyOptions(updates: readonly OptionLineUpdate[]): { applied: number; stale: number; unknown: number } {
    let applied = 0;
    let stale = 0;
    let unknown = 0;
    for (const u of updates) {
      const i = this.index.get(u.name);
      if (i === undefined) {
        unknown++;
        continue;
      }
      const ts = u.timestampMs;
      if (!Number.isFinite(ts)) {
        stale++;
        continue;
      }
      let took = false;
      let old = false;
      if (u.markIv !== undefined && Number.isFinite(u.markIv)) {
        if (ts >= this.ivTs[i]) {
          this.markIv[i] = u.markIv;
          this.ivTs[i] = ts;
          took = true;
        } else old = true;
      }
      if (u.forward !== undefined && Number.isFinite(u.forward)) {
        if (ts >= this.fwdTs[i]) {
          this.forward[i] = u.forward;
          this.fwdTs[i] = ts;
          took = true;
        } else old = true;
      }
      if (u.openInterest !== undefined && Number.isFinite(u.openInterest)) {
        if (ts >= this.oiTs[i]) {
          this.openInterest[i] = u.openInterest;
          this.oiTs[i] = ts;
          took = true;
        } else old = true;
      }
      if (took) {
        applied++;
        if (ts > this.newestTs) this.newestTs = ts;
      } else if (old) stale++;
    }
    return { applied, stale, unknown };
  }

  /**
   * Set the forward of every line of an expiry, where the update is newer than the line's forward.
   * @returns the number of lines updated
   */
  applyForwards(updates: readonly ForwardUpdate[]): number {
    let n = 0;
    for (const u of updates) {
      if (!Number.isFinite(u.forward) || !Number.isFinite(u.timestampMs)) continue;
      const prev = this.expiryForward.get(u.expiryMs);
      if (!prev || u.timestampMs >= prev.timestampMs) this.expiryForward.set(u.expiryMs, { forward: u.forward, timestampMs: u.timestampMs });
      let any = false;
      for (const i of this.slotsOfExpiry(u.expiryMs)) {
        if (u.timestampMs >= this.fwdTs[i]) {
          this.forward[i] = u.forward;
          this.fwdTs[i] = u.timestampMs;
          n++;
          any = true;
        }
      }
      if (any && u.timestampMs > this.newestTs) this.newestTs = u.timestampMs;
    }
    return n;
  }

  /** Remove lines whose expiry has passed (expiryMs <= nowMs). @returns how many left. */
  removeExpired(nowMs: number): number {
    let n = 0;
    for (let i = this.count - 1; i >= 0; i--) {
      if (this.expiryMs[i] <= nowMs) {
        this.removeAt(i);
        n++;
      }
    }
    for (const e of this.expiryForward.keys()) if (e <= nowMs) this.expiryForward.delete(e);
    return n;
  }

  /** Views of the columns, length = size. No copying; valid until the next insert that grows capacity. */
  columns(): ChainColumns {
    const n = this.count;
    return {
      length: n,
      strike: this.strike.subarray(0, n),
      expiryMs: this.expiryMs.subarray(0, n),
      isCall: this.isCall.subarray(0, n),
      markIv: this.markIv.subarray(0, n),
      forward: this.forward.subarray(0, n),
      openInterest: this.openInterest.subarray(0, n),
      multiplier: this.multiplier.subarray(0, n),
      listedMs: this.listedMs.subarray(0, n),
    };
  }

  /** Listed expiries, ascending, with their line counts. */
  expiries(): { expiryMs: number; lines: number }[] {
    const m = new Map<number, number>();
    for (let i = 0; i < this.count; i++) m.set(this.expiryMs[i], (m.get(this.expiryMs[i]) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([expiryMs, lines]) => ({ expiryMs, lines }));
  }

  private slotsOfExpiry(expiryMs: number): readonly number[] {
    if (this.linesByExpiry === null) {
      const m = new Map<number, number[]>();
      for (let i = 0; i < this.count; i++) {
        const list = m.get(this.expiryMs[i]);
        if (list) list.push(i);
        else m.set(this.expiryMs[i], [i]);
      }
      this.linesByExpiry = m;
    }
    return this.linesByExpiry.get(expiryMs) ?? [];
  }

  private writeStatic(i: number, ins: OptionInstrument): void {
    if (this.expiryMs[i] !== ins.expiryMs) this.linesByExpiry = null;
    this.instruments[i] = ins;
    this.strike[i] = ins.strike;
    this.expiryMs[i] = ins.expiryMs;
    this.isCall[i] = ins.isCall ? 1 : 0;
    this.multiplier[i] = ins.multiplier;
    this.listedMs[i] = ins.listedMs ?? NaN;
  }

  /** Swap-remove: the last line moves into slot i and its name is re-pointed. */
  private removeAt(i: number): void {
    this.linesByExpiry = null;
    const last = this.count - 1;
    this.index.delete(this.instruments[i].name);
    if (i !== last) {
      const moved = this.instruments[last];
      this.instruments[i] = moved;
      this.index.set(moved.name, i);
      this.strike[i] = this.strike[last];
      this.expiryMs[i] = this.expiryMs[last];
      this.isCall[i] = this.isCall[last];
      this.markIv[i] = this.markIv[last];
      this.forward[i] = this.forward[last];
      this.openInterest[i] = this.openInterest[last];
      this.multiplier[i] = this.multiplier[last];
      this.listedMs[i] = this.listedMs[last];
      this.ivTs[i] = this.ivTs[last];
      this.fwdTs[i] = this.fwdTs[last];
      this.oiTs[i] = this.oiTs[last];
    }
    this.instruments.length = last;
    this.count = last;
  }

  private grow(cap: number): void {
    const f = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.strike = f(this.strike);
    this.expiryMs = f(this.expiryMs);
    const c = new Uint8Array(cap);
    c.set(this.isCall);
    this.isCall = c;
    this.markIv = f(this.markIv);
    this.forward = f(this.forward);
    this.openInterest = f(this.openInterest);
    this.multiplier = f(this.multiplier);
    this.listedMs = f(this.listedMs);
    this.ivTs = f(this.ivTs);
    this.fwdTs = f(this.fwdTs);
    this.oiTs = f(this.oiTs);
    this.cap = cap;
  }
}
