/**
 * Two pieces of Deribit replay (../../replay/player.ts): which recorded channel serves a subscription, and order
 * books folded as the recording plays, so a subscriber joining mid-recording gets a snapshot that the
 * next recorded change chains on (as Deribit sends a snapshot first on every subscribe).
 */

/** Deribit's notification intervals, finest first. */
export const INTERVALS = ['raw', '100ms', 'agg2'] as const;

/** `ticker.X.raw` -> base `ticker.X`, interval `raw`; channels without an interval suffix keep it null. */
export function splitInterval(channel: string): { base: string; interval: string | null } {
  const dot = channel.lastIndexOf('.');
  const tail = dot < 0 ? '' : channel.slice(dot + 1);
  return (INTERVALS as readonly string[]).includes(tail) ? { base: channel.slice(0, dot), interval: tail } : { base: channel, interval: null };
}

/**
 * Which recorded channel a subscription is served from. A subscription to an interval the recording
 * holds gets exactly that channel. Otherwise it gets the finest interval recorded for the same base,
 * under the subscribed name: real captures are often `.raw` (Deribit sends raw only to authorised
 * connections, so the app asks for `.100ms`), and the 100 ms stream is the raw stream aggregated —
 * same fields, and book changes still chain by change_id / prev_change_id. Re-aggregating would
 * delay frames off their recorded times, so the recorded frames go out as they are; only the rate
 * differs (finer or coarser than asked).
 */
export class ChannelMap {
  private readonly byBase = new Map<string, Set<string>>();
  private deliveredAs = new Map<string, string[]>();

  /** A recorded notification channel. */
  add(channel: string): void {
    const { base, interval } = splitInterval(channel);
    if (interval === null) return;
    let s = this.byBase.get(base);
    if (!s) this.byBase.set(base, (s = new Set()));
    s.add(interval);
    this.deliveredAs.clear();
  }

  /** The recorded channel serving a subscription to `channel` (the channel itself when it has no interval). */
  source(channel: string): string {
    const { base, interval } = splitInterval(channel);
    if (interval === null) return channel;
    const recorded = this.byBase.get(base);
    if (!recorded || recorded.has(interval)) return channel;
    return `${base}.${INTERVALS.find((i) => recorded.has(i))}`;
  }

  /** The subscribed names a recorded channel is delivered under. */
  names(recorded: string): readonly string[] {
    let out = this.deliveredAs.get(recorded);
    if (out) return out;
    const { base, interval } = splitInterval(recorded);
    out = interval === null ? [...new Set([recorded, documentedCase(recorded)])] : INTERVALS.map((i) => `${base}.${i}`).filter((n) => this.source(n) === recorded);
    this.deliveredAs.set(recorded, out);
    return out;
  }
}

/**
 * A channel name with its currency as Deribit documents it: `instrument.state.option.btc` ->
 * `instrument.state.option.BTC` (the enum is BTC, ETH, USDC, USDT, any). Recordings made while the
 * client asked in lower case replay to a client that asks in the documented case.
 */
export function documentedCase(channel: string): string {
  const m = /^(instrument\.state\.[a-z]+\.)([a-z]+)$/.exec(channel);
  return m && m[2] !== 'any' ? m[1] + m[2].toUpperCase() : channel;
}

/** `book.{instrument}.{interval}`: snapshot then changes. Grouped books are whole every time: not folded. */
export function isChainedBook(channel: string): boolean {
  return channel.startsWith('book.') && channel.split('.').length === 3 && splitInterval(channel).interval !== null;
}

type Side = Map<number, number>;

/** One recorded book channel folded up to the playback position. */
export class BookFold {
  instrument = '';
  private readonly bids: Side = new Map();
  private readonly asks: Side = new Map();
  changeId: number | null = null;
  /** Recorded timestamp of the last frame folded, and the loop shift it was delivered with. */
  private timestamp = 0;
  private shift = 0;
  /** False until a recorded snapshot, and again after a change that does not chain (a gap in the recording). */
  valid = false;
  /** Changes in the recording that did not chain on the previous change_id. */
  recordedGaps = 0;

  /** Folds one recorded notification's data: a snapshot, a change chained on the last change_id, or a gap (the fold is unknown until the next snapshot). */
  fold(data: unknown, shift: number): 'snapshot' | 'change' | 'gap' {
    if (typeof data !== 'object' || data === null) return this.broken();
    const d = data as Record<string, unknown>;
    if (typeof d.change_id !== 'number') return this.broken();
    const prev = d.prev_change_id;
    // older captures carry no `type`: the first message (no prev_change_id) is the snapshot
    const snapshot = d.type === 'snapshot' || (d.type === undefined && (prev === undefined || prev === null));
    if (snapshot) {
      this.bids.clear();
      this.asks.clear();
      this.valid = true;
    } else if (!this.valid || prev !== this.changeId) return this.broken(d.change_id);
    applyEntries(this.bids, d.bids);
    applyEntries(this.asks, d.asks);
    if (typeof d.instrument_name === 'string') this.instrument = d.instrument_name;
    this.changeId = d.change_id;
    if (typeof d.timestamp === 'number') this.timestamp = d.timestamp;
    this.shift = shift;
    return snapshot ? 'snapshot' : 'change';
  }

  private broken(changeId?: number): 'gap' {
    if (this.valid) this.recordedGaps++;
    this.valid = false;
    this.changeId = changeId ?? null;
    return 'gap';
  }

  /** The book as Deribit's first notification after a subscribe, or null while it is not known. */
  snapshot(): Record<string, unknown> | null {
    if (!this.valid || this.changeId === null) return null;
    const side = (s: Side, desc: boolean) => [...s].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).map(([p, a]) => ['new', p, a]);
    return { type: 'snapshot', timestamp: this.timestamp + this.shift, instrument_name: this.instrument, change_id: this.changeId, bids: side(this.bids, true), asks: side(this.asks, false) };
  }
}

function applyEntries(side: Side, entries: unknown): void {
  if (!Array.isArray(entries)) return;
  for (const e of entries) {
    if (!Array.isArray(e) || e.length !== 3 || typeof e[1] !== 'number' || typeof e[2] !== 'number') continue;
    if (e[0] === 'delete' || e[2] === 0) side.delete(e[1]);
    else side.set(e[1], e[2]);
  }
}
