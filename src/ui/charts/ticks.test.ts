import { describe, expect, it } from 'vitest';
import { categoryStride, fittedTicks, labelSpacingPx, timeStepShowsSeconds, timeTicks } from './ticks.ts';

describe('axis ticks that fit the width', () => {
  it('strike ticks thin out as the plot narrows', () => {
    // BTC at 80,000, range 20 %: labels like "65,000" (6 characters) at 11 px.
    const laptop = fittedTicks(64_000, 96_000, 420, 6, 11);
    const phone = fittedTicks(64_000, 96_000, 280, 6, 11);
    expect(laptop).toEqual([65_000, 70_000, 75_000, 80_000, 85_000, 90_000, 95_000]);
    expect(phone).toEqual([70_000, 80_000, 90_000]);
    // At most `max` intervals however wide.
    expect(fittedTicks(64_000, 96_000, 4000, 6, 11, 10)).toEqual(laptop);
    for (const [ticks, px] of [[laptop, 420], [phone, 280]] as const) {
      // Spacing on screen between neighbouring ticks is at least what a label needs.
      const gapPx = ((ticks[1] - ticks[0]) / 32_000) * px;
      expect(gapPx).toBeGreaterThanOrEqual(labelSpacingPx(6, 11));
    }
    expect(fittedTicks(NaN, 96_000, 500, 6, 11)).toEqual([]);
  });

  it('hedge flow labels: the smallest stride that fits and still shows 0 %', () => {
    // 21 moves -10 % .. +10 %, 0 % at index 10, labels up to "-10%" (4 characters).
    expect(categoryStride(21, 1400, 4, 11, 10)).toBe(1);
    // A 1280-px laptop window left ~240 px: every 2nd overlapped ("-10%8%6%4%2%0%"), 4 would skip 0 %.
    expect(categoryStride(21, 240, 4, 11, 10)).toBe(5);
    expect(categoryStride(21, 500, 4, 11, 10)).toBe(2);
    expect(categoryStride(21, 100, 4, 11, 10)).toBe(10);
    // Too narrow even for -10 %, 0 %, +10 %: the first label alone.
    expect(categoryStride(21, 10, 4, 11, 10)).toBe(21);
    for (const px of [60, 120, 240, 320, 500, 900]) {
      const n = categoryStride(21, px, 4, 11, 10);
      if (n < 21) expect((n * px) / 21).toBeGreaterThanOrEqual(labelSpacingPx(4, 11));
    }
  });

  it('time ticks sit on round clock times and fit the width', () => {
    const t0 = Date.UTC(2026, 11, 4, 20, 0, 7);
    const hour = timeTicks(t0, t0 + 3_600_000, 300, 11);
    expect(hour.stepMs).toBe(600_000);
    expect(timeStepShowsSeconds(hour.stepMs)).toBe(false);
    expect(hour.ticks.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(['20:10', '20:20', '20:30', '20:40', '20:50', '21:00']);
    const minutes = timeTicks(t0, t0 + 120_000, 600, 11);
    expect(timeStepShowsSeconds(minutes.stepMs)).toBe(true);
    expect(minutes.ticks.every((t) => t % minutes.stepMs === 0)).toBe(true);
    // A 4K wall's larger type needs wider steps over the same span and width.
    expect(timeTicks(t0, t0 + 3_600_000, 300, 32).stepMs).toBeGreaterThan(hour.stepMs);
    expect(timeTicks(t0, t0, 300, 11).ticks).toEqual([]);
  });
});
