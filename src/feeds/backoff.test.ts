import { describe, expect, it } from 'vitest';
import { Backoff, backoffCeilingMs } from './backoff.ts';
import { mulberry32 } from '../shared/prng.ts';

describe('backoff', () => {
  it('ceiling doubles from 1 s and caps at 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40, 2000].map((n) => backoffCeilingMs(n))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000,
    ]);
  });

  it('each delay lies in [0, min(cap, base*2^n)] and the delays are not all equal', () => {
    const b = new Backoff({ random: mulberry32(7) });
    const delays: number[] = [];
    for (let n = 0; n < 12; n++) {
      const d = b.nextDelayMs();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(30_000, 1000 * 2 ** n));
      delays.push(d);
    }
    expect(new Set(delays).size).toBeGreaterThan(6);
    expect(b.attempts).toBe(12);
  });

  it('a random source of 0.999 gives close to the ceiling; bad sources give 0, never NaN', () => {
    const b = new Backoff({ random: () => 0.999 });
    b.nextDelayMs();
    b.nextDelayMs();
    expect(b.nextDelayMs()).toBe(3996);
    const bad = new Backoff({ random: () => NaN });
    expect(bad.nextDelayMs()).toBe(0);
  });

  it('resets only after 30 s of valid data on one connection', () => {
    const b = new Backoff({ random: () => 0.5 });
    for (let i = 0; i < 4; i++) b.nextDelayMs();
    expect(b.attempts).toBe(4);
    // A connection with data for 29 s: no reset.
    b.noteValidData(1_000);
    b.noteValidData(30_000);
    expect(b.attempts).toBe(4);
    b.noteDisconnected();
    // The next connection starts its own window: 10 s of data, then a new connection again.
    b.noteValidData(40_000);
    b.noteValidData(50_000);
    b.noteDisconnected();
    expect(b.nextDelayMs()).toBe(Math.floor(0.5 * 16_000));
    // A stable connection with 30 s of data resets it.
    b.noteValidData(100_000);
    b.noteValidData(130_000);
    expect(b.attempts).toBe(0);
    expect(b.nextDelayMs()).toBe(500);
  });
});
