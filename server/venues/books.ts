/**
 * Snapshot-then-delta books, as the venue sources push them (the simulator: levelDiff, pushBook) and
 * fold them (a replay: applyLevels, sortedLevels). A book frame skipped under backpressure only makes
 * the next diff bigger: diffs are against what that session last received.
 */
import type { VenueSession } from './session.ts';

/** A level as the venues write it: price, size (text or numbers), venue extras. */
export type Level = readonly [string | number, string | number, ...unknown[]];

/** One side of a book as last sent: price -> size. */
export type SentSide<L extends Level> = ReadonlyMap<L[0], L[1]>;

/** A book as last sent to one session on one topic, and its sequence number. */
interface SentBook<L extends Level> {
  bids: SentSide<L>;
  asks: SentSide<L>;
  seq: number;
}

/** The levels of `now` that differ from `old`, plus `removed(px)` for prices no longer there. */
export function levelDiff<L extends Level>(old: SentSide<L>, now: readonly L[], removed: (px: L[0]) => L): L[] {
  const out: L[] = [];
  const seen = new Set<L[0]>();
  for (const l of now) {
    seen.add(l[0]);
    if (old.get(l[0]) !== l[1]) out.push(l);
  }
  for (const px of old.keys()) if (!seen.has(px)) out.push(removed(px));
  return out;
}

/**
 * Snapshot-then-delta book topics (Deribit `book.*`, OKX `books`, Bybit `orderbook.*`): the first frame a session gets
 * on `key` is a snapshot, later ones carry only the levels that changed since what this session last
 * received (so a frame skipped under backpressure only makes the next diff bigger). Nothing is sent
 * while `seq` is unchanged. With `gaps`, a pending `gap` fault lowers the delta's previous sequence.
 */
export function pushBook<L extends Level>(
  s: VenueSession,
  key: string,
  seq: number,
  levels: () => { bids: L[]; asks: L[] },
  o: {
    removed: (px: L[0]) => L;
    /**
     * The frame text; `full` is the whole book now (e.g. for a checksum), `sent` the book this session
     * last received (a delta's base: Deribit tells a new level from a changed one).
     */
    frame: (kind: 'snapshot' | 'delta', bids: L[], asks: L[], prevSeq: number, full: { bids: L[]; asks: L[] }, sent?: { bids: SentSide<L>; asks: SentSide<L> }) => string;
    gaps?: boolean;
    onGap?: () => void;
    /** The client tells a repeated frame by its sequence (Deribit's change_id): the `dup` fault acts on it (VenueSession.push). */
    dupsKnown?: boolean;
    /**
     * False: the venue pushes no snapshot (OKX since 2026: the client takes it over REST); the first
     * call only records the book the session's deltas start from.
     */
    snapshot?: boolean;
  },
): void {
  const prev = s.state.get(key) as SentBook<L> | undefined;
  if (prev && prev.seq === seq) return;
  if (!s.takesData()) return; // under backpressure: the next diff covers this one
  const lv = levels();
  const bids = new Map<L[0], L[1]>(lv.bids.map((l) => [l[0], l[1]]));
  const asks = new Map<L[0], L[1]>(lv.asks.map((l) => [l[0], l[1]]));
  if (!prev && o.snapshot === false) {
    s.state.set(key, { bids, asks, seq });
    return;
  }
  let text: string;
  if (!prev) text = o.frame('snapshot', lv.bids, lv.asks, -1, lv);
  else {
    let prevSeq = prev.seq;
    if (o.gaps && s.gapPending) {
      s.gapPending = false;
      prevSeq -= 3;
      o.onGap?.();
    }
    text = o.frame('delta', levelDiff(prev.bids, lv.bids, o.removed), levelDiff(prev.asks, lv.asks, o.removed), prevSeq, lv, prev);
  }
  if (s.push(key, text, true, o.dupsKnown)) s.state.set(key, { bids, asks, seq });
}

/** Sorted book side from a price -> level map (bids high to low, asks low to high). */
export function sortedLevels<L extends readonly string[]>(side: ReadonlyMap<string, L>, desc: boolean): L[] {
  return [...side.values()].sort((a, b) => (desc ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
}

/** Apply recorded levels to a price -> level map; a zero size removes the price. */
export function applyLevels<L extends readonly string[]>(side: Map<string, L>, levels: unknown): void {
  if (!Array.isArray(levels)) return;
  for (const l of levels) {
    if (!Array.isArray(l) || typeof l[0] !== 'string' || typeof l[1] !== 'string') continue;
    if (Number(l[1]) === 0) side.delete(l[0]);
    else side.set(l[0], l as unknown as L);
  }
}
