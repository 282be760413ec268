/**
 * A recording behind the OKX, Bybit or Binance protocol (replay mode): the protocol answers requests,
 * acks and keepalive itself, as in sim mode; this source delivers the venue's recorded data frames.
 *
 * - A recorded frame goes, at its recorded offset (the player's clock, `--speed`), to the sessions on
 *   the path it was recorded on that hold a subscription to its topic (the protocol's key: OKX arg,
 *   Bybit topic, Binance stream). Acks, pongs and errors in the recording are not replayed.
 * - A subscribe is served when the recording has frames on that topic, or names its instrument
 *   (frames, args, REST answers): a live venue would accept it, there is just nothing recorded. Others
 *   get the venue's refusal.
 * - Snapshot-then-delta topics (OKX books, Bybit order books and linear tickers) are folded as they
 *   play, so a client subscribing mid-recording first gets a snapshot of the state at that point whose
 *   sequence the next recorded delta continues (as the venue sends one on subscribe). A venue that
 *   pushes no snapshot (OKX since 2026, the spec says when) is asked for one over REST: that call is
 *   answered from the fold, and recorded answers of it are folded at their recorded time.
 * - REST: the recorded answer to the same path and query (the latest at or before the playback
 *   position); with none recorded, an answer derived from what the recording names (the spec's
 *   `deriveRest`), so captures of websocket frames alone stay replayable.
 * - Loops shift the venue's time fields by one span + 1 s per loop (the player).
 */
import { pickRecorded, type ReplayPlayer } from './player.ts';
import { canonicalQuery, shiftTimes, type RecordedFrame, type RecordedRest } from './recording.ts';
import type { RestAnswer } from '../http/rest-relay.ts';
import type { VenueHub, VenueSource } from '../venues/hub.ts';
import type { VenueId } from '../../src/shared/venues.ts';
import type { VenueSession } from '../venues/session.ts';

/** How one venue's recording is read. */
export interface ReplaySpec {
  readonly venue: VenueId;
  readonly restPrefix: string;
  /** The venue's trade history REST paths (below the prefix): answered from the recording and counted in /__gexdesk/info. */
  readonly tradeHistoryPaths?: ReadonlySet<string>;
  /** Fields holding venue time (shifted per loop). */
  readonly timeFields: ReadonlySet<string>;
  /** Fields naming instruments, indices or families (collected from frames and REST bodies). */
  readonly idFields: ReadonlySet<string>;
  /** The subscription key a recorded inbound frame belongs to, or null when it is not data (ack, pong, error). */
  topicOf(frame: Record<string, unknown>): string | null;
  /** Whether a subscription the recording has no frames for is served (its instrument is known). */
  servable(key: string, path: string, known: ReadonlySet<string>): boolean;
  /** Snapshot-then-delta topics. */
  book?: {
    handles(key: string): boolean;
    /** The topic's state after this frame. */
    fold(state: unknown, frame: Record<string, unknown>): unknown;
    /** A snapshot frame of the state, or null when there is none yet. */
    snapshot(state: unknown): Record<string, unknown> | null;
    /**
     * Whether a late subscriber to `key` is pushed the fold as a snapshot first (default: yes).
     * `recorded`: the recording holds pushed snapshots on that topic (the venue pushed them then).
     */
    pushOnSubscribe?(key: string, recorded: boolean): boolean;
    /** A recorded pushed frame that is a whole snapshot. */
    isSnapshot?(frame: Record<string, unknown>): boolean;
    /** The sequence number of a book frame (pushed, or a REST answer as restFrame makes it), or null. */
    seqOf?(frame: Record<string, unknown>): number | null;
    /** A REST call that reads a book (OKX `GET /api/v5/market/books`): the topic and path it reads, else null. */
    restTopic?(path: string, q: URLSearchParams): { path: string; key: string } | null;
    /** A recorded answer of such a call as a snapshot frame to fold at its recorded time (null: unusable). */
    restFrame?(key: string, body: unknown): Record<string, unknown> | null;
    /** The fold (undefined: nothing played yet) as that call's answer. */
    restAnswer?(state: unknown, q: URLSearchParams): RestAnswer;
  };
  /** A REST answer from what the recording names, for a call it holds no answer to. */
  deriveRest(path: string, q: URLSearchParams, known: ReadonlySet<string>, nowMs: number): RestAnswer;
}

/** Strings under `fields` in a JSON value (bounded depth), added to `out`. */
export function collectIds(value: unknown, fields: ReadonlySet<string>, out: Set<string>, depth = 0): void {
  if (typeof value !== 'object' || value === null || depth > 5) return;
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'object' && value[0] !== null && !Array.isArray(value[0])) for (const v of value) collectIds(v, fields, out, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') {
      if (fields.has(k) && v.length > 0 && v.length <= 80) out.add(v);
    } else if (typeof v === 'object' && v !== null) collectIds(v, fields, out, depth + 1);
  }
}

export class ReplayVenueSource implements VenueSource {
  /** Topic keys the recording has data frames for. */
  readonly topics = new Set<string>();
  /** Instrument, index and family ids the recording names. */
  readonly known = new Set<string>();
  private readonly rests = new Map<string, RecordedRest[]>();
  /** Folded state of snapshot-then-delta topics, by `path topic`. */
  private readonly books = new Map<string, unknown>();
  /** `path topic` of book topics the recording holds pushed snapshots of. */
  private readonly pushedSnapshots = new Set<string>();
  /** Recorded acks, pongs and errors (answered by the protocol instead). */
  skipped = 0;

