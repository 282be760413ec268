import { describe, expect, it } from 'vitest';
import { plotArea, xLabelTop, yLabelTop } from './canvas.tsx';
import { chartStyle } from './style.ts';

/** The type sizes of the layouts: desk and phone (11 px), a 1080p wall (16 px), a 4K wall (32 px). */
const STYLES = [chartStyle(false, 1), chartStyle(true, 1), chartStyle(true, 2)];

describe('axis labels stay inside their chart', () => {
  for (const s of STYLES) {
    const fs = s.fontSize;
    it(`y labels at ${fs} px: on the plot's top and bottom grid lines, beyond them, in a chart barely taller than a label`, () => {
      for (const height of [150, 190, 183.55, fs, fs + 1, Math.ceil(fs * 1.2)]) {
        const plot = plotArea(400, height, s);
        for (const at of [plot.y, plot.y + plot.h, 0, height, -50, height + 50, fs * 0.55, height - fs * 0.55]) {
          const top = yLabelTop(at, fs, height);
          expect(top, `tick at ${at} in ${height}`).toBeGreaterThanOrEqual(0);
          expect(top + fs, `tick at ${at} in ${height}`).toBeLessThanOrEqual(height);
        }
      }
    });

    it(`y labels at ${fs} px sit centred on their grid line wherever that fits`, () => {
      const plot = plotArea(400, 190, s);
      for (const at of [plot.y, plot.y + plot.h / 2, plot.y + plot.h]) {
        if (at < fs / 2 || at > 190 - fs / 2) continue;
        expect(yLabelTop(at, fs, 190) + fs / 2).toBe(at);
      }
      // The walls' top margin is exactly half a label: the top label touches the chart's edge, centred.
      if (s.margin.top * 2 === fs) expect(yLabelTop(plot.y, fs, 190)).toBe(0);
    });

    it(`x labels at ${fs} px: under the plot, above the chart's bottom edge`, () => {
      for (const height of [150, 190, fs + 10]) {
        const plot = plotArea(400, height, s);
        const top = xLabelTop({ width: 400, height, plot, xTicks: [], yTicks: [] }, fs);
        expect(top + fs).toBeLessThanOrEqual(height);
        if (height >= 150) expect(top).toBeGreaterThanOrEqual(plot.y + plot.h);
      }
    });
  }
});
