/**
 * First line of defence for every venue frame: size before parse, parse without throwing, and small
 * readers that turn unknown JSON into checked numbers and strings or a drop reason. Nothing here
 * throws; bad input becomes a counted drop (shared/reliability.md §1.8).
 */

/** Why a frame (or a row of one) was dropped. Shown per venue in FeedHealth.dropped. */
export type DropReason =
  | 'oversize' // frame or array larger than its cap
  | 'malformed' // not JSON, or the wrong shape (missing field, wrong type)
  | 'badNumber' // non-finite, out of bounds (negative OI, iv <= 0 or > 1000 %, price <= 0, ...)
  | 'unknownChannel' // a notification on a channel we do not handle
  | 'unknownInstrument' // a ticker or row for an instrument we cannot parse (combos, other currencies)
  | 'bookGap' // prev_change_id did not match: the book is resubscribed
  | 'bookNoSnapshot' // a book change before any snapshot
  | 'notSubscribed' // a channel the venue did not acknowledge
  | 'stale' // older than what is already held (out of order)
  | 'duplicate'; // the same book change twice
// Venue-time refusals (futureTimestamp, badTimestamp) are counted by the host: src/feeds/venue-time.ts.

export type Read<T> = { ok: true; value: T } | { ok: false; reason: DropReason };

export const ok = <T>(value: T): Read<T> => ({ ok: true, value });
export const drop = <T = never>(reason: DropReason): Read<T> => ({ ok: false, reason });

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const decoder = typeof TextDecoder !== 'undefined' ? new TextDecoder('utf-8', { fatal: false }) : null;

/**
 * The frame's size in bytes without decoding: strings count UTF-16 units (a lower bound of the UTF-8
 * size, good enough to stop a 10 MB frame before JSON.parse), binary payloads their byte length.
 */
export function frameSize(data: unknown): number | null {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return null;
}

/**
 * Parse one websocket payload. Checks the size first (a huge frame is dropped unparsed), accepts text
 * or binary UTF-8, and never throws. `JSON.parse` turns `1e400` into Infinity: the field readers
 * below catch that.
 */
export function parseFrame(data: unknown, maxBytes: number): Read<unknown> {
  const size = frameSize(data);
  if (size === null) return drop('malformed');
  if (size > maxBytes) return drop('oversize');
  let text: string;
  if (typeof data === 'string') text = data;
  else if (decoder) text = decoder.decode(data as ArrayBuffer | ArrayBufferView);
  else return drop('malformed');
  try {
    return ok(JSON.parse(text) as unknown);
  } catch {
    return drop('malformed');
  }
}

export interface NumberBounds {
  /** Exclusive lower bound. */
  gt?: number;
  /** Inclusive lower bound. */
  ge?: number;
  /** Inclusive upper bound. */
  le?: number;
}

function checkNumber(v: unknown, bounds: NumberBounds | undefined): Read<number> {
  if (typeof v !== 'number') return drop(typeof v === 'string' ? 'badNumber' : 'malformed');
  if (!Number.isFinite(v)) return drop('badNumber');
  if (bounds) {
    if (bounds.gt !== undefined && !(v > bounds.gt)) return drop('badNumber');
    if (bounds.ge !== undefined && !(v >= bounds.ge)) return drop('badNumber');
    if (bounds.le !== undefined && !(v <= bounds.le)) return drop('badNumber');
  }
  return ok(v);
}

/** A required finite number within bounds. Missing -> malformed; NaN-like string, Infinity, out of bounds -> badNumber. */
export function readNumber(o: Record<string, unknown>, key: string, bounds?: NumberBounds): Read<number> {
  if (!(key in o) || o[key] === null || o[key] === undefined) return drop('malformed');
  return checkNumber(o[key], bounds);
}

/** An optional number: missing or null -> null; present but bad -> a drop reason. */
export function readOptionalNumber(o: Record<string, unknown>, key: string, bounds?: NumberBounds): Read<number | null> {
  const v = o[key];
  if (v === undefined || v === null) return ok(null);
  return checkNumber(v, bounds);
}

/** Positive finite price, > 0. */
export function readPrice(o: Record<string, unknown>, key: string): Read<number> {
  return readNumber(o, key, { gt: 0 });
}

/** A venue timestamp in epoch ms: plausible range 2001..5138, so seconds or microseconds are caught. */
export const TIMESTAMP_BOUNDS: NumberBounds = { gt: 1e12, le: 1e14 };
export function readTimestampMs(o: Record<string, unknown>, key: string): Read<number> {
  return readNumber(o, key, TIMESTAMP_BOUNDS);
}

/** A required non-empty string of bounded length. */
export function readString(o: Record<string, unknown>, key: string, maxLength = 256): Read<string> {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) return drop('malformed');
  return ok(v);
}

/** Adds one to `counts[reason]`; the shape FeedHealth.dropped uses. */
export function countDrop(counts: Record<string, number>, reason: string, n = 1): void {
  counts[reason] = (counts[reason] ?? 0) + n;
}