  constructor(
    readonly hub: VenueHub,
    readonly player: ReplayPlayer,
    readonly spec: ReplaySpec,
  ) {
    const frames = player.framesOf(spec.venue).filter((f) => f.dir === 'in').map((f) => ({ f, key: spec.topicOf(f.frame) }));
    // REST books first: at the same recorded ms their fold goes before the pushed frames
    for (const r of player.restOf(spec.venue)) this.addRest(r, frames);
    for (const { f, key } of frames) {
      collectIds(f.frame, spec.idFields, this.known);
      if (key === null) {
        this.skipped++;
        continue;
      }
      this.topics.add(key);
      const path = f.path;
      const frame = f.frame;
      if (spec.book?.handles(key) && spec.book.isSnapshot?.(frame)) this.pushedSnapshots.add(`${path} ${key}`);
      let text: string | undefined;
      player.add(f.ts, (shift) => {
        const shifted = shift === 0 ? frame : shiftTimes(frame, spec.timeFields, shift);
        if (shift === 0) text ??= JSON.stringify(frame);
        this.deliver(path, key, shifted, shift === 0 ? text : undefined);
      });
    }
    for (const list of this.rests.values()) list.sort((a, b) => a.ts - b.ts);
  }

  /**
   * A recorded REST answer: kept for the pass-through, and when it is a book (OKX's snapshot) folded as
   * the venue's state at its sequence number. It is folded when it arrived, or earlier, just before the
   * first pushed update past its sequence: the answer arrives after the updates that followed its
   * snapshot were already pushed (a live REST call takes longer than 100 ms), and folded after them it
   * would break the chain the client builds on it.
   */
  private addRest(r: RecordedRest, frames: readonly { f: RecordedFrame; key: string | null }[]): void {
    const spec = this.spec;
    collectIds(r.body, spec.idFields, this.known);
    const restPath = r.path.slice(spec.restPrefix.length);
    const book = spec.book;
    const read = book?.restTopic?.(restPath, new URLSearchParams(r.query));
    const snap = read ? book!.restFrame?.(read.key, r.body) : null;
    if (book && read && snap) {
      const at = `${read.path} ${read.key}`;
      const seq = book.seqOf?.(snap) ?? null;
      const next = seq === null ? undefined : frames.find(({ f, key }) => key === read.key && f.path === read.path && (book.seqOf?.(f.frame) ?? -Infinity) > seq)?.f;
      const due = next !== undefined && next.ts < r.ts ? next.ts : r.ts;
      this.player.add(due, (shift) => this.books.set(at, book.fold(this.books.get(at), shift === 0 ? snap : shiftTimes(snap, spec.timeFields, shift))));
    }
    const k = restKey(restPath, r.query);
    const list = this.rests.get(k) ?? [];
    list.push(r);
    this.rests.set(k, list);
  }

  serves(key: string, path: string): boolean {
    return this.topics.has(key) || this.spec.servable(key, path, this.known);
  }

  opened(): void {
    this.player.start();
  }

  /** A late subscriber to a snapshot-then-delta topic gets the state played so far as a snapshot. */
  subscribed(s: VenueSession, keys: readonly string[]): void {
    const book = this.spec.book;
    if (!book) return;
    for (const key of keys) {
      if (!book.handles(key) || book.pushOnSubscribe?.(key, this.pushedSnapshots.has(`${s.path} ${key}`)) === false) continue;
      const state = this.books.get(`${s.path} ${key}`);
      const snap = state === undefined ? null : book.snapshot(state);
      if (snap) s.push(key, JSON.stringify(snap), true);
    }
  }

  /** Delivery is driven by the player's clock, not the hub's tick. */
  tick(): void {}

  private deliver(path: string, key: string, frame: Record<string, unknown>, text: string | undefined): void {
    const book = this.spec.book;
    const ordered = book?.handles(key) === true;
    if (ordered) this.books.set(`${path} ${key}`, book!.fold(this.books.get(`${path} ${key}`), frame));
    const report = (this.player.report.venues[this.spec.venue] ??= { frames: 0, rest: 0, delivered: 0 });
    if (!this.hub.dataOn) return;
    for (const s of this.hub.sessions) {
      if (s.path !== path || !s.subs.has(key)) continue;
      text ??= JSON.stringify(frame);
      const t = text;
      // one session's failure is counted, the others still get the frame
      this.hub.errors.guard('replay', () => s.push(key, t, ordered));
      report.delivered++;
    }
  }

  rest(path: string, q: URLSearchParams): RestAnswer {
    if (this.spec.tradeHistoryPaths?.has(path)) this.hub.tradeHistoryRequests++;
    const book = this.spec.book;
    const read = book?.restTopic?.(path, q);
    if (read && book?.restAnswer) return book.restAnswer(this.books.get(`${read.path} ${read.key}`), q);
    const hit = pickRecorded(this.rests.get(restKey(path, q)), this.player.position());
    if (hit) return { status: hit.status, body: hit.body };
    return this.spec.deriveRest(path, q, this.known, this.hub.nowMs());
  }
}

function restKey(path: string, query: URLSearchParams | string): string {
  return `${path}?${canonicalQuery(query)}`;
}
