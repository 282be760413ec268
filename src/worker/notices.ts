/**
 * Notices to the page, at most one per key every 10 s: a venue error repeated on every reconnect, or a
 * handler failing on every frame, is read once, not as a flood.
 */
import type { Clock } from '../shared/clock.ts';

const NOTICE_MIN_SPACING_MS = 10_000;
const MAX_KEYS = 500;

export type NoticeLevel = 'info' | 'warn' | 'error';

export class NoticeThrottle {
  private readonly lastAt = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly send: (level: NoticeLevel, message: string) => void,
  ) {}

  notice(level: NoticeLevel, message: string, key = message): void {
    const now = this.clock.now();
    const last = this.lastAt.get(key);
    if (last !== undefined && now - last < NOTICE_MIN_SPACING_MS) return;
    this.lastAt.set(key, now);
    if (this.lastAt.size > MAX_KEYS) this.lastAt.clear();
    this.send(level, message);
  }
}

/** A thrown value as one line for a notice (never throws itself). */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return 'unprintable error';
  }
}
