/**
 * Replay of a recording (format: recording.ts / README). The player owns the replay clock and the
 * timeline of every venue's recorded data frames; each venue's source delivers its own frames through
 * its own protocol (Deribit: venues/deribit/replay.ts; OKX, Bybit, Binance: venue-source.ts with their
 * venues/<venue>/replay.ts). Playback starts when the first client connects to any venue (so it sees
 * the recording from its beginning). Every recorded frame is due at its recorded offset (/ speed). At
 * the end it loops (default), shifting venue timestamps by one recording span + 1 s per loop so that
 * a client ordering by timestamp keeps accepting them; or it stops (loop=false).
 */
import { readFileSync } from 'node:fs';
import { SimClock } from '../clock.ts';
import { CaughtErrors } from '../venues/client-socket.ts';
import { parseRecording, type RecordedFrame, type RecordedRest, type ReplayReport } from './recording.ts';
import { venueClockOffset, type StampOf } from './venue-clock.ts';
import type { VenueId } from '../../src/shared/venues.ts';

export interface ReplayOptions {
  speed: number;
  loop: boolean;
  wallNow?: () => number;
  /** The venue time a recorded frame carries, per venue (the registry's): the replay runs on the venues' clock. */
  stampOf: StampOf;
}

interface Entry {
  ts: number;
  deliver: (shift: number) => void;
}

/** The replay clock and the timeline of all venues' recorded data frames. */
export class ReplayPlayer {
  readonly clock: SimClock;
  readonly report: ReplayReport;
  readonly frames: RecordedFrame[];
  readonly rest: RecordedRest[];
  private timeline: Entry[] = [];
  private sealed = false;
  private started = false;
  private stopped = false;
  private cursor = 0;
  private loopIdx = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Venue time of the recording's first data frame. */
  t0 = 0;
  /** Throws caught delivering a frame (counted by cause; playback goes on). */
  readonly errors = new CaughtErrors('replay');

  static load(file: string, opts: ReplayOptions): ReplayPlayer {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read recording ${file}: ${(e as Error).message}`, { cause: e });
    }
    return new ReplayPlayer(text, opts);
  }

  constructor(
    text: string,
    private readonly opts: ReplayOptions,
  ) {
    const { frames, rest, report } = parseRecording(text);
    // play on the venues' clock: recorded times move to the venue time the frames carry
    const offset = venueClockOffset(frames, opts.stampOf);
    if (offset !== 0) {
      for (const f of frames) f.ts += offset;
      for (const r of rest) r.ts += offset;
    }
    report.clockOffsetMs = offset;
    this.frames = frames;
    this.rest = rest;
    this.report = report;
    report.loop = opts.loop;
    this.clock = new SimClock(frames[0]?.ts ?? Date.now(), opts.speed, opts.wallNow);
    this.clock.pause(); // venue time stands at the recording's start until someone watches
  }

  /** Venues with any recorded line (frames or REST answers). */
  venues(): VenueId[] {
    return Object.keys(this.report.venues) as VenueId[];
  }

  framesOf(venue: VenueId): RecordedFrame[] {
    return this.frames.filter((f) => f.venue === venue);
  }

  restOf(venue: VenueId): RecordedRest[] {
    return this.rest.filter((r) => r.venue === venue);
  }

  bad(reason: string): void {
    this.report.badLines++;
    this.report.badReasons[reason] = (this.report.badReasons[reason] ?? 0) + 1;
  }

  /** A data frame due at recorded time `ts`; `deliver(shift)` sends it with venue times moved by `shift`. */
  add(ts: number, deliver: (shift: number) => void): void {
    if (this.sealed) throw new Error('replay timeline already sealed');
    this.timeline.push({ ts, deliver });
  }

  /** Every source has added its frames: order the timeline and set the clock to its start. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    this.timeline.sort((a, b) => a.ts - b.ts); // stable: same-ms frames keep their recorded order
    this.t0 = this.timeline[0]?.ts ?? this.frames[0]?.ts ?? this.clock.now();
    this.report.spanMs = this.timeline.length > 0 ? this.timeline[this.timeline.length - 1].ts - this.t0 : 0;
    this.clock.reset(this.t0);
  }

  /** A client connected: play from the start (once). */
  start(): void {
    if (this.started) return;
    this.seal();
    this.started = true;
    this.clock.resume();
    this.clock.reset(this.t0);
    this.schedule(0);
  }

  cycleMs(): number {
    return this.report.spanMs + 1000;
  }

  /** A non-looping replay has delivered its whole timeline. */
  get finished(): boolean {
    return this.started && !this.opts.loop && this.cursor >= this.timeline.length;
  }

  /** The playback position in recorded time (the same in every loop). */
  position(): number {
    return this.t0 + ((this.clock.now() - this.t0) % this.cycleMs());
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.pump(), Math.max(1, Math.min(ms, 250)));
  }

  /** Deliver every frame due by the clock; then sleep until the next one (bounded, so pause/resume and speed apply). */
  private pump(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const cycle = this.cycleMs();
    for (;;) {
      if (this.cursor >= this.timeline.length) {
        if (!this.opts.loop || this.timeline.length === 0) return; // stop: no more timers
        this.cursor = 0;
        // after a clock jump (expireAt) over whole cycles, go on in the cycle holding the clock rather than replay every one between
        this.loopIdx = Math.max(this.loopIdx + 1, Math.floor((now - this.t0) / cycle));
        this.report.loops = this.loopIdx;
      }
      const e = this.timeline[this.cursor];
      const due = e.ts + this.loopIdx * cycle;
      if (due > now) {
        this.schedule((due - now) / this.opts.speed);
        return;
      }
      this.cursor++;
      this.report.delivered++;
      this.errors.guard('deliver', () => e.deliver(this.loopIdx * cycle));
    }
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** The latest recorded answer at or before the playback position (the first one before that). */
export function pickRecorded<T extends { ts: number }>(list: readonly T[] | undefined, position: number): T | undefined {
  if (!list || list.length === 0) return undefined;
  let best = list[0];
  for (const r of list) if (r.ts <= position) best = r;
  return best;
}

